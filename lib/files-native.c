/* libguestkit: the file-level API without the appliance.
 *
 * On a handle whose drives are all read-only, whose engine is not forced
 * to the appliance and whose appliance has not started, gk_mount_ro of
 * an ext2/3/4 filesystem the native engine is sure of mounts it in
 * process (the same tree as mount-local's native engine,
 * lib/mount-local-native.c).  The reading calls (gk_readdir, gk_ls,
 * gk_stat, gk_readlink, gk_is_file, gk_is_dir, gk_exists, gk_read_file,
 * gk_download) are then served from it: a backup tool lists and reads
 * files of a backup in milliseconds.
 *
 * Anything else (another filesystem, any other call) moves the native
 * mounts into the appliance first (gk_int_files_native_to_appliance),
 * so callers see one consistent tree either way.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>

#include "internal.h"
#include "modules.h"
#include "mount-local.h"
#include "native/reader.h"
#include "cleanups.h"

#define MAX_SYMLINKS 40

static bool
all_drives_readonly (gk_h *h)
{
  size_t i;

  for (i = 0; i < h->drives.len; ++i)
    if (!h->drives.ptr[i].readonly)
      return false;
  return h->drives.len > 0;
}

int
gk_int_files_native_mount (gk_h *h, const char *mountable,
                           const char *mountpoint)
{
  CLEANUP_FREE char *why = NULL;
  int r;

  if (h->engine == GK_ENGINE_APPLIANCE || h->appliance != NULL ||
      !all_drives_readonly (h))
    return 1;
  r = gk_int_ml_native_add (h, &h->nfiles, mountable, mountpoint, &why);
  if (r == GK_NATIVE_UNSURE) {
    debug (h, "files: %s on %s: the appliance (%s)", mountable, mountpoint,
           why ? why : "unsure");
    return 1;
  }
  if (r == 0)
    debug (h, "files: %s on %s: native", mountable, mountpoint);
  return r;
}

int
gk_int_files_native_to_appliance (gk_h *h,
                                  int (*mount_ro) (gk_h *, const char *,
                                                   const char *))
{
  struct ml_native *nat = h->nfiles;
  const char *mountable, *mountpoint;
  size_t i;

  if (nat == NULL)
    return 0;
  h->nfiles = NULL;
  debug (h, "files: moving the native mounts into the appliance");
  for (i = 0; gk_int_ml_native_mount (nat, i, &mountable, &mountpoint) == 0;
       ++i)
    if (mount_ro (h, mountable, mountpoint) == -1) {
      gk_int_ml_native_free (nat);
      return -1;
    }
  gk_int_ml_native_free (nat);
  return 0;
}

void
gk_int_files_native_free (gk_h *h)
{
  if (h->nfiles) {
    gk_int_ml_native_free (h->nfiles);
    h->nfiles = NULL;
  }
}

/* Resolve symbolic links in every component (and the last one too when
 * follow), as the kernel would: into buf, an absolute path.  0 or a
 * negative errno.
 */
static int
resolve_path (gk_h *h, const char *path, bool follow, char *buf,
              size_t bufsize)
{
  CLEANUP_FREE char *rest = NULL;
  size_t len = 0;
  int links = 0;

  if (path[0] != '/')
    return -EINVAL;
  rest = strdup (path);
  if (rest == NULL)
    return -ENOMEM;
  buf[0] = '\0';
  for (;;) {
    char *p = rest, *comp, *next;
    struct stat st;
    int r;

    while (*p == '/')
      p++;
    if (*p == '\0')
      break;
    comp = p;
    next = strchr (p, '/');
    if (next)
      *next++ = '\0';
    if (strcmp (comp, ".") == 0)
      ;
    else if (strcmp (comp, "..") == 0) {
      char *slash = strrchr (buf, '/');

      if (slash) {
        *slash = '\0';
        len = slash - buf;
      }
    }
    else {
      size_t clen = strlen (comp);

      if (len + 1 + clen + 1 > bufsize)
        return -ENAMETOOLONG;
      buf[len] = '/';
      memcpy (buf + len + 1, comp, clen + 1);
      r = gk_int_ml_native_lstat (h->nfiles, buf, &st);
      if (r < 0)
        return r;
      if (S_ISLNK (st.st_mode) && (next || follow)) {
        CLEANUP_FREE char *target = NULL;
        char *newrest;

        if (++links > MAX_SYMLINKS)
          return -ELOOP;
        r = gk_int_ml_native_readlink (h->nfiles, buf, &target);
        if (r < 0)
          return r;
        if (target[0] == '/') {
          buf[0] = '\0';
          len = 0;
        }
        else
          buf[len] = '\0';
        if ((next && *next ?
             asprintf (&newrest, "%s/%s", target, next) :
             asprintf (&newrest, "%s", target)) == -1)
          return -ENOMEM;
        free (rest);
        rest = newrest;
        continue;
      }
      if (next && !S_ISDIR (st.st_mode))
        return -ENOTDIR;
      len += 1 + clen;
    }
    if (next == NULL)
      break;
    memmove (rest, next, strlen (next) + 1);
  }
  if (len == 0)
    strcpy (buf, "/");
  return 0;
}

static int
fail (gk_h *h, const char *call, const char *path, int neg_errno)
{
  error_errno (h, -neg_errno, "%s: %s: %s", call, path, strerror (-neg_errno));
  return -1;
}

static void
to_gk_stat (const struct stat *st, struct gk_stat *ret)
{
  ret->dev = st->st_dev;
  ret->ino = st->st_ino;
  ret->mode = st->st_mode;
  ret->nlink = st->st_nlink;
  ret->uid = st->st_uid;
  ret->gid = st->st_gid;
  ret->rdev = st->st_rdev;
  ret->size = st->st_size;
  ret->blksize = st->st_blksize;
  ret->blocks = st->st_blocks;
  ret->atime = st->st_atim.tv_sec;
  ret->mtime = st->st_mtim.tv_sec;
  ret->ctime = st->st_ctim.tv_sec;
  ret->atime_nsec = st->st_atim.tv_nsec;
  ret->mtime_nsec = st->st_mtim.tv_nsec;
  ret->ctime_nsec = st->st_ctim.tv_nsec;
}

static int
lookup (gk_h *h, const char *call, const char *path, bool follow,
        char *buf, size_t bufsize, struct stat *st)
{
  int r = resolve_path (h, path, follow, buf, bufsize);

  if (r == 0)
    r = gk_int_ml_native_lstat (h->nfiles, buf, st);
  if (r < 0)
    return fail (h, call, path, r);
  return 0;
}

int
gk_int_files_native_stat (gk_h *h, const char *path, struct gk_stat *ret,
                          unsigned flags)
{
  char buf[4096];
  struct stat st;

  if (lookup (h, flags & GK_STAT_NOFOLLOW ? "lstat" : "stat", path,
              !(flags & GK_STAT_NOFOLLOW), buf, sizeof buf, &st) == -1)
    return -1;
  to_gk_stat (&st, ret);
  return 0;
}

/* gk_is_file, gk_is_dir (mode S_IFREG/S_IFDIR) and gk_exists (0). */
int
gk_int_files_native_is (gk_h *h, const char *path, unsigned flags,
                        mode_t type)
{
  char buf[4096];
  struct stat st;
  int r = resolve_path (h, path, type == 0 || (flags & GK_FOLLOW_SYMLINKS),
                        buf, sizeof buf);

  if (r == 0)
    r = gk_int_ml_native_lstat (h->nfiles, buf, &st);
  if (r == -ENOENT || r == -ENOTDIR)
    return 0;
  if (r < 0)
    return fail (h, "is", path, r);
  return type == 0 || (st.st_mode & S_IFMT) == type;
}

char *
gk_int_files_native_readlink (gk_h *h, const char *path)
{
  char buf[4096];
  char *target = NULL;
  int r = resolve_path (h, path, false, buf, sizeof buf);

  if (r == 0)
    r = gk_int_ml_native_readlink (h->nfiles, buf, &target);
  if (r < 0) {
    fail (h, "readlink", path, r);
    return NULL;
  }
  return target;
}

struct dirents {
  struct gk_dirent *ents;
  size_t n, alloc;
  bool stat;
};

static char
type_char (mode_t mode)
{
  switch (mode & S_IFMT) {
  case S_IFREG: return 'r';
  case S_IFDIR: return 'd';
  case S_IFLNK: return 'l';
  case S_IFCHR: return 'c';
  case S_IFBLK: return 'b';
  case S_IFIFO: return 'f';
  case S_IFSOCK: return 's';
  default: return 'u';
  }
}

static int
add_dirent (void *opaque, const char *name, const struct stat *st)
{
  struct dirents *d = opaque;
  struct gk_dirent *e;

  if (d->n == d->alloc) {
    size_t a = d->alloc ? d->alloc * 2 : 64;
    struct gk_dirent *p = realloc (d->ents, a * sizeof *p);

    if (p == NULL)
      return -ENOMEM;
    d->ents = p;
    d->alloc = a;
  }
  e = &d->ents[d->n];
  memset (e, 0, sizeof *e);
  e->name = strdup (name);
  if (e->name == NULL)
    return -ENOMEM;
  e->type = type_char (st->st_mode);
  e->ino = st->st_ino;
  if (d->stat)
    to_gk_stat (st, &e->st);
  d->n++;
  return 0;
}

static int
cmp_dirent (const void *a, const void *b)
{
  return strcmp (((const struct gk_dirent *) a)->name,
                 ((const struct gk_dirent *) b)->name);
}

int
gk_int_files_native_readdir (gk_h *h, const char *dir, unsigned flags,
                             struct gk_dirent **ents_rtn, size_t *n_rtn)
{
  char buf[4096];
  struct stat st;
  struct dirents d = { .stat = flags & GK_READDIR_STAT };
  int r;

  if (lookup (h, "readdir", dir, true, buf, sizeof buf, &st) == -1)
    return -1;
  if (!S_ISDIR (st.st_mode))
    return fail (h, "readdir", dir, -ENOTDIR);
  r = gk_int_ml_native_readdir (h->nfiles, buf, add_dirent, &d);
  if (r < 0) {
    gk_free_dirents (d.ents, d.n);
    return fail (h, "readdir", dir, r);
  }
  *ents_rtn = d.ents;
  *n_rtn = d.n;
  return 0;
}

char **
gk_int_files_native_ls (gk_h *h, const char *dir)
{
  struct gk_dirent *ents;
  size_t n, i, j = 0;
  char **names;

  if (gk_int_files_native_readdir (h, dir, 0, &ents, &n) == -1)
    return NULL;
  qsort (ents, n, sizeof *ents, cmp_dirent);
  names = calloc (n + 1, sizeof (char *));
  if (names == NULL) {
    perrorf (h, "ls");
    gk_free_dirents (ents, n);
    return NULL;
  }
  for (i = 0; i < n; ++i) {
    if (strcmp (ents[i].name, ".") == 0 || strcmp (ents[i].name, "..") == 0)
      continue;
    names[j++] = ents[i].name;
    ents[i].name = NULL;
  }
  gk_free_dirents (ents, n);
  return names;
}

/* Read a regular file: each piece to cb. */
static int
read_file (gk_h *h, const char *call, const char *path,
           int (*cb) (gk_h *h, void *opaque, const char *buf, size_t len),
           void *opaque)
{
  char buf[4096];
  struct stat st;
  struct ml_native_file *f;
  CLEANUP_FREE char *data = NULL;
  const size_t chunk = 1024 * 1024;
  uint64_t off = 0;
  int r;

  if (lookup (h, call, path, true, buf, sizeof buf, &st) == -1)
    return -1;
  if (S_ISDIR (st.st_mode))
    return fail (h, call, path, -EISDIR);
  r = gk_int_ml_native_open (h->nfiles, buf, &f);
  if (r < 0)
    return fail (h, call, path, r);
  data = malloc (chunk);
  if (data == NULL) {
    gk_int_ml_native_close (f);
    perrorf (h, "malloc");
    return -1;
  }
  for (;;) {
    ssize_t n = gk_int_ml_native_pread (f, data, chunk, off);

    if (n < 0) {
      gk_int_ml_native_close (f);
      return fail (h, call, path, (int) n);
    }
    if (n == 0)
      break;
    if (cb (h, opaque, data, n) == -1) {
      gk_int_ml_native_close (f);
      return -1;
    }
    off += n;
    if (h->cancelled) {
      gk_int_ml_native_close (f);
      error_errno (h, ECANCELED, "%s: %s: cancelled", call, path);
      return -1;
    }
  }
  gk_int_ml_native_close (f);
  return 0;
}

static int
to_fd (gk_h *h, void *opaque, const char *buf, size_t len)
{
  int fd = *(int *) opaque;

  while (len > 0) {
    ssize_t r = write (fd, buf, len);

    if (r == -1) {
      if (errno == EINTR)
        continue;
      perrorf (h, "download: write");
      return -1;
    }
    buf += r;
    len -= r;
  }
  return 0;
}

int
gk_int_files_native_download (gk_h *h, const char *path, int fd)
{
  return read_file (h, "download", path, to_fd, &fd);
}

struct membuf { char *p; size_t len; };

static int
to_mem (gk_h *h, void *opaque, const char *buf, size_t len)
{
  struct membuf *m = opaque;
  char *p = realloc (m->p, m->len + len + 1);

  if (p == NULL) {
    perrorf (h, "read_file");
    return -1;
  }
  memcpy (p + m->len, buf, len);
  m->p = p;
  m->len += len;
  m->p[m->len] = '\0';
  return 0;
}

char *
gk_int_files_native_read_file (gk_h *h, const char *path, size_t *size_rtn)
{
  struct membuf m = { NULL, 0 };

  if (read_file (h, "read_file", path, to_mem, &m) == -1) {
    free (m.p);
    return NULL;
  }
  if (m.p == NULL && (m.p = calloc (1, 1)) == NULL) {
    perrorf (h, "read_file");
    return NULL;
  }
  if (size_rtn)
    *size_rtn = m.len;
  return m.p;
}
