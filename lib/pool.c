/* libguestkit: storage pools.
 *
 * A pool is its libvirt-compatible XML definition in the state directory,
 * STATE/pools/NAME.xml, plus two flag files: NAME.active (started) and
 * NAME.autostart.  Every operation on a pool holds an exclusive lock on
 * STATE/pools/NAME.lock (flock), so concurrent processes are safe.  The
 * work is done by the pool type's backend (pools/pool-backend.h).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "internal.h"
#include "pool-xml.h"
#include "pool-internal.h"

int
gk_set_state_dir (gk_h *h, const char *dir)
{
  char *copy;

  trace (h, "gk_set_state_dir \"%s\"", dir ? dir : "(default)");
  if (dir && dir[0] != '/') {
    error_errno (h, EINVAL, "set_state_dir: ‘%s’ is not an absolute path",
                 dir);
    return -1;
  }
  copy = dir ? strdup (dir) : NULL;
  if (dir && copy == NULL) {
    perrorf (h, "set_state_dir");
    return -1;
  }
  free (h->state_dir);
  h->state_dir = copy;
  return 0;
}

const char *
gk_get_state_dir (gk_h *h)
{
  const char *env, *home;

  if (h->state_dir)
    return h->state_dir;
  env = getenv ("GUESTKIT_STATE_DIR");
  if (env && env[0] == '/')
    h->state_dir = strdup (env);
  else if (geteuid () == 0)
    h->state_dir = strdup ("/var/lib/guestkit");
  else if ((env = getenv ("XDG_DATA_HOME")) && env[0] == '/') {
    if (asprintf (&h->state_dir, "%s/guestkit", env) == -1)
      h->state_dir = NULL;
  }
  else {
    home = getenv ("HOME");
    if (asprintf (&h->state_dir, "%s/.local/share/guestkit",
                  home ? home : "") == -1)
      h->state_dir = NULL;
  }
  return h->state_dir;
}

/* STATE/pools/NAME.EXT, creating STATE/pools if needed. */
char *
gk_int_pool_file (gk_h *h, const char *name, const char *ext)
{
  const char *state = gk_get_state_dir (h);
  char *dir, *path;

  if (state == NULL) {
    perrorf (h, "state directory");
    return NULL;
  }
  if (asprintf (&dir, "%s/pools", state) == -1) {
    perrorf (h, "state directory");
    return NULL;
  }
  if (mkdir (state, 0700) == -1 && errno != EEXIST) {
    perrorf (h, "mkdir: %s", state);
    free (dir);
    return NULL;
  }
  if (mkdir (dir, 0700) == -1 && errno != EEXIST) {
    perrorf (h, "mkdir: %s", dir);
    free (dir);
    return NULL;
  }
  if (name == NULL)
    return dir;
  if (asprintf (&path, "%s/%s%s", dir, name, ext) == -1) {
    perrorf (h, "state directory");
    path = NULL;
  }
  free (dir);
  return path;
}

int
gk_int_pool_lock (gk_h *h, const char *name)
{
  CLEANUP_FREE char *path = gk_int_pool_file (h, name, ".lock");
  int fd;

  if (path == NULL)
    return -1;
  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd == -1) {
    perrorf (h, "open: %s", path);
    return -1;
  }
  while (flock (fd, LOCK_EX) == -1) {
    if (errno != EINTR) {
      perrorf (h, "flock: %s", path);
      close (fd);
      return -1;
    }
  }
  return fd;
}

void
gk_int_pool_unlock (int fd)
{
  if (fd >= 0)
    close (fd);                 /* releases the flock */
}

static bool
flag_file (gk_h *h, const char *name, const char *ext)
{
  CLEANUP_FREE char *path = gk_int_pool_file (h, name, ext);

  return path && access (path, F_OK) == 0;
}

static int
set_flag_file (gk_h *h, const char *name, const char *ext, bool on)
{
  CLEANUP_FREE char *path = gk_int_pool_file (h, name, ext);
  int fd;

  if (path == NULL)
    return -1;
  if (!on) {
    if (unlink (path) == -1 && errno != ENOENT) {
      perrorf (h, "unlink: %s", path);
      return -1;
    }
    return 0;
  }
  fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd == -1) {
    perrorf (h, "open: %s", path);
    return -1;
  }
  close (fd);
  return 0;
}

bool
gk_int_pool_active (gk_h *h, const char *name)
{
  return flag_file (h, name, ".active");
}

/* Read a pool's definition.  ENOENT: no such pool. */
struct pool_def *
gk_int_load_pool (gk_h *h, const char *name,
                  const struct pool_backend **backend_rtn)
{
  CLEANUP_FREE char *path = NULL;
  CLEANUP_FREE char *xml = NULL;
  CLEANUP_FCLOSE FILE *fp = NULL;
  struct pool_def *def;
  size_t n = 0;

  if (gk_int_check_name (h, "pool", name) == -1)
    return NULL;
  path = gk_int_pool_file (h, name, ".xml");
  if (path == NULL)
    return NULL;
  fp = fopen (path, "r");
  if (fp == NULL) {
    if (errno == ENOENT)
      error_errno (h, ENOENT, "no storage pool called ‘%s’", name);
    else
      perrorf (h, "open: %s", path);
    return NULL;
  }
  if (getdelim (&xml, &n, '\0', fp) == -1) {
    perrorf (h, "read: %s", path);
    return NULL;
  }
  def = gk_int_parse_pool_xml (h, xml);
  if (def == NULL)
    return NULL;
  if (backend_rtn) {
    if (!pool_backend_known (def->type)) {
      error_errno (h, ENOTSUP, "pool ‘%s’: type ‘%s’ is not supported by "
                   "this build", name, def->type);
      gk_int_free_pool_def (def);
      return NULL;
    }
    *backend_rtn = pool_backend_get (h, def->type);
    if (*backend_rtn == NULL) {   /* its module cannot be loaded */
      gk_int_free_pool_def (def);
      return NULL;
    }
  }
  return def;
}

/* Write a file atomically: a temporary file renamed over the old one. */
static int
write_file_atomic (gk_h *h, const char *path, const char *content)
{
  CLEANUP_FREE char *tmp = NULL;
  size_t len = strlen (content);
  int fd;

  if (asprintf (&tmp, "%s.tmp.%d", path, (int) getpid ()) == -1) {
    perrorf (h, "write");
    return -1;
  }
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1) {
    perrorf (h, "open: %s", tmp);
    return -1;
  }
  if (write (fd, content, len) != (ssize_t) len || fsync (fd) == -1) {
    perrorf (h, "write: %s", tmp);
    close (fd);
    unlink (tmp);
    return -1;
  }
  close (fd);
  if (rename (tmp, path) == -1) {
    perrorf (h, "rename: %s", path);
    unlink (tmp);
    return -1;
  }
  return 0;
}

/* A random (version 4) UUID, also for virt-clone's new domains. */
char *
gk_int_random_uuid (gk_h *h)
{
  unsigned char b[16];
  char *ret;
  int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);

  if (fd == -1 || read (fd, b, sizeof b) != (ssize_t) sizeof b) {
    perrorf (h, "/dev/urandom");
    if (fd >= 0)
      close (fd);
    return NULL;
  }
  close (fd);
  b[6] = (b[6] & 0x0f) | 0x40;  /* version 4 */
  b[8] = (b[8] & 0x3f) | 0x80;  /* RFC 4122 variant */
  if (asprintf (&ret, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                "%02x%02x%02x%02x%02x%02x",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
                b[10], b[11], b[12], b[13], b[14], b[15]) == -1) {
    perrorf (h, "uuid");
    return NULL;
  }
  return ret;
}

/* lvm pools (libvirt's logical) get the defaults libvirt fills in: the
 * VG is the pool's name, the target /dev/VG, the format lvm2.  A source
 * name "VG/THINPOOL" (gk_pool_define) names a thin pool in the VG.
 */
static int
lvm_defaults (gk_h *h, struct pool_def *def)
{
  char *slash;

  if (def->source_name && (slash = strchr (def->source_name, '/')) != NULL) {
    if (def->thin_pool) {
      error_errno (h, EINVAL, "pool ‘%s’: the thin pool is given twice",
                   def->name);
      return -1;
    }
    def->thin_pool = strdup (slash + 1);
    if (def->thin_pool == NULL)
      goto oom;
    *slash = '\0';
  }
  if (def->source_name == NULL &&
      (def->source_name = strdup (def->name)) == NULL)
    goto oom;
  if (def->target_path == NULL &&
      asprintf (&def->target_path, "/dev/%s", def->source_name) == -1) {
    def->target_path = NULL;
    goto oom;
  }
  if (def->source_format == NULL &&
      (def->source_format = strdup ("lvm2")) == NULL)
    goto oom;
  return 0;
 oom:
  perrorf (h, "pool_define");
  return -1;
}

static int
define_def (gk_h *h, struct pool_def *def)
{
  const struct pool_backend *backend = pool_backend_get (h, def->type);
  CLEANUP_FREE char *path = NULL, *xml = NULL;
  int lock, r = -1;

  if (backend == NULL)
    return -1;
  if (strcmp (def->type, "lvm") == 0 && lvm_defaults (h, def) == -1)
    return -1;
  if (backend->check_def && backend->check_def (h, def) == -1)
    return -1;
  if (def->uuid == NULL && (def->uuid = gk_int_random_uuid (h)) == NULL)
    return -1;
  lock = gk_int_pool_lock (h, def->name);
  if (lock == -1)
    return -1;
  path = gk_int_pool_file (h, def->name, ".xml");
  if (path == NULL)
    goto out;
  if (access (path, F_OK) == 0) {
    error_errno (h, EEXIST, "pool ‘%s’ already exists", def->name);
    goto out;
  }
  xml = gk_int_format_pool_xml (h, def, NULL);
  if (xml == NULL || write_file_atomic (h, path, xml) == -1)
    goto out;
  debug (h, "defined pool %s (%s) in %s", def->name, def->type, path);
  r = 0;
 out:
  gk_int_pool_unlock (lock);
  return r;
}

int
gk_pool_define_xml (gk_h *h, const char *xml)
{
  struct pool_def *def;
  int r;

  trace (h, "gk_pool_define_xml");
  def = gk_int_parse_pool_xml (h, xml);
  if (def == NULL)
    return -1;
  r = define_def (h, def);
  gk_int_free_pool_def (def);
  return r;
}

static int
dup_param (gk_h *h, char **dst, const char *src)
{
  if (src == NULL || *src == '\0')
    return 0;
  *dst = strdup (src);
  if (*dst == NULL) {
    perrorf (h, "pool_define");
    return -1;
  }
  return 0;
}

/* A libvirt secret UUID (8-4-4-4-12 hex digits), as virsh --secret-uuid. */
static bool
is_uuid (const char *s)
{
  size_t i;

  if (strlen (s) != 36)
    return false;
  for (i = 0; i < 36; ++i)
    if ((i == 8 || i == 13 || i == 18 || i == 23)
        ? s[i] != '-' : !isxdigit ((unsigned char) s[i]))
      return false;
  return true;
}

/* "HOST[:PORT]" into host. */
static int
parse_host (gk_h *h, const char *s, size_t len, struct pool_host *host)
{
  const char *colon = memrchr (s, ':', len);

  if (colon && memchr (colon, ']', len - (colon - s)))
    colon = NULL;               /* [IPv6] without a port */
  host->name = strndup (s, colon ? (size_t) (colon - s) : len);
  if (host->name == NULL) {
    perrorf (h, "pool_define");
    return -1;
  }
  if (colon) {
    CLEANUP_FREE char *port = strndup (colon + 1, len - (colon + 1 - s));
    char *end;
    long v;

    if (port == NULL) {
      perrorf (h, "pool_define");
      return -1;
    }
    v = strtol (port, &end, 10);
    if (*port == '\0' || *end || v <= 0 || v > 65535) {
      error_errno (h, EINVAL, "source host ‘%.*s’: bad port", (int) len, s);
      return -1;
    }
    host->port = v;
  }
  return 0;
}

int
gk_pool_define (gk_h *h, const char *type, const char *name,
                const struct gk_pool_params *p)
{
  static const struct gk_pool_params none;
  struct pool_def *def;
  const char *s;
  size_t n;
  int r = -1;

  trace (h, "gk_pool_define %s %s", type, name);
  if (p == NULL)
    p = &none;
  if (gk_int_check_name (h, "pool", name) == -1)
    return -1;
  /* virsh's type names are accepted too: "logical", "iscsi-direct". */
  if (gk_int_pool_type (type))
    type = gk_int_pool_type (type);
  if (!pool_backend_known (type)) {
    error_errno (h, ENOTSUP, "unknown pool type ‘%s’ (dir, lvm, iscsi, rbd)",
                 type);
    return -1;
  }
  def = calloc (1, sizeof *def);
  if (def == NULL) {
    perrorf (h, "pool_define");
    return -1;
  }
  /* Several devices (lvm PVs) and hosts (rbd monitors): comma-separated. */
  n = 1;
  for (s = p->source_path; s && *s; ++s)
    n += *s == ',';
  def->source_devices = calloc (n + 1, sizeof (char *));
  if (def->source_devices == NULL ||
      dup_param (h, &def->type, type) == -1 ||
      dup_param (h, &def->name, name) == -1 ||
      dup_param (h, &def->target_path, p->target) == -1 ||
      dup_param (h, &def->source_name, p->source_name) == -1 ||
      dup_param (h, &def->source_format, p->source_format) == -1 ||
      dup_param (h, &def->auth_type, p->auth_type) == -1 ||
      dup_param (h, &def->auth_username, p->auth_username) == -1 ||
      dup_param (h, &def->initiator_iqn, p->initiator) == -1)
    goto out;
  if (p->auth_secret && is_uuid (p->auth_secret)) {
    if (dup_param (h, &def->auth_secret_uuid, p->auth_secret) == -1)
      goto out;
  }
  else if (dup_param (h, &def->auth_secret_usage, p->auth_secret) == -1)
    goto out;
  for (n = 0, s = p->source_path; s && *s; n++) {
    size_t len = strcspn (s, ",");

    if (len == 0) {
      error_errno (h, EINVAL, "source path ‘%s’: empty device", p->source_path);
      goto out;
    }
    def->source_devices[n] = strndup (s, len);
    if (def->source_devices[n] == NULL) {
      perrorf (h, "pool_define");
      goto out;
    }
    s += len + (s[len] == ',');
  }
  if (p->source_host && *p->source_host) {
    n = 1;
    for (s = p->source_host; *s; ++s)
      n += *s == ',';
    def->hosts = calloc (n, sizeof *def->hosts);
    if (def->hosts == NULL) {
      perrorf (h, "pool_define");
      goto out;
    }
    for (s = p->source_host; *s; ) {
      size_t len = strcspn (s, ",");

      if (len == 0) {
        error_errno (h, EINVAL, "source host ‘%s’: empty host name",
                     p->source_host);
        goto out;
      }
      if (parse_host (h, s, len, &def->hosts[def->nr_hosts++]) == -1)
        goto out;
      s += len + (s[len] == ',');
    }
  }
  r = define_def (h, def);
 out:
  gk_int_free_pool_def (def);
  return r;
}

/* Run fn on a locked pool: the common frame of every pool operation. */
typedef int (*pool_op) (gk_h *h, const char *name, struct pool_def *def,
                        const struct pool_backend *b, void *arg);

int
gk_int_with_pool (gk_h *h, const char *name, pool_op fn, void *arg)
{
  const struct pool_backend *backend;
  struct pool_def *def;
  int lock, r;

  if (gk_int_check_name (h, "pool", name) == -1)
    return -1;
  lock = gk_int_pool_lock (h, name);
  if (lock == -1)
    return -1;
  def = gk_int_load_pool (h, name, &backend);
  if (def == NULL) {
    gk_int_pool_unlock (lock);
    return -1;
  }
  r = fn (h, name, def, backend, arg);
  gk_int_free_pool_def (def);
  gk_int_pool_unlock (lock);
  return r;
}

static int
not_supported (gk_h *h, const struct pool_def *def, const char *what)
{
  error_errno (h, ENOTSUP, "%s pools do not support %s", def->type, what);
  return -1;
}

int
gk_int_require_active (gk_h *h, const char *name)
{
  if (!gk_int_pool_active (h, name)) {
    error_errno (h, EINVAL, "pool ‘%s’ is not active (start it first)", name);
    return -1;
  }
  return 0;
}

static int
undefine_op (gk_h *h, const char *name, struct pool_def *def,
             const struct pool_backend *b, void *arg)
{
  CLEANUP_FREE char *xml = gk_int_pool_file (h, name, ".xml");

  if (gk_int_pool_active (h, name)) {
    error_errno (h, EBUSY, "pool ‘%s’ is active: stop it first", name);
    return -1;
  }
  if (xml == NULL || set_flag_file (h, name, ".autostart", false) == -1)
    return -1;
  if (unlink (xml) == -1) {
    perrorf (h, "unlink: %s", xml);
    return -1;
  }
  return 0;
}

int
gk_pool_undefine (gk_h *h, const char *name)
{
  trace (h, "gk_pool_undefine %s", name);
  return gk_int_with_pool (h, name, undefine_op, NULL);
}

static int
build_op (gk_h *h, const char *name, struct pool_def *def,
          const struct pool_backend *b, void *arg)
{
  if (b->build == NULL)
    return not_supported (h, def, "build");
  return b->build (h, def, *(unsigned *) arg);
}

int
gk_pool_build (gk_h *h, const char *name, unsigned flags)
{
  trace (h, "gk_pool_build %s %u", name, flags);
  return gk_int_with_pool (h, name, build_op, &flags);
}

static int
start_op (gk_h *h, const char *name, struct pool_def *def,
          const struct pool_backend *b, void *arg)
{
  uint64_t c, a, v;

  if (gk_int_pool_active (h, name)) {
    error_errno (h, EBUSY, "pool ‘%s’ is already active", name);
    return -1;
  }
  if (b->start && b->start (h, def) == -1)
    return -1;
  /* A pool that cannot be refreshed is not usable: do not mark it. */
  if (b->refresh (h, def, &c, &a, &v) == -1) {
    if (b->stop)
      b->stop (h, def);
    return -1;
  }
  return set_flag_file (h, name, ".active", true);
}

int
gk_pool_start (gk_h *h, const char *name)
{
  trace (h, "gk_pool_start %s", name);
  return gk_int_with_pool (h, name, start_op, NULL);
}

static int
stop_op (gk_h *h, const char *name, struct pool_def *def,
         const struct pool_backend *b, void *arg)
{
  if (gk_int_require_active (h, name) == -1)
    return -1;
  if (b->stop && b->stop (h, def) == -1)
    return -1;
  return set_flag_file (h, name, ".active", false);
}

int
gk_pool_stop (gk_h *h, const char *name)
{
  trace (h, "gk_pool_stop %s", name);
  return gk_int_with_pool (h, name, stop_op, NULL);
}

static int
refresh_op (gk_h *h, const char *name, struct pool_def *def,
            const struct pool_backend *b, void *arg)
{
  uint64_t c, a, v;

  if (gk_int_require_active (h, name) == -1)
    return -1;
  return b->refresh (h, def, &c, &a, &v);
}

int
gk_pool_refresh (gk_h *h, const char *name)
{
  trace (h, "gk_pool_refresh %s", name);
  return gk_int_with_pool (h, name, refresh_op, NULL);
}

/* The pool's temporary volumes: under the lock no operation of ours is
 * running, so each one is what a killed copy left behind.
 */
static int
leftovers_op (gk_h *h, const char *name, struct pool_def *def,
              const struct pool_backend *b, void *arg)
{
  char ***names = arg;
  size_t i, j;

  if (gk_int_require_active (h, name) == -1 ||
      b->vol_list (h, def, names) == -1)
    return -1;
  for (i = j = 0; (*names)[i]; ++i) {
    if (gk_int_is_tmp_name ((*names)[i]))
      (*names)[j++] = (*names)[i];
    else
      free ((*names)[i]);
  }
  (*names)[j] = NULL;
  return 0;
}

char **
gk_pool_list_leftovers (gk_h *h, const char *name)
{
  char **names = NULL;

  trace (h, "gk_pool_list_leftovers %s", name);
  if (gk_int_with_pool (h, name, leftovers_op, &names) == -1) {
    free_string_list (names);
    return NULL;
  }
  return names;
}

static int
clean_op (gk_h *h, const char *name, struct pool_def *def,
          const struct pool_backend *b, void *arg)
{
  CLEANUP_FREE_STRING_LIST char **names = NULL;
  int *count = arg;
  size_t i;

  if (leftovers_op (h, name, def, b, &names) == -1)
    return -1;
  if (names[0] && b->vol_delete == NULL)
    return not_supported (h, def, "volume deletion");
  for (i = 0; names[i]; ++i) {
    debug (h, "pool %s: removing leftover %s", name, names[i]);
    if (b->vol_delete (h, def, names[i]) == -1)
      return -1;
    (*count)++;
  }
  return 0;
}

int
gk_pool_clean (gk_h *h, const char *name)
{
  int count = 0;

  trace (h, "gk_pool_clean %s", name);
  if (gk_int_with_pool (h, name, clean_op, &count) == -1)
    return -1;
  return count;
}

static int
delete_op (gk_h *h, const char *name, struct pool_def *def,
           const struct pool_backend *b, void *arg)
{
  if (gk_int_pool_active (h, name)) {
    error_errno (h, EBUSY, "pool ‘%s’ is active: stop it first", name);
    return -1;
  }
  if (b->delete_pool == NULL)
    return not_supported (h, def, "pool deletion");
  return b->delete_pool (h, def);
}

int
gk_pool_delete (gk_h *h, const char *name)
{
  trace (h, "gk_pool_delete %s", name);
  return gk_int_with_pool (h, name, delete_op, NULL);
}

char **
gk_pool_list (gk_h *h)
{
  CLEANUP_FREE char *dir = NULL;
  string_vector names = empty_vector;
  DIR *d;
  struct dirent *e;

  trace (h, "gk_pool_list");
  dir = gk_int_pool_file (h, NULL, NULL);
  if (dir == NULL)
    return NULL;
  d = opendir (dir);
  if (d == NULL) {
    perrorf (h, "opendir: %s", dir);
    return NULL;
  }
  while ((e = readdir (d)) != NULL) {
    size_t len = strlen (e->d_name);
    char *name;

    if (len <= 4 || strcmp (e->d_name + len - 4, ".xml") != 0 ||
        e->d_name[0] == '.')
      continue;
    name = strndup (e->d_name, len - 4);
    if (name == NULL || string_vector_append (&names, name) == -1) {
      perrorf (h, "pool_list");
      free (name);
      closedir (d);
      string_vector_free_all (&names);
      return NULL;
    }
  }
  closedir (d);
  if (string_vector_terminate (&names) == -1) {
    perrorf (h, "pool_list");
    string_vector_free_all (&names);
    return NULL;
  }
  qsort (names.ptr, names.len, sizeof (char *), compare_strings);
  return names.ptr;
}

void
gk_free_pool_info (struct gk_pool_info *info)
{
  if (info == NULL)
    return;
  free (info->name);
  free (info->type);
  free (info->uuid);
  free (info);
}

static int
info_op (gk_h *h, const char *name, struct pool_def *def,
         const struct pool_backend *b, void *arg)
{
  struct gk_pool_info *info = arg;

  info->name = strdup (def->name);
  info->type = strdup (def->type);
  info->uuid = def->uuid ? strdup (def->uuid) : strdup ("");
  if (info->name == NULL || info->type == NULL || info->uuid == NULL) {
    perrorf (h, "pool_info");
    return -1;
  }
  info->persistent = 1;
  info->autostart = flag_file (h, name, ".autostart");
  info->state = gk_int_pool_active (h, name) ? GK_POOL_RUNNING
    : GK_POOL_INACTIVE;
  if (info->state == GK_POOL_RUNNING &&
      b->refresh (h, def, &info->capacity, &info->allocation,
                  &info->available) == -1)
    return -1;
  return 0;
}

struct gk_pool_info *
gk_pool_get_info (gk_h *h, const char *name)
{
  struct gk_pool_info *info;

  trace (h, "gk_pool_get_info %s", name);
  info = calloc (1, sizeof *info);
  if (info == NULL) {
    perrorf (h, "pool_info");
    return NULL;
  }
  if (gk_int_with_pool (h, name, info_op, info) == -1) {
    gk_free_pool_info (info);
    return NULL;
  }
  return info;
}

struct xml_arg { struct gk_pool_info info; char *xml; };

static int
xml_op (gk_h *h, const char *name, struct pool_def *def,
        const struct pool_backend *b, void *arg)
{
  struct xml_arg *x = arg;

  if (info_op (h, name, def, b, &x->info) == -1)
    return -1;
  x->xml = gk_int_format_pool_xml (h, def, &x->info);
  return x->xml ? 0 : -1;
}

char *
gk_pool_get_xml (gk_h *h, const char *name)
{
  struct xml_arg x = { .xml = NULL };

  trace (h, "gk_pool_get_xml %s", name);
  gk_int_with_pool (h, name, xml_op, &x);
  free (x.info.name);
  free (x.info.type);
  free (x.info.uuid);
  return x.xml;
}

static int
autostart_op (gk_h *h, const char *name, struct pool_def *def,
              const struct pool_backend *b, void *arg)
{
  return set_flag_file (h, name, ".autostart", *(int *) arg != 0);
}

int
gk_pool_set_autostart (gk_h *h, const char *name, int autostart)
{
  trace (h, "gk_pool_set_autostart %s %d", name, autostart);
  return gk_int_with_pool (h, name, autostart_op, &autostart);
}
