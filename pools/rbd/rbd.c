/* guestkit: the rbd pool backend (Ceph RADOS block devices).
 *
 * A pool is a RADOS pool (<source><name>) on a Ceph cluster reached
 * through its monitors (<source><host>); a volume is an RBD image in it,
 * always raw.  Everything goes through librados/librbd: no krbd, no
 * `rbd` command, so the cephx key is never put on a command line.  It is
 * read from a keyring file (<secret usage='file:/path'>, the "key = ..."
 * line) or an environment variable holding the base64 key
 * (<secret usage='env:VAR'>) and handed to librados with rados_conf_set.
 *
 * Each operation connects, works and disconnects (struct conn): a pool
 * definition may change between calls and a guestkit command is short
 * lived, so a cached connection would buy nothing (a block-level disk,
 * vol_open_disk, keeps its connection until it is closed).  The client
 * timeouts are bounded (10 s) so an unreachable cluster fails in one
 * clear line naming the monitors instead of hanging.
 *
 * Clones: within the same RADOS pool a clone is layered (snapshot
 * "guestkit-clone-DST" on the source, protected, rbd_clone): O(1), and
 * that is what GK_VOL_CLONE_LINKED asks for.  Without the flag the
 * layered clone is flattened at once (a full, independent copy, sparse
 * at object granularity because only the parent's existing objects are
 * copied up) and the snapshot removed.  From a local raw file or another
 * rbd pool the data is copied sparsely: only the source's data extents
 * are read, and all-zero blocks are not written.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <linux/fs.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#include "internal.h"
#include "pool-internal.h"
#include "modules.h"
#include "cleanups.h"
#include "disk-internal.h"

#define DEFAULT_PORT 6789
#define TIMEOUT "10"                        /* seconds, see conn_open */
#define CLONE_SNAP_PREFIX "guestkit-clone-"
#define UPLOAD_SNAP "guestkit-upload"       /* the state before an upload */
#define BLOCK (64 * 1024)                   /* zero detection granularity */
#define CHUNK (4 * 1024 * 1024)             /* one read/write at a time */

/* One connection to the cluster and the pool's I/O context. */
struct conn {
  rados_t cluster;
  rados_ioctx_t io;
  bool have_cluster, have_io;
};

static void
conn_close (struct conn *c)
{
  if (c->have_io)
    rados_ioctx_destroy (c->io);
  if (c->have_cluster)
    rados_shutdown (c->cluster);
  c->have_io = c->have_cluster = false;
}

/* "host:port,host:port", for messages and comparisons; with proto, the
 * value of mon_host: each address marked v1 or v2.  A bare address with
 * a port other than 3300 would be tried as msgr2 first (noise on stderr
 * and a slower connect), but libvirt's port, 6789, is the v1 port.
 */
static char *
mon_hosts (gk_h *h, const struct pool_def *def, bool proto)
{
  char *s = NULL;
  size_t len = 0, i;
  FILE *fp = open_memstream (&s, &len);

  if (fp == NULL) {
    perrorf (h, "rbd pool");
    return NULL;
  }
  for (i = 0; i < def->nr_hosts; ++i) {
    const char *n = def->hosts[i].name;
    /* An IPv6 address needs brackets before the port. */
    bool v6 = strchr (n, ':') != NULL && n[0] != '[';
    int port = def->hosts[i].port > 0 ? def->hosts[i].port : DEFAULT_PORT;

    fprintf (fp, "%s%s%s%s%s:%d", i > 0 ? "," : "",
             !proto ? "" : port == 3300 ? "v2:" : "v1:",
             v6 ? "[" : "", n, v6 ? "]" : "", port);
  }
  if (fclose (fp) == EOF) {
    perrorf (h, "rbd pool");
    free (s);
    return NULL;
  }
  return s;
}

/* Like CLEANUP_FREE, but the secret does not outlive its use in memory
 * that malloc hands out again.
 */
static void
cleanup_secret (char **p)
{
  if (*p) {
    explicit_bzero (*p, strlen (*p));
    free (*p);
  }
}
#define CLEANUP_SECRET __attribute__ ((cleanup (cleanup_secret)))

/* The cephx key, from "env:VAR" or "file:/path" (a keyring file: the
 * "key = ..." line of its [client.USERNAME] section, or its first one
 * if it has no sections).  Never logged.
 */
static char *
read_key (gk_h *h, const struct pool_def *def)
{
  const char *usage = def->auth_secret_usage;

  if (usage == NULL) {
    error_errno (h, ENOTSUP, "rbd pool ‘%s’: the cephx key is the libvirt "
                 "secret %s, which guestkit cannot read: use <secret "
                 "usage='env:VAR'> or usage='file:/KEYRING'", def->name,
                 def->auth_secret_uuid ? def->auth_secret_uuid : "(none)");
    return NULL;
  }
  /* The environment: for callers that hold the key already. */
  if (strncmp (usage, "env:", 4) == 0) {
    const char *v = getenv (usage + 4);
    char *key;

    if (v == NULL || *v == '\0') {
      error_errno (h, ENOENT, "rbd pool ‘%s’: environment variable %s "
                   "(the cephx key) is not set", def->name, usage + 4);
      return NULL;
    }
    key = strdup (v);
    if (key == NULL)
      perrorf (h, "rbd pool");
    return key;
  }
  if (strncmp (usage, "file:", 5) == 0) {
    const char *path = usage + 5;
    FILE *fp = fopen (path, "re");
    CLEANUP_SECRET char *line = NULL;
    size_t n = 0;

    if (fp == NULL) {
      perrorf (h, "rbd pool ‘%s’: keyring %s", def->name, path);
      return NULL;
    }
    CLEANUP_FREE char *want = NULL;
    bool in_section = true;     /* no [section] yet: take the first key */

    /* A keyring may hold several entities: only [client.USERNAME]. */
    if (asprintf (&want, "[client.%s]", def->auth_username) == -1) {
      want = NULL;
      perrorf (h, "rbd pool");
      fclose (fp);
      return NULL;
    }
    while (getline (&line, &n, fp) != -1) {
      char *p = line + strspn (line, " \t"), *end;

      if (*p == '[') {
        in_section = strncmp (p, want, strlen (want)) == 0;
        continue;
      }
      if (!in_section || strncmp (p, "key", 3) != 0)
        continue;
      /* "key = BASE64", spaces optional; "keyring = ..." is not it. */
      p += 3;
      p += strspn (p, " \t");
      if (*p != '=')
        continue;
      p += 1 + strspn (p + 1, " \t");
      end = p + strcspn (p, " \t\r\n");
      *end = '\0';
      if (*p == '\0')
        continue;
      fclose (fp);
      p = strdup (p);
      if (p == NULL)
        perrorf (h, "rbd pool");
      return p;
    }
    fclose (fp);
    error_errno (h, EINVAL, "rbd pool ‘%s’: no ‘key = ...’ line for "
                 "client.%s in the keyring %s", def->name,
                 def->auth_username, path);
    return NULL;
  }
  /* check_def refuses anything else; this is only a safety net. */
  error_errno (h, EINVAL, "rbd pool ‘%s’: bad secret usage ‘%s’",
               def->name, usage);
  return NULL;
}

static bool
have_auth (const struct pool_def *def)
{
  return def->auth_type != NULL && strcmp (def->auth_type, "ceph") == 0;
}

/* Connect to the pool's cluster and open its RADOS pool. */
static int
conn_open (gk_h *h, const struct pool_def *def, struct conn *c)
{
  CLEANUP_FREE char *hosts = mon_hosts (h, def, false);
  CLEANUP_FREE char *addrs = mon_hosts (h, def, true);
  CLEANUP_SECRET char *key = NULL;
  /* Bounded timeouts: an unreachable cluster must fail, not hang; no
   * log output on our stderr; no admin socket under /var/run/ceph;
   * discard must really zero (wipe and upload rely on it).
   */
  static const char *const settings[][2] = {
    { "client_mount_timeout", TIMEOUT },
    { "rados_mon_op_timeout", TIMEOUT },
    { "rados_osd_op_timeout", TIMEOUT },
    { "log_to_stderr", "false" },
    { "err_to_stderr", "false" },
    { "log_file", "" },
    { "admin_socket", "" },
    { "rbd_skip_partial_discard", "false" },
  };
  size_t i;
  int r;

  memset (c, 0, sizeof *c);
  if (hosts == NULL || addrs == NULL)
    return -1;
  if (have_auth (def) && (key = read_key (h, def)) == NULL)
    return -1;
  r = rados_create (&c->cluster, have_auth (def) ? def->auth_username : NULL);
  if (r < 0) {
    error_errno (h, -r, "rbd pool ‘%s’: rados_create: %s", def->name,
                 strerror (-r));
    return -1;
  }
  c->have_cluster = true;
  for (i = 0; i < sizeof settings / sizeof settings[0]; ++i) {
    r = rados_conf_set (c->cluster, settings[i][0], settings[i][1]);
    if (r < 0)
      debug (h, "rbd: cannot set %s: %s", settings[i][0], strerror (-r));
  }
  r = rados_conf_set (c->cluster, "mon_host", addrs);
  if (r == 0 && have_auth (def)) {
    /* Only the key given: no default keyring is searched. */
    r = rados_conf_set (c->cluster, "key", key);
    if (r == 0)
      r = rados_conf_set (c->cluster, "keyring", "");
    if (r == 0)
      r = rados_conf_set (c->cluster, "auth_client_required", "cephx");
    if (r == 0)
      r = rados_conf_set (c->cluster, "auth_supported", "cephx");
  }
  else if (r == 0)
    r = rados_conf_set (c->cluster, "auth_client_required", "none");
  if (r < 0) {
    error_errno (h, -r, "rbd pool ‘%s’: cannot configure the Ceph client "
                 "for monitors %s: %s", def->name, hosts, strerror (-r));
    goto err;
  }
  debug (h, "rbd: connecting to %s", hosts);
  r = rados_connect (c->cluster);
  if (r < 0) {
    /* -EACCES/-EPERM: a wrong key; -ETIMEDOUT: nobody answered. */
    bool denied = r == -EACCES || r == -EPERM;

    error_errno (h, -r, "rbd pool ‘%s’: cannot connect to the Ceph "
                 "monitors at %s%s%s: %s%s", def->name, hosts,
                 have_auth (def) ? " as client." : "",
                 have_auth (def) ? def->auth_username : "", strerror (-r),
                 denied ? " (wrong key or user?)" : "");
    goto err;
  }
  r = rados_ioctx_create (c->cluster, def->source_name, &c->io);
  if (r < 0) {
    error_errno (h, -r, "rbd pool ‘%s’: cannot open the RADOS pool ‘%s’ "
                 "at %s: %s", def->name, def->source_name, hosts,
                 strerror (-r));
    goto err;
  }
  c->have_io = true;
  return 0;

 err:
  conn_close (c);
  return -1;
}

/* Set the handle's error for a failed librbd call (r = -errno). */
static int
rbd_fail (gk_h *h, const struct pool_def *def, const char *name,
          const char *what, int r)
{
  error_errno (h, -r, "rbd pool ‘%s’: volume ‘%s’: %s: %s", def->name,
               name, what, strerror (-r));
  return -1;
}

static int
open_image (gk_h *h, const struct pool_def *def, struct conn *c,
            const char *name, bool ro, rbd_image_t *img)
{
  /* Read-only where we only look: no exclusive lock, no watcher that
   * would make a concurrent rbd_remove report "in use".
   */
  int r = ro ? rbd_open_read_only (c->io, name, img, NULL)
    : rbd_open (c->io, name, img, NULL);

  if (r < 0)
    return rbd_fail (h, def, name, "open", r);
  return 0;
}

static int
image_size (gk_h *h, const struct pool_def *def, const char *name,
            rbd_image_t img, uint64_t *size)
{
  int r = rbd_get_size (img, size);

  if (r < 0)
    return rbd_fail (h, def, name, "size", r);
  return 0;
}

static int
rbd_check_def (gk_h *h, const struct pool_def *def)
{
  size_t i;

  if (def->nr_hosts == 0) {
    error_errno (h, EINVAL, "rbd pool ‘%s’: at least one monitor is "
                 "needed (<source><host name=... port=...>)", def->name);
    return -1;
  }
  /* The names are joined into mon_host: no separators inside one. */
  for (i = 0; i < def->nr_hosts; ++i)
    if (def->hosts[i].name == NULL || def->hosts[i].name[0] == '\0' ||
        strpbrk (def->hosts[i].name, ",; \t\n") != NULL) {
      error_errno (h, EINVAL, "rbd pool ‘%s’: bad monitor host name",
                   def->name);
      return -1;
    }
  if (def->source_name == NULL || def->source_name[0] == '\0') {
    error_errno (h, EINVAL, "rbd pool ‘%s’: the RADOS pool is needed "
                 "(<source><name>)", def->name);
    return -1;
  }
  /* No <auth>: a cluster with auth none (rare, but libvirt allows it). */
  if (def->auth_type == NULL)
    return 0;
  if (strcmp (def->auth_type, "ceph") != 0) {
    error_errno (h, EINVAL, "rbd pool ‘%s’: auth type ‘%s’ is not "
                 "supported (only ‘ceph’)", def->name, def->auth_type);
    return -1;
  }
  if (def->auth_username == NULL || def->auth_username[0] == '\0') {
    error_errno (h, EINVAL, "rbd pool ‘%s’: ceph auth needs a username",
                 def->name);
    return -1;
  }
  /* The key itself is never in the definition: only where to find it.
   * A libvirt secret's UUID (virsh's XML) is kept, but cannot be read:
   * starting such a pool says so.
   */
  if (def->auth_secret_usage == NULL && def->auth_secret_uuid != NULL)
    return 0;
  if (def->auth_secret_usage == NULL ||
      !((strncmp (def->auth_secret_usage, "env:", 4) == 0 &&
         def->auth_secret_usage[4] != '\0') ||
        (strncmp (def->auth_secret_usage, "file:/", 6) == 0))) {
    error_errno (h, EINVAL, "rbd pool ‘%s’: ceph auth needs a secret usage "
                 "env:VARIABLE or file:/absolute/keyring", def->name);
    return -1;
  }
  return 0;
}

/* Starting checks that the cluster and the RADOS pool answer: a pool
 * marked running that cannot be reached would only fail later, less
 * clearly.  Nothing stays connected (see the top of the file).
 */
static int
rbd_start (gk_h *h, const struct pool_def *def)
{
  struct conn c;

  if (conn_open (h, def, &c) == -1)
    return -1;
  conn_close (&c);
  return 0;
}

static int
rbd_refresh (gk_h *h, const struct pool_def *def, uint64_t *capacity,
             uint64_t *allocation, uint64_t *available)
{
  struct conn c;
  struct rados_cluster_stat_t cs;
  int r;

  if (conn_open (h, def, &c) == -1)
    return -1;
  /* As libvirt: the cluster's raw size and use, what is free.  These
   * come from the mgr's statistics: a cluster without a ceph-mgr reports
   * zeros, which is what we show then (not an error).
   */
  r = rados_cluster_stat (c.cluster, &cs);
  conn_close (&c);
  if (r < 0) {
    error_errno (h, -r, "rbd pool ‘%s’: cluster stat: %s", def->name,
                 strerror (-r));
    return -1;
  }
  *capacity = cs.kb * 1024;
  *allocation = cs.kb_used * 1024;
  *available = cs.kb_avail * 1024;
  return 0;
}

static int
rbd_vol_list (gk_h *h, const struct pool_def *def, char ***names_rtn)
{
  struct conn c;
  rbd_image_spec_t *specs = NULL;
  size_t max = 64, i;
  char **names;
  int r;

  if (conn_open (h, def, &c) == -1)
    return -1;
  /* -ERANGE: max was updated to the number needed; try again. */
  for (;;) {
    specs = calloc (max, sizeof *specs);
    if (specs == NULL) {
      perrorf (h, "vol_list");
      conn_close (&c);
      return -1;
    }
    r = rbd_list2 (c.io, specs, &max);
    if (r != -ERANGE)
      break;
    free (specs);
  }
  conn_close (&c);
  if (r < 0) {
    free (specs);
    error_errno (h, -r, "rbd pool ‘%s’: list images: %s", def->name,
                 strerror (-r));
    return -1;
  }
  /* Our own copies: the specs belong to librbd and are freed here. */
  names = calloc (max + 1, sizeof (char *));
  for (i = 0; names != NULL && i < max; ++i)
    if ((names[i] = strdup (specs[i].name)) == NULL) {
      while (i > 0)
        free (names[--i]);
      free (names);
      names = NULL;
    }
  rbd_image_spec_list_cleanup (specs, max);
  free (specs);
  if (names == NULL) {
    perrorf (h, "vol_list");
    return -1;
  }
  /* librbd's order is the directory object's: sort, as dir does. */
  qsort (names, max, sizeof (char *), compare_strings);
  *names_rtn = names;
  return 0;
}

static int
count_extent (uint64_t off, size_t len, int exists, void *arg)
{
  if (exists)
    *(uint64_t *) arg += len;
  return 0;
}

static int
rbd_vol_info (gk_h *h, const struct pool_def *def, const char *name,
              struct vol_state *st)
{
  struct conn c;
  rbd_image_t img;
  rbd_linked_image_spec_t parent;
  rbd_snap_spec_t psnap;
  uint64_t size, alloc = 0;
  int r = -1;

  if (conn_open (h, def, &c) == -1)
    return -1;
  if (open_image (h, def, &c, name, true, &img) == -1)
    goto out;
  if (image_size (h, def, name, img, &size) == -1)
    goto close;
  /* Only this image's own objects (not the parent's): what it uses. */
  if (rbd_diff_iterate2 (img, NULL, 0, size, 0, 1, count_extent,
                         &alloc) < 0)
    alloc = size;
  /* Always raw: qemu reads an RBD image as a raw disk. */
  st->capacity = size;
  st->allocation = alloc;
  st->name = strdup (name);
  st->format = strdup ("raw");
  if (st->name == NULL || st->format == NULL ||
      /* The URI form gk_add_drive understands (lib/drives.c). */
      asprintf (&st->path, "rbd://%s:%d/%s/%s", def->hosts[0].name,
                def->hosts[0].port > 0 ? def->hosts[0].port : DEFAULT_PORT,
                def->source_name, name) == -1) {
    st->path = NULL;
    perrorf (h, "vol_info");
    goto close;
  }
  /* A layered clone: its backing store is the parent's snapshot. */
  if (rbd_get_parent (img, &parent, &psnap) == 0) {
    int e = asprintf (&st->backing, "%s/%s@%s", parent.pool_name,
                      parent.image_name, psnap.name);

    rbd_linked_image_spec_cleanup (&parent);
    rbd_snap_spec_cleanup (&psnap);
    if (e == -1 || (st->backing_format = strdup ("raw")) == NULL) {
      if (e == -1)
        st->backing = NULL;
      perrorf (h, "vol_info");
      goto close;
    }
  }
  r = 0;
 close:
  rbd_close (img);
 out:
  conn_close (&c);
  return r;
}

/* Create an empty image: format 2 with layering, so it can be cloned. */
static int
create_image (gk_h *h, const struct pool_def *def, struct conn *c,
              const char *name, uint64_t size)
{
  int order = 0;                /* librbd's default object size */
  int r = rbd_create2 (c->io, name, size, RBD_FEATURE_LAYERING, &order);

  if (r < 0)
    return rbd_fail (h, def, name, "create", r);
  return 0;
}

static int
rbd_vol_create (gk_h *h, const struct pool_def *def,
                const struct vol_def *vol)
{
  struct conn c;
  int r;

  if (vol->format && strcmp (vol->format, "raw") != 0) {
    error_errno (h, ENOTSUP, "rbd pool ‘%s’: volume ‘%s’: format ‘%s’ is "
                 "not supported (rbd images are raw)", def->name, vol->name,
                 vol->format);
    return -1;
  }
  if (vol->backing_path) {
    error_errno (h, ENOTSUP, "rbd pool ‘%s’: volume ‘%s’: a backing store "
                 "is not supported (use vol-clone --linked)", def->name,
                 vol->name);
    return -1;
  }
  /* An image of 0 bytes is of no use and surely a missing size. */
  if (vol->capacity == 0) {
    error_errno (h, EINVAL, "rbd pool ‘%s’: volume ‘%s’: a capacity is "
                 "needed", def->name, vol->name);
    return -1;
  }
  if (conn_open (h, def, &c) == -1)
    return -1;
  /* Thin always: RBD allocates objects on first write. */
  r = create_image (h, def, &c, vol->name, vol->capacity);
  conn_close (&c);
  return r;
}

/* The children of one snapshot; *child gets the first one's name. */
static int
snap_children (rbd_image_t img, const char *snap, char **child)
{
  rbd_linked_image_spec_t specs[16];
  size_t max = 16;
  int r;

  r = rbd_snap_set (img, snap);
  if (r < 0)
    return r;
  r = rbd_list_children3 (img, specs, &max);
  rbd_snap_set (img, NULL);
  /* -ERANGE: more than 16, which is all we need to know. */
  if (r == -ERANGE)
    return (int) max;
  if (r < 0)
    return r;
  if (max > 0 && child && *child == NULL &&
      asprintf (child, "%s/%s", specs[0].pool_name, specs[0].image_name) == -1)
    *child = NULL;
  rbd_linked_image_spec_list_cleanup (specs, max);
  return (int) max;
}

/* Unprotect (if needed) and remove a snapshot. */
static int
drop_snap (rbd_image_t img, const char *snap)
{
  int is_protected = 0;

  if (rbd_snap_is_protected (img, snap, &is_protected) == 0 && is_protected) {
    int r = rbd_snap_unprotect (img, snap);
    if (r < 0)
      return r;
  }
  return rbd_snap_remove (img, snap);
}

/* A linked clone of ours: remember its parent's snapshot, so that
 * deleting the last clone also removes the snapshot (else it would stay
 * protected on the parent for ever).
 */
static void
remember_clone_snap (rbd_image_t img, const struct pool_def *def,
                     char **image, char **snap)
{
  rbd_linked_image_spec_t parent;
  rbd_snap_spec_t psnap;

  if (rbd_get_parent (img, &parent, &psnap) < 0)
    return;
  if (strcmp (parent.pool_name, def->source_name) == 0 &&
      strncmp (psnap.name, CLONE_SNAP_PREFIX,
               strlen (CLONE_SNAP_PREFIX)) == 0) {
    *image = strdup (parent.image_name);
    *snap = strdup (psnap.name);
  }
  rbd_linked_image_spec_cleanup (&parent);
  rbd_snap_spec_cleanup (&psnap);
}

/* Best effort: the clone is gone already, which is what was asked. */
static void
drop_unused_clone_snap (gk_h *h, struct conn *c, const char *image,
                        const char *snap)
{
  rbd_image_t img;
  int r;

  if (snap == NULL || rbd_open (c->io, image, &img, NULL) < 0)
    return;
  /* Other linked clones of the same name cannot exist, but be safe. */
  if (snap_children (img, snap, NULL) == 0 &&
      (r = drop_snap (img, snap)) < 0)
    debug (h, "rbd: cannot remove snapshot %s@%s: %s", image, snap,
           strerror (-r));
  rbd_close (img);
}

static int
rbd_vol_delete (gk_h *h, const struct pool_def *def, const char *name)
{
  struct conn c;
  rbd_image_t img;
  CLEANUP_FREE rbd_snap_info_t *snaps = NULL;
  int max = 16, n, i, r = -1, foreign = 0, children = 0;
  CLEANUP_FREE char *child = NULL;
  CLEANUP_FREE char *parent_snap = NULL, *parent_image = NULL;

  if (conn_open (h, def, &c) == -1)
    return -1;
  if (open_image (h, def, &c, name, false, &img) == -1)
    goto out;
  /* -ERANGE: max was updated to the number of snapshots; try again. */
  do {
    free (snaps);
    snaps = calloc (max, sizeof *snaps);
    if (snaps == NULL) {
      perrorf (h, "vol_delete");
      goto close;
    }
    n = rbd_snap_list (img, snaps, &max);
  } while (n == -ERANGE);
  if (n < 0) {
    rbd_fail (h, def, name, "list snapshots", n);
    goto close;
  }
  /* Check everything first: a refused delete changes nothing. */
  for (i = 0; i < n; ++i) {
    int k = snap_children (img, snaps[i].name, &child);

    if (k > 0)
      children += k;
    if (strncmp (snaps[i].name, CLONE_SNAP_PREFIX,
                 strlen (CLONE_SNAP_PREFIX)) != 0 &&
        strcmp (snaps[i].name, UPLOAD_SNAP) != 0)
      foreign++;
  }
  /* Deleting the parent would break its clones: refuse (no --force). */
  if (children > 0) {
    error_errno (h, EBUSY, "rbd pool ‘%s’: volume ‘%s’ has %d clone(s) "
                 "(%s%s): delete or flatten them first", def->name, name,
                 children, child ? child : "?", children > 1 ? ", ..." : "");
    goto snaps;
  }
  /* Someone's snapshots are their data: not ours to remove. */
  if (foreign > 0) {
    error_errno (h, ENOTEMPTY, "rbd pool ‘%s’: volume ‘%s’ has %d "
                 "snapshot(s) not made by guestkit: remove them first",
                 def->name, name, foreign);
    goto snaps;
  }
  /* Only guestkit's own snapshots are left: unused clone snapshots, or
   * one a killed upload left behind.
   */
  for (i = 0; i < n; ++i) {
    int e = drop_snap (img, snaps[i].name);
    if (e < 0) {
      rbd_fail (h, def, name, "remove snapshot", e);
      goto snaps;
    }
  }
  rbd_snap_list_end (snaps);
  remember_clone_snap (img, def, &parent_image, &parent_snap);
  rbd_close (img);
  /* Closed first: our own open handle would be a watcher (-EBUSY). */
  r = rbd_remove (c.io, name);
  if (r == -EBUSY)
    error_errno (h, EBUSY, "rbd pool ‘%s’: volume ‘%s’ is in use (open "
                 "by another client)", def->name, name);
  else if (r < 0)
    rbd_fail (h, def, name, "remove", r);
  else if (parent_image)
    drop_unused_clone_snap (h, &c, parent_image, parent_snap);
  r = r < 0 ? -1 : 0;
  goto out;

 snaps:
  rbd_snap_list_end (snaps);
 close:
  rbd_close (img);
 out:
  conn_close (&c);
  return r;
}

static int
rbd_vol_resize (gk_h *h, const struct pool_def *def, const char *name,
                uint64_t capacity, unsigned flags)
{
  struct conn c;
  rbd_image_t img;
  int r = -1, e;

  if (conn_open (h, def, &c) == -1)
    return -1;
  if (open_image (h, def, &c, name, false, &img) == 0) {
    /* The library only lets a shrink through with GK_VOL_RESIZE_SHRINK. */
    e = rbd_resize (img, capacity);
    if (e < 0)
      rbd_fail (h, def, name, "resize", e);
    else
      r = 0;
    rbd_close (img);
  }
  conn_close (&c);
  return r;
}

/* Make [off, off+len) of the image read as zeros: discard (frees the
 * objects; rbd_skip_partial_discard is off so partial objects are
 * zeroed too), else write zeros.
 */
static int
zero_range (rbd_image_t img, uint64_t off, uint64_t len)
{
  static const char zeros[BLOCK];

  /* In CHUNKs (the default object size): whole objects are removed. */
  while (len > 0) {
    size_t n = len > CHUNK ? CHUNK : len;
    ssize_t r = rbd_discard (img, off, n);

    /* E.g. a cluster refusing discard: zeros the slow way. */
    if (r < 0) {
      size_t done = 0;

      while (done < n) {
        size_t m = n - done > BLOCK ? BLOCK : n - done;
        r = rbd_write (img, off + done, m, zeros);
        if (r < 0)
          return (int) r;
        done += m;
      }
    }
    off += n;
    len -= n;
  }
  return 0;
}

static bool
is_zero (const char *buf, size_t len)
{
  /* Compare the buffer with itself shifted by one byte. */
  return len == 0 || (buf[0] == 0 && memcmp (buf, buf + 1, len - 1) == 0);
}

/* Writes into an image go out asynchronously, several at a time, as
 * `rbd import` does: one synchronous write per block waits a network
 * round trip each (0.57x rbd import's speed, measured).  The writer owns
 * NSLOTS buffers of CHUNK bytes; a slot's buffer is handed out again only
 * when the writes from it have completed.  Writes never overlap (each
 * offset is written once per copy), so their order does not matter.
 */
#define NSLOTS 8
#define SLOT_WRITES (CHUNK / BLOCK)         /* at most one per block */

struct aio_writer {
  rbd_image_t img;
  struct {
    char *buf;
    rbd_completion_t c[SLOT_WRITES];
    size_t n;
  } slot[NSLOTS];
  size_t next;                  /* the slot to hand out next */
  int err;                      /* first error (-errno), or 0 */
};

static int
slot_wait (struct aio_writer *aw, size_t i)
{
  size_t j;

  for (j = 0; j < aw->slot[i].n; ++j) {
    rbd_completion_t c = aw->slot[i].c[j];
    ssize_t r;

    rbd_aio_wait_for_complete (c);
    r = rbd_aio_get_return_value (c);
    rbd_aio_release (c);
    if (r < 0 && aw->err == 0)
      aw->err = (int) r;
  }
  aw->slot[i].n = 0;
  return aw->err;
}

static int
writer_init (struct aio_writer *aw, rbd_image_t img)
{
  size_t i;

  memset (aw, 0, sizeof *aw);
  aw->img = img;
  for (i = 0; i < NSLOTS; ++i)
    if ((aw->slot[i].buf = malloc (CHUNK)) == NULL)
      return -1;
  return 0;
}

/* Wait for every write; free the buffers.  The first error, or 0. */
static int
writer_finish (struct aio_writer *aw)
{
  size_t i;

  for (i = 0; i < NSLOTS; ++i) {
    slot_wait (aw, i);
    free (aw->slot[i].buf);
    aw->slot[i].buf = NULL;
  }
  return aw->err;
}

/* A free CHUNK buffer to fill, for writer_write; NULL after an error. */
static char *
writer_buffer (struct aio_writer *aw)
{
  if (slot_wait (aw, aw->next) < 0)
    return NULL;
  return aw->slot[aw->next].buf;
}

/* Write the buffer from writer_buffer (len bytes at off), skipping
 * all-zero blocks (zeroing them instead when zero_skipped: the image may
 * hold old data there).  Runs of data blocks go out as one write.
 */
static int
writer_write (struct aio_writer *aw, size_t len, uint64_t off,
              bool zero_skipped)
{
  size_t s = aw->next, i = 0, start;
  const char *buf = aw->slot[s].buf;
  int r;

  aw->next = (aw->next + 1) % NSLOTS;
  while (i < len) {
    size_t n = len - i > BLOCK ? BLOCK : len - i;

    if (is_zero (buf + i, n)) {
      if (zero_skipped && (r = zero_range (aw->img, off + i, n)) < 0)
        return r;
      i += n;
      continue;
    }
    for (start = i; i < len; i += n) {
      n = len - i > BLOCK ? BLOCK : len - i;
      if (is_zero (buf + i, n))
        break;
    }
    rbd_completion_t c;
    r = rbd_aio_create_completion (NULL, NULL, &c);
    if (r < 0)
      return r;
    r = rbd_aio_write (aw->img, off + start, i - start, buf + start, c);
    if (r < 0) {
      rbd_aio_release (c);
      return r;
    }
    aw->slot[s].c[aw->slot[s].n++] = c;
  }
  return aw->err;
}

/* Copy a local file (its first size bytes) into an open image, reading
 * only its data ranges (SEEK_DATA/SEEK_HOLE).  fresh: the image is new
 * and reads as zeros, so holes need nothing; else they are zeroed.
 */
static int
copy_file_to_image (gk_h *h, const struct pool_def *def, const char *name,
                    int fd, uint64_t size, rbd_image_t img, bool fresh,
                    gk_progress_cb progress, void *opaque)
{
  struct aio_writer aw;
  uint64_t pos = 0;
  int r;

  if (writer_init (&aw, img) == -1) {
    perrorf (h, "copy");
    writer_finish (&aw);
    return -1;
  }
  while (pos < size) {
    off_t data = lseek (fd, pos, SEEK_DATA), hole;

    /* ENXIO: only a hole is left.  Other errors: treat all as data. */
    if (data == -1)
      data = errno == ENXIO ? (off_t) size : (off_t) pos;
    if ((uint64_t) data > size)
      data = size;
    if ((uint64_t) data > pos && !fresh &&
        (r = zero_range (img, pos, data - pos)) < 0)
      goto rbd_error;
    pos = data;
    if (pos >= size)
      break;
    hole = lseek (fd, pos, SEEK_HOLE);
    if (hole == -1 || (uint64_t) hole > size)
      hole = size;
    while (pos < (uint64_t) hole) {
      size_t n = (uint64_t) hole - pos > CHUNK ? CHUNK : hole - pos;
      char *buf = writer_buffer (&aw);
      ssize_t got;

      if (buf == NULL) {
        r = aw.err;
        goto rbd_error;
      }
      got = pread (fd, buf, n, pos);
      if (got <= 0) {
        if (got == 0)
          errno = EIO;          /* the file shrank under us */
        perrorf (h, "read");
        writer_finish (&aw);
        return -1;
      }
      r = writer_write (&aw, got, pos, !fresh);
      if (r < 0)
        goto rbd_error;
      pos += got;
      /* -1 from the callback cancels, as in the file backends. */
      if (progress && progress (opaque, pos, size) == -1) {
        writer_finish (&aw);
        error_errno (h, ECANCELED, "copy cancelled");
        return -1;
      }
    }
  }
  if ((r = writer_finish (&aw)) < 0)
    return rbd_fail (h, def, name, "write", r);
  r = rbd_flush (img);
  if (r < 0)
    return rbd_fail (h, def, name, "flush", r);
  return 0;

 rbd_error:
  writer_finish (&aw);
  return rbd_fail (h, def, name, "write", r);
}

/* rbd_diff_iterate2 callback for copies out of an image. */
struct copy_out {
  rbd_image_t src;
  rbd_image_t dst;              /* an image, or NULL ... */
  int fd;                       /* ... a local file */
  char *buf;                    /* for a local file */
  struct aio_writer *aw;        /* for an image */
  uint64_t total;
  gk_progress_cb progress;
  void *opaque;
  int err;                      /* -errno, or 0 */
  bool local_err;               /* err is from the local file */
  bool cancelled;               /* by the progress callback */
};

static int
copy_extent (uint64_t off, size_t len, int exists, void *arg)
{
  struct copy_out *co = arg;

  /* A hole reads as zeros in the destination already. */
  if (!exists)
    return 0;
  while (len > 0) {
    size_t n = len > CHUNK ? CHUNK : len, i;
    char *buf = co->dst ? writer_buffer (co->aw) : co->buf;
    ssize_t r;

    if (buf == NULL) {
      co->err = co->aw->err;
      return co->err;
    }
    r = rbd_read (co->src, off, n, buf);
    if (r < 0 || (size_t) r != n) {
      co->err = r < 0 ? (int) r : -EIO;
      return co->err;
    }
    if (co->dst) {
      r = writer_write (co->aw, n, off, false);
      if (r < 0) {
        co->err = (int) r;
        return co->err;
      }
    }
    else
      for (i = 0; i < n; i += BLOCK) {
        size_t m = n - i > BLOCK ? BLOCK : n - i;

        /* Skipping a zero block leaves a hole in the local file. */
        if (is_zero (co->buf + i, m))
          continue;
        errno = 0;
        if (pwrite (co->fd, co->buf + i, m, off + i) != (ssize_t) m) {
          co->err = errno ? -errno : -ENOSPC;   /* short: the disk is full */
          co->local_err = true;
          return co->err;
        }
      }
    off += n;
    len -= n;
    if (co->progress && co->progress (co->opaque, off, co->total) == -1) {
      co->err = -ECANCELED;
      co->cancelled = true;
      return co->err;
    }
  }
  return 0;
}

/* Copy the data of src (parent data included) into dst or fd. */
static int
copy_image_out (gk_h *h, const struct pool_def *def, const char *name,
                rbd_image_t src, uint64_t size, struct copy_out *co)
{
  struct aio_writer aw;
  int r, wr = 0;

  co->src = src;
  co->total = size;
  if (co->dst) {
    co->aw = &aw;
    if (writer_init (&aw, co->dst) == -1) {
      perrorf (h, "copy");
      writer_finish (&aw);
      return -1;
    }
  }
  else if ((co->buf = malloc (CHUNK)) == NULL) {
    perrorf (h, "copy");
    return -1;
  }
  /* include_parent: a clone's data is partly its parent's;
   * whole_object off: exact extents, so holes stay holes.
   */
  r = rbd_diff_iterate2 (src, NULL, 0, size, 1, 0, copy_extent, co);
  free (co->buf);
  co->buf = NULL;
  if (co->dst) {
    wr = writer_finish (&aw);
    co->aw = NULL;
    if (r >= 0 && wr < 0)
      r = co->err = wr;
  }
  if (r < 0 && co->cancelled) {
    error_errno (h, ECANCELED, "copy cancelled");
    return -1;
  }
  if (r < 0 && co->local_err) {
    errno = -co->err;
    perrorf (h, "write");
    return -1;
  }
  if (r < 0)
    return rbd_fail (h, def, name, "copy", co->err ? co->err : r);
  if (co->dst && (r = rbd_flush (co->dst)) < 0)
    return rbd_fail (h, def, name, "flush", r);
  return 0;
}

/* Same cluster (same monitors) and same RADOS pool? */
static bool
same_rados_pool (gk_h *h, const struct pool_def *a, const struct pool_def *b)
{
  CLEANUP_FREE char *ha = NULL, *hb = NULL;

  if (strcmp (b->type, "rbd") != 0 || strcmp (a->source_name, b->source_name))
    return false;
  ha = mon_hosts (h, a, false);
  hb = mon_hosts (h, b, false);
  return ha && hb && strcmp (ha, hb) == 0;
}

/* A layered clone of src into dst (same RADOS pool), flattened unless
 * linked.  Our snapshot is removed again if it ends up unused.
 */
static int
layered_clone (gk_h *h, const struct pool_def *def, struct conn *c,
               const char *src, const char *dst, bool linked)
{
  CLEANUP_FREE char *snap = NULL;
  rbd_image_t simg, dimg;
  bool made_snap = false, made_dst = false;
  int order = 0, r, ret = -1;

  if (asprintf (&snap, CLONE_SNAP_PREFIX "%s", dst) == -1) {
    perrorf (h, "clone");
    return -1;
  }
  if (open_image (h, def, c, src, false, &simg) == -1)
    return -1;
  r = rbd_snap_create (simg, snap);
  /* A leftover snapshot of that name (a killed run) holds old data: the
   * clone must see the source as it is now, so make it again.  One with
   * clones is someone else's: leave it alone.
   */
  if (r == -EEXIST && snap_children (simg, snap, NULL) == 0 &&
      drop_snap (simg, snap) == 0)
    r = rbd_snap_create (simg, snap);
  if (r == -EEXIST) {
    error_errno (h, EEXIST, "rbd pool ‘%s’: volume ‘%s’: its snapshot ‘%s’ "
                 "already exists and has clones", def->name, src, snap);
    goto out;
  }
  if (r < 0) {
    rbd_fail (h, def, src, "snapshot", r);
    goto out;
  }
  made_snap = true;
  /* Protection is what lets a (v1) clone depend on the snapshot. */
  r = rbd_snap_protect (simg, snap);
  if (r < 0 && r != -EBUSY) {
    rbd_fail (h, def, src, "protect snapshot", r);
    goto out;
  }
  r = rbd_clone (c->io, src, snap, c->io, dst, RBD_FEATURE_LAYERING, &order);
  if (r < 0) {
    rbd_fail (h, def, dst, "clone", r);
    goto out;
  }
  made_dst = true;
  /* --linked: done, O(1); the clone reads through to the snapshot. */
  if (!linked) {
    /* Copy up the parent's objects, then forget the parent. */
    if (open_image (h, def, c, dst, false, &dimg) == -1)
      goto out;
    r = rbd_flatten (dimg);
    rbd_close (dimg);
    if (r < 0) {
      rbd_fail (h, def, dst, "flatten", r);
      goto out;
    }
    if ((r = drop_snap (simg, snap)) < 0)
      debug (h, "rbd: cannot remove snapshot %s@%s: %s", src, snap,
             strerror (-r));
  }
  ret = 0;
 out:
  /* Undo in reverse order: the clone pins the snapshot. */
  if (ret == -1) {
    if (made_dst)
      rbd_remove (c->io, dst);
    if (made_snap)
      drop_snap (simg, snap);
  }
  rbd_close (simg);
  return ret;
}

static int
rbd_vol_clone (gk_h *h, const struct pool_def *def, const char *dst,
               const struct pool_def *src_def, const struct vol_state *src,
               unsigned flags)
{
  struct conn c, sc = { 0 };
  rbd_image_t dimg, simg;
  bool same = same_rados_pool (h, def, src_def);
  bool from_rbd = strcmp (src_def->type, "rbd") == 0;
  bool from_file = src->path && src->path[0] == '/';
  int fd = -1, r = -1;

  /* Refuse what cannot be done before touching the cluster. */
  if (flags & GK_VOL_CLONE_REFLINK) {
    error_errno (h, ENOTSUP, "clone %s: rbd pools have no reflink copies "
                 "(a layered clone is --linked)", dst);
    return -1;
  }
  if ((flags & GK_VOL_CLONE_LINKED) && !same) {
    error_errno (h, ENOTSUP, "clone %s: a linked clone into rbd pool ‘%s’ "
                 "needs the source in the same RADOS pool", dst, def->name);
    return -1;
  }
  /* iscsi/lvm sources have no local path we could read here. */
  if (!from_rbd && !from_file) {
    error_errno (h, ENOTSUP, "cloning a volume of a %s pool into an rbd "
                 "pool is not supported", src_def->type);
    return -1;
  }
  /* RBD images are raw: the bytes of a qcow2 file are not its disk. */
  if (!from_rbd && src->format && strcmp (src->format, "raw") != 0) {
    error_errno (h, ENOTSUP, "clone %s: only a raw volume can be copied "
                 "into an rbd pool (‘%s’ is %s)", dst, src->name,
                 src->format);
    return -1;
  }
  if (conn_open (h, def, &c) == -1)
    return -1;
  /* Same RADOS pool: librbd does it in the cluster, no data through us. */
  if (same) {
    r = layered_clone (h, def, &c, src->name, dst,
                       flags & GK_VOL_CLONE_LINKED);
    conn_close (&c);
    return r;
  }
  if (from_file) {
    struct stat sb;

    /* The source pool is locked: the file does not change meanwhile. */
    fd = open (src->path, O_RDONLY | O_CLOEXEC);
    if (fd == -1 || fstat (fd, &sb) == -1) {
      perrorf (h, "open: %s", src->path);
      goto out;
    }
    if (create_image (h, def, &c, dst, src->capacity) == -1)
      goto out;
    if (open_image (h, def, &c, dst, false, &dimg) == -1)
      goto remove;
    /* A new image reads as zeros: only the file's data is written.  A
     * block device's st_size is 0, so its capacity counts.
     */
    r = copy_file_to_image (h, def, dst, fd, S_ISREG (sb.st_mode) &&
                            (uint64_t) sb.st_size < src->capacity
                            ? (uint64_t) sb.st_size : src->capacity,
                            dimg, true, NULL, NULL);
    rbd_close (dimg);
  }
  else {
    /* Another RADOS pool, maybe another cluster: its own connection. */
    struct copy_out co = { 0 };
    uint64_t size;

    if (conn_open (h, src_def, &sc) == -1)
      goto out;
    if (open_image (h, src_def, &sc, src->name, true, &simg) == -1)
      goto out;
    /* The size now, not src->capacity: the image is open, it is exact. */
    if (image_size (h, src_def, src->name, simg, &size) == -1 ||
        create_image (h, def, &c, dst, size) == -1) {
      rbd_close (simg);
      goto out;
    }
    if (open_image (h, def, &c, dst, false, &dimg) == -1) {
      rbd_close (simg);
      goto remove;
    }
    co.dst = dimg;
    r = copy_image_out (h, def, dst, simg, size, &co);
    rbd_close (dimg);
    rbd_close (simg);
  }
 remove:
  /* No half-made volume is left behind. */
  if (r == -1)
    rbd_remove (c.io, dst);
 out:
  if (fd >= 0)
    close (fd);
  conn_close (&sc);
  conn_close (&c);
  return r;
}

static int
rbd_vol_wipe (gk_h *h, const struct pool_def *def, const char *name)
{
  struct conn c;
  rbd_image_t img;
  uint64_t size;
  int r = -1, e;

  if (conn_open (h, def, &c) == -1)
    return -1;
  if (open_image (h, def, &c, name, false, &img) == -1)
    goto out;
  if (image_size (h, def, name, img, &size) == -1)
    goto close;
  /* Reads back as zeros, and gives the space back to the cluster.  On a
   * clone librbd writes zeroed objects over the parent's, so the parent's
   * data does not show through.
   */
  e = zero_range (img, 0, size);
  /* Only flushed writes are on the OSDs: report their failures here. */
  if (e == 0)
    e = rbd_flush (img);
  if (e < 0)
    rbd_fail (h, def, name, "wipe", e);
  else
    r = 0;
 close:
  rbd_close (img);
 out:
  conn_close (&c);
  return r;
}

static int
rbd_vol_upload (gk_h *h, const struct pool_def *def, const char *name,
                int fd, gk_progress_cb progress, void *opaque)
{
  struct conn c;
  rbd_image_t img;
  struct stat sb;
  uint64_t size, used = 0;
  bool snap = false;
  int r = -1, e;

  if (fstat (fd, &sb) == -1) {
    perrorf (h, "upload: stat");
    return -1;
  }
  /* A block device's st_size is 0: ask the device. */
  if (S_ISBLK (sb.st_mode)) {
    uint64_t bytes;

    if (ioctl (fd, BLKGETSIZE64, &bytes) == -1) {
      perrorf (h, "upload: BLKGETSIZE64");
      return -1;
    }
    sb.st_size = bytes;
  }
  else if (!S_ISREG (sb.st_mode)) {
    error_errno (h, EINVAL, "rbd pool ‘%s’: volume ‘%s’: upload needs a "
                 "regular file or a block device", def->name, name);
    return -1;
  }
  if (conn_open (h, def, &c) == -1)
    return -1;
  if (open_image (h, def, &c, name, false, &img) == -1)
    goto out;
  if (image_size (h, def, name, img, &size) == -1)
    goto close;
  /* Refuse before writing anything: the image keeps its old content. */
  if ((uint64_t) sb.st_size > size) {
    error_errno (h, EFBIG, "rbd pool ‘%s’: volume ‘%s’: the file (%" PRIu64
                 " bytes) is larger than the volume (%" PRIu64 " bytes)",
                 def->name, name, (uint64_t) sb.st_size, size);
    goto close;
  }
  /* The image's content becomes the file's; beyond it, zeros (as the dir
   * backend's raw volumes, which keep their size).  All or nothing: an
   * image holding data gets a snapshot that keeps the old content
   * (copy-on-write, no second copy), and a failed or cancelled upload
   * rolls back to it.  An image with no data (a new volume: the usual
   * case) needs none: a failure discards what was written.  Snapshots
   * cost monitor round trips (~1 s here), hence the difference.  A
   * snapshot of that name left by a killed upload is stale: made again.
   */
  /* include_parent: a layered clone without data of its own still
   * reads its parent's, which the upload must replace.
   */
  e = rbd_diff_iterate2 (img, NULL, 0, size, 1, 1, count_extent, &used);
  if (e < 0) {
    rbd_fail (h, def, name, "read allocation", e);
    goto close;
  }
  if (used > 0) {
    e = rbd_snap_create (img, UPLOAD_SNAP);
    if (e == -EEXIST && drop_snap (img, UPLOAD_SNAP) == 0)
      e = rbd_snap_create (img, UPLOAD_SNAP);
    if (e < 0) {
      rbd_fail (h, def, name, "snapshot before upload", e);
      goto close;
    }
    snap = true;
  }
  if (copy_file_to_image (h, def, name, fd, sb.st_size, img, used == 0,
                          progress, opaque) == 0) {
    e = used == 0 ? 0 : zero_range (img, sb.st_size, size - sb.st_size);
    if (e == 0)
      e = rbd_flush (img);
    if (e < 0)
      rbd_fail (h, def, name, "zero", e);
    else
      r = 0;
  }
  if (r == -1 && !snap) {
    e = zero_range (img, 0, size);
    if (e < 0)
      warning (h, "rbd pool ‘%s’: volume ‘%s’: cannot discard the failed "
               "upload's data (%s)", def->name, name, strerror (-e));
  }
  if (r == -1 && snap) {
    e = rbd_snap_rollback (img, UPLOAD_SNAP);
    if (e < 0)
      warning (h, "rbd pool ‘%s’: volume ‘%s’: cannot roll back the failed "
               "upload (%s): its old content is in snapshot ‘%s’",
               def->name, name, strerror (-e), UPLOAD_SNAP);
  }
  /* Kept only when the rollback failed: it holds the old content. */
  if (snap && (r == 0 || e == 0)) {
    e = drop_snap (img, UPLOAD_SNAP);
    if (e < 0)
      debug (h, "rbd: cannot remove snapshot %s@%s: %s", name, UPLOAD_SNAP,
             strerror (-e));
  }
 close:
  rbd_close (img);
 out:
  conn_close (&c);
  return r;
}

static int
rbd_vol_download (gk_h *h, const struct pool_def *def, const char *name,
                  int fd, gk_progress_cb progress, void *opaque)
{
  struct conn c;
  rbd_image_t img;
  struct copy_out co = { .fd = -1, .progress = progress, .opaque = opaque };
  uint64_t size;
  int r = -1;

  /* fd is the library's new temporary file: it is empty, all holes. */
  co.fd = fd;
  if (conn_open (h, def, &c) == -1)
    return -1;
  if (open_image (h, def, &c, name, true, &img) == -1)
    goto out;
  if (image_size (h, def, name, img, &size) == -1)
    goto close;
  /* Only allocated extents are read; the rest stays a hole. */
  if (copy_image_out (h, def, name, img, size, &co) == -1)
    goto close;
  /* A trailing hole is not written at all: the size makes it. */
  if (ftruncate (fd, size) == -1) {
    perrorf (h, "download: truncate");
    goto close;
  }
  if (progress)
    progress (opaque, size, size);
  r = 0;
 close:
  rbd_close (img);
 out:
  conn_close (&c);
  return r;
}

/* Within the RADOS pool: metadata only.  A linked clone keeps its
 * parent's snapshot, named after the clone's first name (only the
 * prefix matters when it is dropped, see remember_clone_snap).
 */
static int
rbd_vol_rename (gk_h *h, const struct pool_def *def, const char *old_name,
                const char *new_name)
{
  struct conn c;
  int r;

  if (conn_open (h, def, &c) == -1)
    return -1;
  r = rbd_rename (c.io, old_name, new_name);
  conn_close (&c);
  if (r == -EEXIST) {
    error_errno (h, EEXIST, "rbd pool ‘%s’: volume ‘%s’ already exists",
                 def->name, new_name);
    return -1;
  }
  if (r < 0)
    return rbd_fail (h, def, old_name, "rename", r);
  return 0;
}

/* Block-level access (gk_disk_open_volume; the ops are described in
 * lib/disk-internal.h).  A disk keeps one connection and one open image
 * for its whole life.
 *
 * Checkpoints are rbd snapshots.  Creating one also pins the disk to it:
 * reads, extents and changed extents then come from a second, read-only
 * handle opened at the snapshot (the "view"), so that a backup reads one
 * point in time while the guest goes on writing the image.  Writes (a
 * restore) always go to the image itself, and with a view pinned they
 * are not seen by reads.  Deleting the pinned snapshot unpins the disk.
 *
 * librbd refuses snapshots on a handle opened read-only (EROFS), and such
 * a handle never learns of snapshots made by others (it has no watch): a
 * read-only disk opens a fresh handle, writable for the moment of a
 * snapshot change, read-only to list them or find one made since.
 */
struct rbd_disk {
  struct conn c;
  char *pool;                   /* the guestkit pool, for messages */
  char *vol;
  rbd_image_t img;              /* the image (read-only unless rw) */
  rbd_image_t view;             /* at the pinned snapshot, or unused */
  char *pinned;                 /* its name, or NULL: reads from img */
  bool rw;
};

/* Extents are gathered and sorted one window at a time (librbd may call
 * back out of order), which bounds the memory a huge image needs.
 */
#define EXTENT_WINDOW (UINT64_C (1) << 30)
#define IO_MAX (UINT64_C (1) << 30)         /* bytes per rbd_read2/write2 */

static int
disk_fail (gk_h *h, struct rbd_disk *d, const char *what, int r)
{
  error_errno (h, -r, "rbd pool ‘%s’: volume ‘%s’: %s: %s", d->pool, d->vol,
               what, strerror (-r));
  return -1;
}

static rbd_image_t
disk_view (struct rbd_disk *d)
{
  return d->pinned ? d->view : d->img;
}

/* A handle that sees the image's snapshots as they are now (see above);
 * *own says whether the caller closes it.
 */
static int
fresh_handle (gk_h *h, struct rbd_disk *d, bool writable, rbd_image_t *img,
              bool *own)
{
  int r;

  *own = false;
  if (d->rw) {
    *img = d->img;
    return 0;
  }
  r = writable ? rbd_open (d->c.io, d->vol, img, NULL)
    : rbd_open_read_only (d->c.io, d->vol, img, NULL);
  if (r < 0)
    return disk_fail (h, d, "open", r);
  *own = true;
  return 0;
}

/* Snapshot names: "@" and "/" separate them in rbd's own syntax. */
static int
check_snap_name (gk_h *h, struct rbd_disk *d, const char *name)
{
  const char *p;

  for (p = name; *p; ++p)
    if (*p == '@' || *p == '/' || (unsigned char) *p < 0x20)
      break;
  if (*name == '\0' || *p != '\0') {
    error_errno (h, EINVAL, "rbd pool ‘%s’: volume ‘%s’: bad checkpoint "
                 "name ‘%s’ (it must be non-empty, without ‘@’, ‘/’ or "
                 "control characters)", d->pool, d->vol,
                 *p && (unsigned char) *p < 0x20 ? "..." : name);
    return -1;
  }
  return 0;
}

static int
rbd_disk_pread (gk_h *h, void *priv, void *buf, size_t count,
                uint64_t offset)
{
  struct rbd_disk *d = priv;
  char *p = buf;

  while (count > 0) {
    size_t n = count > IO_MAX ? IO_MAX : count;
    ssize_t r = rbd_read2 (disk_view (d), offset, n, p, 0);

    if (r <= 0)
      return disk_fail (h, d, "read", r < 0 ? (int) r : -EIO);
    p += r;
    count -= r;
    offset += r;
  }
  return 0;
}

static int
rbd_disk_pwrite (gk_h *h, void *priv, const void *buf, size_t count,
                 uint64_t offset)
{
  struct rbd_disk *d = priv;
  const char *p = buf;

  while (count > 0) {
    size_t n = count > IO_MAX ? IO_MAX : count;
    ssize_t r = rbd_write2 (d->img, offset, n, p, 0);

    if (r <= 0)
      return disk_fail (h, d, "write", r < 0 ? (int) r : -EIO);
    p += r;
    count -= r;
    offset += r;
  }
  return 0;
}

/* Discard (whole objects are freed, partial ones zeroed: see conn_open),
 * else zero writes: as vol-wipe.
 */
static int
rbd_disk_zero (gk_h *h, void *priv, uint64_t offset, uint64_t length)
{
  struct rbd_disk *d = priv;
  int r = zero_range (d->img, offset, length);

  if (r < 0)
    return disk_fail (h, d, "zero", r);
  return 0;
}

static int
rbd_disk_flush (gk_h *h, void *priv)
{
  struct rbd_disk *d = priv;
  int r = rbd_flush (d->img);

  if (r < 0)
    return disk_fail (h, d, "flush", r);
  return 0;
}

struct range {
  uint64_t off, len;
};
DEFINE_VECTOR_TYPE (range_vector, struct range);

/* rbd_diff_iterate2's callback: keep the ranges wanted, clipped. */
struct diff_ranges {
  range_vector v;
  uint64_t start, end;          /* the window */
  bool holes_too;               /* keep exists=0 ranges too */
};

static int
add_range (uint64_t off, size_t len, int exists, void *arg)
{
  struct diff_ranges *dr = arg;
  uint64_t end = off + len;
  struct range r;

  if (!exists && !dr->holes_too)
    return 0;
  if (off < dr->start)
    off = dr->start;
  if (end > dr->end)
    end = dr->end;
  if (off >= end)
    return 0;
  r.off = off;
  r.len = end - off;
  return range_vector_append (&dr->v, r) == -1 ? -ENOMEM : 0;
}

static int
compare_ranges (const struct range *a, const struct range *b)
{
  return a->off < b->off ? -1 : a->off > b->off;
}

/* Report [offset, offset+length) from rbd_diff_iterate2 on img: its
 * ranges (merged, in order) as GK_EXTENT_DATA, and with fill the gaps
 * between them as GK_EXTENT_HOLE.  from: rbd_diff_iterate2's fromsnapname
 * (then the ranges with exists=0 count too: see changed_extents).
 * Returns 0 or a librbd error (-errno, the handle's error not set);
 * *cb_ret gets cb's non-zero return, which stops the walk.
 */
static int
walk_diff (rbd_image_t img, const char *from, uint64_t offset,
           uint64_t length, bool fill, gk_extent_cb cb, void *opaque,
           int *cb_ret)
{
  struct diff_ranges dr = { .v = empty_vector, .holes_too = from != NULL };
  uint64_t end = offset + length, pos = offset;
  int r = 0, ret = 0;

  while (pos < end && ret == 0 && r == 0) {
    uint64_t cur = pos;
    size_t i = 0;

    dr.start = pos;
    /* Windows end on multiples of EXTENT_WINDOW (object boundaries). */
    dr.end = (pos / EXTENT_WINDOW + 1) * EXTENT_WINDOW;
    if (dr.end > end)
      dr.end = end;
    dr.v.len = 0;
    /* include_parent: a clone's data is partly its parent's. */
    r = rbd_diff_iterate2 (img, from, dr.start, dr.end - dr.start, 1, 0,
                           add_range, &dr);
    if (r < 0)
      break;
    r = 0;
    range_vector_sort (&dr.v, compare_ranges);
    while (i < dr.v.len && ret == 0) {
      uint64_t s = dr.v.ptr[i].off, e = s + dr.v.ptr[i].len;

      /* Overlapping or touching ranges are one extent. */
      for (++i; i < dr.v.len && dr.v.ptr[i].off <= e; ++i)
        if (dr.v.ptr[i].off + dr.v.ptr[i].len > e)
          e = dr.v.ptr[i].off + dr.v.ptr[i].len;
      if (e <= cur)
        continue;
      if (s < cur)
        s = cur;
      if (fill && s > cur)
        ret = cb (opaque, cur, s - cur, GK_EXTENT_HOLE);
      if (ret == 0)
        ret = cb (opaque, s, e - s, GK_EXTENT_DATA);
      cur = e;
    }
    if (ret == 0 && fill && cur < dr.end)
      ret = cb (opaque, cur, dr.end - cur, GK_EXTENT_HOLE);
    pos = dr.end;
  }
  range_vector_reset (&dr.v);
  *cb_ret = ret;
  return r;
}

/* What exists is data, the rest holes: rbd_diff_iterate2 from the
 * beginning of time with exact extents (not whole objects), as `rbd
 * diff` does.
 */
static int
rbd_disk_extents (gk_h *h, void *priv, uint64_t offset, uint64_t length,
                  gk_extent_cb cb, void *opaque)
{
  struct rbd_disk *d = priv;
  int ret, r = walk_diff (disk_view (d), NULL, offset, length, true, cb,
                          opaque, &ret);

  if (r < 0)
    return disk_fail (h, d, "extents", r);
  return ret;
}

/* Changed since the snapshot: every range rbd_diff_iterate2 reports from
 * it, with exists=1 (written) and exists=0 (discarded since: reading it
 * gives its new content, zeros) alike, as GK_EXTENT_DATA.
 */
static int
rbd_disk_changed_extents (gk_h *h, void *priv, const char *since,
                          uint64_t offset, uint64_t length, gk_extent_cb cb,
                          void *opaque)
{
  struct rbd_disk *d = priv;
  rbd_image_t img = disk_view (d);
  bool own = false, exists = false;
  int ret, r;

  if (check_snap_name (h, d, since) == -1)
    return -1;
  r = walk_diff (img, since, offset, length, false, cb, opaque, &ret);
  /* A read-only handle does not know the snapshots made since it was
   * opened: ask a fresh one.  For the pinned view such a snapshot is
   * newer than its own, which librbd refuses (EINVAL) anyway.
   */
  if (r == -ENOENT && (d->pinned || !d->rw)) {
    if (fresh_handle (h, d, false, &img, &own) == -1)
      return -1;
    if (!d->pinned)
      r = walk_diff (img, since, offset, length, false, cb, opaque, &ret);
    else if (rbd_snap_exists (img, since, &exists) == 0 && exists)
      r = -EINVAL;
    if (own)
      rbd_close (img);
  }
  if (r == -ENOENT) {
    error_errno (h, ENOENT, "rbd pool ‘%s’: volume ‘%s’: no checkpoint "
                 "‘%s’", d->pool, d->vol, since);
    return -1;
  }
  if (r == -EINVAL && d->pinned) {
    error_errno (h, EINVAL, "rbd pool ‘%s’: volume ‘%s’: checkpoint ‘%s’ "
                 "is not older than ‘%s’, the one this disk reads", d->pool,
                 d->vol, since, d->pinned);
    return -1;
  }
  if (r < 0)
    return disk_fail (h, d, "changed extents", r);
  return ret;
}

/* Read from the snapshot from now on (a new view replaces the old). */
static int
pin (gk_h *h, struct rbd_disk *d, const char *name)
{
  rbd_image_t view;
  char *copy = strdup (name);
  int r;

  if (copy == NULL) {
    perrorf (h, "rbd");
    return -1;
  }
  r = rbd_open_read_only (d->c.io, d->vol, &view, name);
  if (r < 0) {
    free (copy);
    return disk_fail (h, d, "open the checkpoint", r);
  }
  if (d->pinned) {
    rbd_close (d->view);
    free (d->pinned);
  }
  d->view = view;
  d->pinned = copy;
  return 0;
}

static void
unpin (struct rbd_disk *d)
{
  if (d->pinned) {
    rbd_close (d->view);
    free (d->pinned);
    d->pinned = NULL;
  }
}

static int
rbd_disk_checkpoint_create (gk_h *h, void *priv, const char *name)
{
  struct rbd_disk *d = priv;
  rbd_image_t img;
  bool own;
  int r;

  if (check_snap_name (h, d, name) == -1 ||
      fresh_handle (h, d, true, &img, &own) == -1)
    return -1;
  /* librbd flushes the writes in flight first: they are in it. */
  r = rbd_snap_create (img, name);
  if (r == -EEXIST)
    error_errno (h, EEXIST, "rbd pool ‘%s’: volume ‘%s’: checkpoint ‘%s’ "
                 "already exists", d->pool, d->vol, name);
  else if (r < 0)
    disk_fail (h, d, "create checkpoint", r);
  /* A checkpoint the disk cannot read from is of no use: undone. */
  else if (pin (h, d, name) == -1) {
    rbd_snap_remove (img, name);
    r = -1;
  }
  if (own)
    rbd_close (img);
  return r < 0 ? -1 : 0;
}

static int
rbd_disk_checkpoint_delete (gk_h *h, void *priv, const char *name)
{
  struct rbd_disk *d = priv;
  CLEANUP_FREE char *child = NULL;
  rbd_image_t img;
  bool own, exists = false;
  int r, ret = -1;

  if (check_snap_name (h, d, name) == -1 ||
      fresh_handle (h, d, true, &img, &own) == -1)
    return -1;
  r = rbd_snap_exists (img, name, &exists);
  if (r < 0) {
    disk_fail (h, d, "delete checkpoint", r);
    goto out;
  }
  if (!exists) {
    error_errno (h, ENOENT, "rbd pool ‘%s’: volume ‘%s’: no checkpoint "
                 "‘%s’", d->pool, d->vol, name);
    goto out;
  }
  /* A clone's parent: the clone needs it (as vol-delete refuses). */
  if (snap_children (img, name, &child) > 0) {
    error_errno (h, EBUSY, "rbd pool ‘%s’: volume ‘%s’: checkpoint ‘%s’ "
                 "has clones (%s)", d->pool, d->vol, name,
                 child ? child : "?");
    goto out;
  }
  /* Reads go back to the image. */
  if (d->pinned && strcmp (d->pinned, name) == 0)
    unpin (d);
  r = drop_snap (img, name);
  if (r < 0) {
    disk_fail (h, d, "delete checkpoint", r);
    goto out;
  }
  ret = 0;
 out:
  if (own)
    rbd_close (img);
  return ret;
}

static char **
rbd_disk_checkpoint_list (gk_h *h, void *priv)
{
  struct rbd_disk *d = priv;
  CLEANUP_FREE rbd_snap_info_t *snaps = NULL;
  rbd_image_t img;
  char **names = NULL;
  int max = 16, n, i;
  bool own;

  if (fresh_handle (h, d, false, &img, &own) == -1)
    return NULL;
  /* -ERANGE: max was updated to the number of snapshots; try again. */
  do {
    free (snaps);
    snaps = calloc (max, sizeof *snaps);
    if (snaps == NULL) {
      perrorf (h, "rbd");
      goto out;
    }
    n = rbd_snap_list (img, snaps, &max);
  } while (n == -ERANGE);
  if (n < 0) {
    disk_fail (h, d, "list checkpoints", n);
    goto out;
  }
  /* In creation order (librbd's: by snapshot id). */
  names = calloc (n + 1, sizeof (char *));
  for (i = 0; names != NULL && i < n; ++i)
    if ((names[i] = strdup (snaps[i].name)) == NULL) {
      free_string_list (names);
      names = NULL;
    }
  if (names == NULL)
    perrorf (h, "rbd");
  rbd_snap_list_end (snaps);
 out:
  if (own)
    rbd_close (img);
  return names;
}

static void
free_disk (struct rbd_disk *d)
{
  conn_close (&d->c);
  free (d->pool);
  free (d->vol);
  free (d);
}

static int
rbd_disk_close (gk_h *h, void *priv)
{
  struct rbd_disk *d = priv;
  int r = 0, e;

  unpin (d);
  /* Only flushed writes are on the OSDs: report their failure here. */
  if (d->rw && (e = rbd_flush (d->img)) < 0)
    r = disk_fail (h, d, "flush", e);
  e = rbd_close (d->img);
  if (e < 0 && r == 0 && d->rw)
    r = disk_fail (h, d, "close", e);
  free_disk (d);
  return r;
}

static const struct gk_disk_ops rbd_disk_ops = {
  .name = "rbd",
  .pread = rbd_disk_pread,
  .extents = rbd_disk_extents,
  .checkpoint_create = rbd_disk_checkpoint_create,
  .checkpoint_delete = rbd_disk_checkpoint_delete,
  .checkpoint_list = rbd_disk_checkpoint_list,
  .changed_extents = rbd_disk_changed_extents,
  .close = rbd_disk_close,
};

/* The same, writable (GK_DISK_READWRITE). */
static const struct gk_disk_ops rbd_disk_rw_ops = {
  .name = "rbd",
  .pread = rbd_disk_pread,
  .pwrite = rbd_disk_pwrite,
  .zero = rbd_disk_zero,
  .flush = rbd_disk_flush,
  .extents = rbd_disk_extents,
  .checkpoint_create = rbd_disk_checkpoint_create,
  .checkpoint_delete = rbd_disk_checkpoint_delete,
  .checkpoint_list = rbd_disk_checkpoint_list,
  .changed_extents = rbd_disk_changed_extents,
  .close = rbd_disk_close,
};

static int
rbd_vol_open_disk (gk_h *h, const struct pool_def *def, const char *name,
                   unsigned flags, struct gk_disk_source *src)
{
  struct rbd_disk *d = calloc (1, sizeof *d);
  uint64_t size;

  if (d == NULL || (d->pool = strdup (def->name)) == NULL ||
      (d->vol = strdup (name)) == NULL) {
    perrorf (h, "rbd");
    if (d)
      free (d->pool);
    free (d);
    return -1;
  }
  d->rw = flags & GK_DISK_READWRITE;
  if (conn_open (h, def, &d->c) == -1)
    goto err;
  if (open_image (h, def, &d->c, name, !d->rw, &d->img) == -1)
    goto err;
  if (image_size (h, def, name, d->img, &size) == -1) {
    rbd_close (d->img);
    goto err;
  }
  src->ops = d->rw ? &rbd_disk_rw_ops : &rbd_disk_ops;
  src->priv = d;
  src->size = size;
  return 0;

 err:
  free_disk (d);
  return -1;
}

static const struct pool_backend rbd_backend = {
  .size = sizeof (struct pool_backend),
  .type = "rbd",
  .xml_type = "rbd",
  .check_def = rbd_check_def,
  .start = rbd_start,
  .refresh = rbd_refresh,
  .vol_list = rbd_vol_list,
  .vol_info = rbd_vol_info,
  .vol_create = rbd_vol_create,
  .vol_delete = rbd_vol_delete,
  .vol_resize = rbd_vol_resize,
  .vol_clone = rbd_vol_clone,
  .vol_wipe = rbd_vol_wipe,
  .vol_upload = rbd_vol_upload,
  .vol_download = rbd_vol_download,
  .vol_rename = rbd_vol_rename,
  .vol_open_disk = rbd_vol_open_disk,
};

/* This backend is the pool-rbd module (lib/modules.h), loaded by
 * pools/registry.c only when a pool of this type is used, so that other
 * programs never load librbd.  Its one export:
 */
extern const struct gk_pool_module guestkit_module;
const struct gk_pool_module guestkit_module = {
  .hdr = GK_MODULE_HEADER (struct gk_pool_module, "pool-rbd"),
  .backend = &rbd_backend,
};
