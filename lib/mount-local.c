/* libguestkit: mount-local, the guest's filesystems on a host directory
 * through FUSE (fuse3, multi-threaded).  lib/mount-local.h says how the
 * work is split between the two engines.
 *
 * What makes it faster than libguestfs's guestmount (ANCHORS 4.2):
 *
 * - libfuse's multi-threaded loop: requests answered from the caches
 *   (or by the native engine) do not wait behind an appliance call;
 * - readdir returns every entry's attributes (readdirplus), fetched with
 *   two appliance calls per directory (libguestfs: four), so that the
 *   kernel needs no lookup per entry;
 * - an open file keeps a read-ahead buffer: sequential reads become
 *   GK_PREAD_MAX (2 MiB) appliance reads whatever size the kernel asks
 *   for, and max_write is 1 MiB;
 * - read-only ext2/3/4 never reaches the appliance (the native engine).
 *
 * The metadata cache: attributes (from readdir and getattr), symbolic
 * link targets and extended attributes, by path, for cache_timeout
 * seconds (the kernel gets the same timeout for its own entry and
 * attribute caches on a read-only mount, one second on a read-write one:
 * ml_init says why).  Every change made through the mount invalidates
 * the entries it touches (the path and its parent; a rename everything)
 * before it returns.  Changes made to the disk by anyone else are not
 * seen until the timeout: nothing else should write a disk that is
 * mounted.
 */
#include <config.h>

#define FUSE_USE_VERSION 312
#include <fuse.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <inttypes.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <sys/sysmacros.h>

#include "internal.h"
#include "mount-local.h"
#include "native/reader.h"

#define DEFAULT_CACHE_TIMEOUT 60
#define NR_BUCKETS 4096
#define MIN_READ_AHEAD (128 * 1024)

/* A cached path. */
struct centry {
  struct centry *next;
  char *path;
  time_t expires;           /* CLOCK_MONOTONIC seconds */
  bool have_st;
  struct stat st;
  char *link;               /* readlink, or NULL */
  bool have_xattrs;
  struct gk_xattr *xattrs;
  size_t nxattrs;
};

/* A mount added with gk_mount_local_add. */
struct gk_mount_local {
  gk_h *h;
  struct ml_native *native;     /* the native engine's tree, or NULL */
  bool appliance;               /* the tree is in the appliance */

  /* Set by gk_mount_local. */
  char *mountpoint;
  struct fuse *fuse;
  unsigned flags;
  int timeout;
  char *fuse_options;           /* the caller's, or NULL */

  pthread_mutex_t call_lock;    /* one appliance call at a time */
  pthread_mutex_t cache_lock;
  struct centry *buckets[NR_BUCKETS];
  uint64_t write_gen;           /* bumped by every write (cache_lock) */
};

/* An open file. */
struct ml_file {
  char *path;
  struct ml_native_file *nf;    /* native engine */
  pthread_mutex_t lock;
  char *buf;                    /* read-ahead: buflen bytes at bufoff */
  size_t buflen;
  uint64_t bufoff;
  uint64_t bufgen;              /* ml->write_gen when it was filled */
  bool bufeof;                  /* the buffer ends where the file does */
  uint64_t next;                /* where a sequential read would go on */
  size_t ra;                    /* the next read-ahead size */
};

static struct gk_mount_local *
get_ml (gk_h *h)
{
  struct gk_mount_local *ml;

  if (h->ml)
    return h->ml;
  ml = calloc (1, sizeof *ml);
  if (ml == NULL) {
    perrorf (h, "mount_local");
    return NULL;
  }
  ml->h = h;
  ml->timeout = DEFAULT_CACHE_TIMEOUT;
  pthread_mutex_init (&ml->call_lock, NULL);
  pthread_mutex_init (&ml->cache_lock, NULL);
  h->ml = ml;
  return ml;
}

/*----------------------------------------------------------------------
 * The cache.
 */
static time_t
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec;
}

static size_t
hash (const char *path)
{
  size_t h = 5381;

  while (*path)
    h = h * 33 + (unsigned char) *path++;
  return h % NR_BUCKETS;
}

static void
free_centry (struct centry *e)
{
  free (e->path);
  free (e->link);
  gk_free_xattrs (e->xattrs, e->nxattrs);
  free (e);
}

/* The live entry for path (cache_lock held), or NULL. */
static struct centry *
cache_find (struct gk_mount_local *ml, const char *path)
{
  struct centry **pp = &ml->buckets[hash (path)], *e;
  time_t t = now ();

  while ((e = *pp) != NULL) {
    if (e->expires < t) {         /* expired: drop it on the way */
      *pp = e->next;
      free_centry (e);
      continue;
    }
    if (strcmp (e->path, path) == 0)
      return e;
    pp = &e->next;
  }
  return NULL;
}

/* The entry for path, made if needed (cache_lock held), or NULL if out
 * of memory (the cache is only an optimisation).
 */
static struct centry *
cache_get (struct gk_mount_local *ml, const char *path)
{
  struct centry *e = cache_find (ml, path);
  size_t b;

  if (e)
    return e;
  e = calloc (1, sizeof *e);
  if (e == NULL || (e->path = strdup (path)) == NULL) {
    free (e);
    return NULL;
  }
  e->expires = now () + ml->timeout;
  b = hash (path);
  e->next = ml->buckets[b];
  ml->buckets[b] = e;
  return e;
}

static void
cache_put_stat (struct gk_mount_local *ml, const char *path,
                const struct stat *st)
{
  struct centry *e;

  if (ml->timeout <= 0)
    return;
  pthread_mutex_lock (&ml->cache_lock);
  e = cache_get (ml, path);
  if (e) {
    e->st = *st;
    e->have_st = true;
  }
  pthread_mutex_unlock (&ml->cache_lock);
}

static bool
cache_get_stat (struct gk_mount_local *ml, const char *path, struct stat *st)
{
  struct centry *e;
  bool found = false;

  pthread_mutex_lock (&ml->cache_lock);
  e = cache_find (ml, path);
  if (e && e->have_st) {
    *st = e->st;
    found = true;
  }
  pthread_mutex_unlock (&ml->cache_lock);
  return found;
}

static void
cache_remove (struct gk_mount_local *ml, const char *path)
{
  struct centry **pp = &ml->buckets[hash (path)], *e;

  while ((e = *pp) != NULL) {
    if (strcmp (e->path, path) == 0) {
      *pp = e->next;
      free_centry (e);
      return;
    }
    pp = &e->next;
  }
}

static void
cache_clear (struct gk_mount_local *ml)
{
  size_t i;
  struct centry *e;

  pthread_mutex_lock (&ml->cache_lock);
  for (i = 0; i < NR_BUCKETS; ++i)
    while ((e = ml->buckets[i]) != NULL) {
      ml->buckets[i] = e->next;
      free_centry (e);
    }
  pthread_mutex_unlock (&ml->cache_lock);
}

/* A change to path: forget it and its directory (whose times, size and
 * link count change with it).
 */
static void
cache_invalidate (struct gk_mount_local *ml, const char *path)
{
  CLEANUP_FREE char *parent = strdup (path);
  char *slash;
  struct centry *e;

  pthread_mutex_lock (&ml->cache_lock);
  e = cache_find (ml, path);
  if (e && e->have_st && !S_ISDIR (e->st.st_mode) && e->st.st_nlink > 1) {
    /* A file with other names: their entries are stale too. */
    pthread_mutex_unlock (&ml->cache_lock);
    cache_clear (ml);
    return;
  }
  cache_remove (ml, path);
  if (parent && (slash = strrchr (parent, '/')) != NULL) {
    if (slash == parent)
      slash[1] = '\0';
    else
      *slash = '\0';
    cache_remove (ml, parent);
  }
  pthread_mutex_unlock (&ml->cache_lock);
}

/*----------------------------------------------------------------------
 * Appliance calls: one at a time; an error becomes a negative errno.
 */
#define LOCK_CALL(ml) pthread_mutex_lock (&(ml)->call_lock)
#define UNLOCK_CALL(ml) pthread_mutex_unlock (&(ml)->call_lock)

/* The failed call's errno as a negative number (call_lock held). */
static int
call_error (struct gk_mount_local *ml)
{
  int e = gk_last_errno (ml->h);

  debug (ml->h, "mount-local: %s", gk_last_error (ml->h));
  return -(e > 0 ? e : EIO);
}

static struct gk_mount_local *
this_ml (void)
{
  return fuse_get_context ()->private_data;
}

#define TRACE(ml, fs, ...)                                              \
  do {                                                                  \
    if ((ml)->flags & GK_MOUNT_LOCAL_DEBUG_CALLS)                       \
      trace ((ml)->h, "fuse: " fs, ##__VA_ARGS__);                      \
  } while (0)

static void
gk_stat_to_stat (const struct gk_stat *g, struct stat *st)
{
  memset (st, 0, sizeof *st);
  st->st_dev = g->dev;
  st->st_ino = g->ino;
  st->st_mode = g->mode;
  st->st_nlink = g->nlink;
  st->st_uid = g->uid;
  st->st_gid = g->gid;
  st->st_rdev = g->rdev;
  st->st_size = g->size;
  st->st_blksize = g->blksize;
  st->st_blocks = g->blocks;
  st->st_atim.tv_sec = g->atime;
  st->st_atim.tv_nsec = g->atime_nsec;
  st->st_mtim.tv_sec = g->mtime;
  st->st_mtim.tv_nsec = g->mtime_nsec;
  st->st_ctim.tv_sec = g->ctime;
  st->st_ctim.tv_nsec = g->ctime_nsec;
}

/* "dir" + "/" + "name" */
static char *
join (const char *dir, const char *name)
{
  char *p;

  if (asprintf (&p, "%s%s%s", dir, strcmp (dir, "/") == 0 ? "" : "/",
                name) == -1)
    return NULL;
  return p;
}

/*----------------------------------------------------------------------
 * The FUSE operations.
 */
/* Did the caller's FUSE options set this one ("key" or "key=...")? */
static bool
user_set (const struct gk_mount_local *ml, const char *key)
{
  const char *p = ml->fuse_options;
  size_t len = strlen (key);

  while (p && *p) {
    if (strncmp (p, key, len) == 0 && (p[len] == '\0' || p[len] == ',' ||
                                       p[len] == '='))
      return true;
    p = strchr (p, ',');
    if (p)
      p++;
  }
  return false;
}

static void *
ml_init (struct fuse_conn_info *conn, struct fuse_config *cfg)
{
  struct gk_mount_local *ml = this_ml ();
  double kernel_timeout;

  /* The kernel's caches: as long as ours on a read-only mount.  On a
   * read-write one, one second (FUSE's default): the kernel knows the
   * other names of a hard-linked file by their own entries, which our
   * changes through one name cannot reach; after a second it asks us
   * again, and our cache has forgotten them (cache_invalidate).
   * Options the caller gave (-o attr_timeout=...) win.
   */
  if (ml->flags & GK_MOUNT_LOCAL_READONLY)
    kernel_timeout = ml->timeout;
  else
    kernel_timeout = ml->timeout < 1 ? ml->timeout : 1;
  if (!user_set (ml, "use_ino"))
    cfg->use_ino = 1;
  if (!user_set (ml, "entry_timeout"))
    cfg->entry_timeout = kernel_timeout;
  if (!user_set (ml, "attr_timeout"))
    cfg->attr_timeout = kernel_timeout;
  if (!user_set (ml, "negative_timeout"))
    cfg->negative_timeout = 0;
  /* Only the mount changes the files: keep the kernel's page cache of a
   * file across opens when nothing can change it.
   */
  if (!user_set (ml, "kernel_cache") && !user_set (ml, "auto_cache"))
    cfg->kernel_cache = (ml->flags & GK_MOUNT_LOCAL_READONLY) != 0;
  conn->max_write = 1024 * 1024;
  if (conn->capable & FUSE_CAP_READDIRPLUS)
    conn->want |= FUSE_CAP_READDIRPLUS;
  return ml;
}

static int
ml_getattr (const char *path, struct stat *st, struct fuse_file_info *fi)
{
  struct gk_mount_local *ml = this_ml ();
  struct gk_stat g;
  int r;

  TRACE (ml, "getattr %s", path);
  if (cache_get_stat (ml, path, st))
    return 0;
  if (ml->native)
    r = gk_int_ml_native_lstat (ml->native, path, st);
  else {
    LOCK_CALL (ml);
    r = gk_stat (ml->h, path, &g, GK_STAT_NOFOLLOW);
    if (r == -1)
      r = call_error (ml);
    UNLOCK_CALL (ml);
    if (r == 0)
      gk_stat_to_stat (&g, st);
  }
  if (r == 0)
    cache_put_stat (ml, path, st);
  return r;
}

struct fill {
  struct gk_mount_local *ml;
  const char *dir;
  void *buf;
  fuse_fill_dir_t filler;
};

static int
fill_one (void *opaque, const char *name, const struct stat *st)
{
  struct fill *f = opaque;
  CLEANUP_FREE char *path = join (f->dir, name);

  if (path)
    cache_put_stat (f->ml, path, st);
  return f->filler (f->buf, name, st, 0, FUSE_FILL_DIR_PLUS) ? 1 : 0;
}

static int
ml_readdir (const char *path, void *buf, fuse_fill_dir_t filler,
            off_t offset, struct fuse_file_info *fi,
            enum fuse_readdir_flags flags)
{
  struct gk_mount_local *ml = this_ml ();
  struct fill f = { .ml = ml, .dir = path, .buf = buf, .filler = filler };
  struct gk_dirent *ents;
  size_t n, i;
  int r;

  TRACE (ml, "readdir %s", path);
  filler (buf, ".", NULL, 0, 0);
  filler (buf, "..", NULL, 0, 0);
  if (ml->native) {
    r = gk_int_ml_native_readdir (ml->native, path, fill_one, &f);
    return r > 0 ? 0 : r;
  }

  LOCK_CALL (ml);
  r = gk_readdir (ml->h, path, GK_READDIR_STAT, &ents, &n);
  if (r == -1)
    r = call_error (ml);
  UNLOCK_CALL (ml);
  if (r < 0)
    return r;
  for (i = 0; i < n; ++i) {
    struct stat st;

    if (ents[i].st.ino == -1) {   /* removed since readdir */
      memset (&st, 0, sizeof st);
      st.st_ino = ents[i].ino;
      if (filler (buf, ents[i].name, &st, 0, 0))
        break;
      continue;
    }
    gk_stat_to_stat (&ents[i].st, &st);
    if (fill_one (&f, ents[i].name, &st))
      break;
  }
  gk_free_dirents (ents, n);
  return 0;
}

static int
ml_readlink (const char *path, char *buf, size_t size)
{
  struct gk_mount_local *ml = this_ml ();
  CLEANUP_FREE char *target = NULL;
  struct centry *e;
  int r = 0;

  TRACE (ml, "readlink %s", path);
  if (size == 0)
    return -EINVAL;
  pthread_mutex_lock (&ml->cache_lock);
  e = cache_find (ml, path);
  if (e && e->link)
    target = strdup (e->link);
  pthread_mutex_unlock (&ml->cache_lock);

  if (target == NULL) {
    if (ml->native)
      r = gk_int_ml_native_readlink (ml->native, path, &target);
    else {
      LOCK_CALL (ml);
      target = gk_readlink (ml->h, path);
      if (target == NULL)
        r = call_error (ml);
      UNLOCK_CALL (ml);
    }
    if (r < 0)
      return r;
    if (ml->timeout > 0) {
      pthread_mutex_lock (&ml->cache_lock);
      e = cache_get (ml, path);
      if (e && e->link == NULL)
        e->link = strdup (target);
      pthread_mutex_unlock (&ml->cache_lock);
    }
  }
  /* Truncated to fit, as readlink(2) does. */
  strncpy (buf, target, size - 1);
  buf[size - 1] = '\0';
  return 0;
}

static struct ml_file *
new_file (const char *path)
{
  struct ml_file *f = calloc (1, sizeof *f);

  if (f == NULL || (f->path = strdup (path)) == NULL) {
    free (f);
    return NULL;
  }
  pthread_mutex_init (&f->lock, NULL);
  f->ra = MIN_READ_AHEAD;
  return f;
}

static void
free_file (struct ml_file *f)
{
  if (f->nf)
    gk_int_ml_native_close (f->nf);
  pthread_mutex_destroy (&f->lock);
  free (f->buf);
  free (f->path);
  free (f);
}

static int
ml_open (const char *path, struct fuse_file_info *fi)
{
  struct gk_mount_local *ml = this_ml ();
  struct ml_file *f;
  int r;

  TRACE (ml, "open %s 0%o", path, (unsigned) fi->flags);
  if ((fi->flags & O_ACCMODE) != O_RDONLY &&
      (ml->flags & GK_MOUNT_LOCAL_READONLY))
    return -EROFS;
  f = new_file (path);
  if (f == NULL)
    return -ENOMEM;
  if (ml->native) {
    r = gk_int_ml_native_open (ml->native, path, &f->nf);
    if (r < 0) {
      free_file (f);
      return r;
    }
  }
  fi->fh = (uintptr_t) f;
  fi->keep_cache = (ml->flags & GK_MOUNT_LOCAL_READONLY) != 0;
  return 0;
}

static int
ml_release (const char *path, struct fuse_file_info *fi)
{
  struct ml_file *f = (struct ml_file *) (uintptr_t) fi->fh;

  if (f)
    free_file (f);
  return 0;
}

/* Fill f's buffer from offset: at least count bytes unless the file ends
 * first (f->lock and no other lock held).
 */
static int
fill_buffer (struct gk_mount_local *ml, struct ml_file *f, size_t count,
             uint64_t offset)
{
  size_t want = count > f->ra ? count : f->ra;
  size_t len;
  char *data;
  uint64_t gen;

  if (want > GK_PREAD_MAX)
    want = GK_PREAD_MAX;
  pthread_mutex_lock (&ml->cache_lock);
  gen = ml->write_gen;
  pthread_mutex_unlock (&ml->cache_lock);
  LOCK_CALL (ml);
  data = gk_pread (ml->h, f->path, want, offset, &len);
  if (data == NULL) {
    int r = call_error (ml);
    UNLOCK_CALL (ml);
    return r;
  }
  UNLOCK_CALL (ml);
  free (f->buf);
  f->buf = data;
  f->buflen = len;
  f->bufoff = offset;
  f->bufgen = gen;
  f->bufeof = len < want;
  return 0;
}

static int
ml_read (const char *path, char *buf, size_t size, off_t offset,
         struct fuse_file_info *fi)
{
  struct gk_mount_local *ml = this_ml ();
  struct ml_file *f = (struct ml_file *) (uintptr_t) fi->fh;
  size_t done = 0;
  uint64_t gen;
  int r;

  TRACE (ml, "read %s %zu %" PRIi64, path, size, (int64_t) offset);
  if (f->nf)
    return gk_int_ml_native_pread (f->nf, buf, size, offset);

  pthread_mutex_lock (&f->lock);
  /* Sequential reads grow the read-ahead; a seek starts it again. */
  if ((uint64_t) offset == f->next) {
    if (f->ra < GK_PREAD_MAX)
      f->ra *= 2;
  }
  else
    f->ra = MIN_READ_AHEAD;
  pthread_mutex_lock (&ml->cache_lock);
  gen = ml->write_gen;
  pthread_mutex_unlock (&ml->cache_lock);

  while (done < size) {
    uint64_t pos = offset + done;
    bool valid = f->buf != NULL && f->bufgen == gen && pos >= f->bufoff;
    size_t n;

    if (!valid || pos >= f->bufoff + f->buflen) {
      /* A short read tells the kernel where the file ends: only at the
       * end the appliance reported.
       */
      if (valid && f->bufeof)
        break;
      r = fill_buffer (ml, f, size - done, pos);
      if (r < 0) {
        pthread_mutex_unlock (&f->lock);
        return done > 0 ? (int) done : r;
      }
      if (f->buflen == 0)         /* the end of the file */
        break;
    }
    n = f->bufoff + f->buflen - pos;
    if (n > size - done)
      n = size - done;
    memcpy (buf + done, f->buf + (pos - f->bufoff), n);
    done += n;
  }
  f->next = offset + done;
  pthread_mutex_unlock (&f->lock);
  return done;
}

static void
bump_write_gen (struct gk_mount_local *ml)
{
  pthread_mutex_lock (&ml->cache_lock);
  ml->write_gen++;
  pthread_mutex_unlock (&ml->cache_lock);
}

static int
ml_write (const char *path, const char *buf, size_t size, off_t offset,
          struct fuse_file_info *fi)
{
  struct gk_mount_local *ml = this_ml ();
  size_t done = 0;
  int r = 0;

  TRACE (ml, "write %s %zu %" PRIi64, path, size, (int64_t) offset);
  if (ml->native || (ml->flags & GK_MOUNT_LOCAL_READONLY))
    return -EROFS;
  LOCK_CALL (ml);
  while (done < size) {
    size_t n = size - done > GK_PREAD_MAX ? GK_PREAD_MAX : size - done;

    r = gk_pwrite (ml->h, path, buf + done, n, offset + done);
    if (r == -1) {
      r = call_error (ml);
      break;
    }
    if (r == 0)
      break;
    done += r;
  }
  UNLOCK_CALL (ml);
  bump_write_gen (ml);
  cache_invalidate (ml, path);
  return done > 0 ? (int) done : r;
}

/* A change: refused on a read-only mount; else the call, then the cache
 * forgets path (and its directory).
 */
#define CHANGE(ml, path, call)                                          \
  do {                                                                  \
    int r_;                                                             \
    if ((ml)->native || ((ml)->flags & GK_MOUNT_LOCAL_READONLY))        \
      return -EROFS;                                                    \
    LOCK_CALL (ml);                                                     \
    r_ = (call);                                                        \
    if (r_ == -1)                                                       \
      r_ = call_error (ml);                                             \
    UNLOCK_CALL (ml);                                                   \
    cache_invalidate ((ml), (path));                                    \
    if (r_ < 0)                                                         \
      return r_;                                                        \
  } while (0)

/* The appliance makes files and directories under umask 022: set the
 * mode exactly when the caller's has bits that the umask took away.
 */
static int
fix_mode (struct gk_mount_local *ml, const char *path, mode_t mode)
{
  if ((mode & 022) == 0)
    return 0;
  CHANGE (ml, path, gk_chmod (ml->h, mode & 07777, path));
  return 0;
}

static int
ml_create (const char *path, mode_t mode, struct fuse_file_info *fi)
{
  struct gk_mount_local *ml = this_ml ();
  struct ml_file *f;
  int r;

  TRACE (ml, "create %s 0%o", path, (unsigned) mode);
  CHANGE (ml, path, gk_mknod (ml->h, S_IFREG | (mode & 07777), 0, 0, path));
  if ((r = fix_mode (ml, path, mode)) < 0)
    return r;
  f = new_file (path);
  if (f == NULL)
    return -ENOMEM;
  fi->fh = (uintptr_t) f;
  return 0;
}

static int
ml_mknod (const char *path, mode_t mode, dev_t rdev)
{
  struct gk_mount_local *ml = this_ml ();

  TRACE (ml, "mknod %s 0%o", path, (unsigned) mode);
  CHANGE (ml, path, gk_mknod (ml->h, mode, major (rdev), minor (rdev), path));
  return fix_mode (ml, path, mode);
}

static int
ml_mkdir (const char *path, mode_t mode)
{
  struct gk_mount_local *ml = this_ml ();

  TRACE (ml, "mkdir %s 0%o", path, (unsigned) mode);
  CHANGE (ml, path, gk_mkdir (ml->h, path, 0));
  /* gk_mkdir makes 0755. */
  if ((mode & 07777) != 0755)
    CHANGE (ml, path, gk_chmod (ml->h, mode & 07777, path));
  return 0;
}

static int
ml_unlink (const char *path)
{
  struct gk_mount_local *ml = this_ml ();

  TRACE (ml, "unlink %s", path);
  CHANGE (ml, path, gk_rm (ml->h, path, 0));
  return 0;
}

static int
ml_rmdir (const char *path)
{
  struct gk_mount_local *ml = this_ml ();

  TRACE (ml, "rmdir %s", path);
  CHANGE (ml, path, gk_rmdir (ml->h, path));
  return 0;
}

static int
ml_symlink (const char *target, const char *path)
{
  struct gk_mount_local *ml = this_ml ();

  TRACE (ml, "symlink %s %s", target, path);
  CHANGE (ml, path, gk_ln_s (ml->h, target, path));
  return 0;
}

static int
ml_link (const char *oldpath, const char *newpath)
{
  struct gk_mount_local *ml = this_ml ();

  TRACE (ml, "link %s %s", oldpath, newpath);
  CHANGE (ml, newpath, gk_ln (ml->h, oldpath, newpath));
  cache_invalidate (ml, oldpath);       /* its link count */
  return 0;
}

static int
ml_rename (const char *from, const char *to, unsigned int flags)
{
  struct gk_mount_local *ml = this_ml ();

  TRACE (ml, "rename %s %s %u", from, to, flags);
  if (flags != 0)               /* RENAME_NOREPLACE, RENAME_EXCHANGE */
    return -EINVAL;
  CHANGE (ml, to, gk_rename (ml->h, from, to));
  /* Every path under a renamed directory changed: forget everything. */
  cache_clear (ml);
  bump_write_gen (ml);
  return 0;
}

static int
ml_chmod (const char *path, mode_t mode, struct fuse_file_info *fi)
{
  struct gk_mount_local *ml = this_ml ();

  TRACE (ml, "chmod %s 0%o", path, (unsigned) mode);
  CHANGE (ml, path, gk_chmod (ml->h, mode & 07777, path));
  return 0;
}

static int
ml_chown (const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
  struct gk_mount_local *ml = this_ml ();

  TRACE (ml, "chown %s %d %d", path, (int) uid, (int) gid);
  CHANGE (ml, path, gk_lchown (ml->h, (int) uid, (int) gid, path));
  return 0;
}

static int
ml_truncate (const char *path, off_t size, struct fuse_file_info *fi)
{
  struct gk_mount_local *ml = this_ml ();

  TRACE (ml, "truncate %s %" PRIi64, path, (int64_t) size);
  CHANGE (ml, path, gk_truncate (ml->h, path, size));
  bump_write_gen (ml);
  return 0;
}

static int
ml_utimens (const char *path, const struct timespec tv[2],
            struct fuse_file_info *fi)
{
  struct gk_mount_local *ml = this_ml ();
  int64_t as = 0, ans = GK_UTIME_NOW, ms = 0, mns = GK_UTIME_NOW;

  TRACE (ml, "utimens %s", path);
  if (tv) {
    as = tv[0].tv_sec;
    ans = tv[0].tv_nsec == UTIME_NOW ? GK_UTIME_NOW :
      tv[0].tv_nsec == UTIME_OMIT ? GK_UTIME_OMIT : tv[0].tv_nsec;
    ms = tv[1].tv_sec;
    mns = tv[1].tv_nsec == UTIME_NOW ? GK_UTIME_NOW :
      tv[1].tv_nsec == UTIME_OMIT ? GK_UTIME_OMIT : tv[1].tv_nsec;
  }
  CHANGE (ml, path, gk_utimens (ml->h, path, as, ans, ms, mns));
  return 0;
}

static int
ml_statfs (const char *path, struct statvfs *st)
{
  struct gk_mount_local *ml = this_ml ();
  struct gk_statvfs g;
  int r;

  TRACE (ml, "statfs %s", path);
  if (ml->native)
    return gk_int_ml_native_statvfs (ml->native, path, st);
  LOCK_CALL (ml);
  r = gk_statvfs (ml->h, path, &g);
  if (r == -1)
    r = call_error (ml);
  UNLOCK_CALL (ml);
  if (r < 0)
    return r;
  memset (st, 0, sizeof *st);
  st->f_bsize = g.bsize;
  st->f_frsize = g.frsize;
  st->f_blocks = g.blocks;
  st->f_bfree = g.bfree;
  st->f_bavail = g.bavail;
  st->f_files = g.files;
  st->f_ffree = g.ffree;
  st->f_favail = g.favail;
  st->f_fsid = g.fsid;
  st->f_flag = g.flag;
  st->f_namemax = g.namemax;
  return 0;
}

static int
ml_fsync (const char *path, int datasync, struct fuse_file_info *fi)
{
  struct gk_mount_local *ml = this_ml ();
  int r = 0;

  TRACE (ml, "fsync %s", path);
  if (ml->native || (ml->flags & GK_MOUNT_LOCAL_READONLY))
    return 0;
  LOCK_CALL (ml);
  if (gk_sync (ml->h) == -1)
    r = call_error (ml);
  UNLOCK_CALL (ml);
  return r;
}

static int
ml_fsyncdir (const char *path, int datasync, struct fuse_file_info *fi)
{
  return ml_fsync (path, datasync, fi);
}

/* The appliance's xattrs of path, from the cache or fetched: called with
 * cache_lock held, which it may drop and take again.  The returned entry
 * is valid while cache_lock is held.
 */
static int
appliance_xattrs (struct gk_mount_local *ml, const char *path,
                  struct centry **e_rtn)
{
  struct gk_xattr *xs;
  size_t n;
  struct centry *e;
  int r;

  e = cache_find (ml, path);
  if (e && e->have_xattrs) {
    *e_rtn = e;
    return 0;
  }
  pthread_mutex_unlock (&ml->cache_lock);
  LOCK_CALL (ml);
  r = gk_lgetxattrs (ml->h, path, &xs, &n);
  if (r == -1)
    r = call_error (ml);
  UNLOCK_CALL (ml);
  pthread_mutex_lock (&ml->cache_lock);
  if (r < 0)
    return r;
  /* With no cache, a short-lived entry holds them for this call. */
  e = cache_get (ml, path);
  if (e == NULL) {
    gk_free_xattrs (xs, n);
    return -ENOMEM;
  }
  gk_free_xattrs (e->xattrs, e->nxattrs);
  e->xattrs = xs;
  e->nxattrs = n;
  e->have_xattrs = true;
  *e_rtn = e;
  return 0;
}

/* A getxattr or listxattr reply: the length when size is 0 (the caller
 * asks how much room it needs), else the data copied into buf.
 */
static int
xattr_reply (void *buf, size_t size, const void *data, size_t len)
{
  if (size == 0)
    return len;
  if (len > size)
    return -ERANGE;
  memcpy (buf, data, len);
  return len;
}

static int
ml_getxattr (const char *path, const char *name, char *value, size_t size)
{
  struct gk_mount_local *ml = this_ml ();
  struct centry *e;
  size_t i;
  int r;

  TRACE (ml, "getxattr %s %s", path, name);
  if (ml->native) {
    CLEANUP_FREE void *v = NULL;
    size_t len;

    r = gk_int_ml_native_getxattr (ml->native, path, name, &v, &len);
    return r < 0 ? r : xattr_reply (value, size, v, len);
  }

  pthread_mutex_lock (&ml->cache_lock);
  r = appliance_xattrs (ml, path, &e);
  if (r == 0) {
    r = -ENODATA;
    for (i = 0; i < e->nxattrs; ++i) {
      if (strcmp (e->xattrs[i].name, name) != 0)
        continue;
      r = xattr_reply (value, size, e->xattrs[i].value,
                       e->xattrs[i].value_len);
      break;
    }
  }
  if (ml->timeout <= 0)
    cache_remove (ml, path);
  pthread_mutex_unlock (&ml->cache_lock);
  return r;
}

static int
ml_listxattr (const char *path, char *list, size_t size)
{
  struct gk_mount_local *ml = this_ml ();
  struct centry *e;
  size_t i, len = 0;
  int r;

  TRACE (ml, "listxattr %s", path);
  if (ml->native) {
    CLEANUP_FREE char *names = NULL;

    r = gk_int_ml_native_listxattr (ml->native, path, &names, &len);
    return r < 0 ? r : xattr_reply (list, size, names, len);
  }

  pthread_mutex_lock (&ml->cache_lock);
  r = appliance_xattrs (ml, path, &e);
  if (r == 0) {
    for (i = 0; i < e->nxattrs; ++i)
      len += strlen (e->xattrs[i].name) + 1;
    r = len;
    if (size > 0) {
      if (len > size)
        r = -ERANGE;
      else {
        char *p = list;

        for (i = 0; i < e->nxattrs; ++i) {
          size_t l = strlen (e->xattrs[i].name) + 1;

          memcpy (p, e->xattrs[i].name, l);
          p += l;
        }
      }
    }
  }
  if (ml->timeout <= 0)
    cache_remove (ml, path);
  pthread_mutex_unlock (&ml->cache_lock);
  return r;
}

static int
ml_setxattr (const char *path, const char *name, const char *value,
             size_t size, int flags)
{
  struct gk_mount_local *ml = this_ml ();

  TRACE (ml, "setxattr %s %s %zu", path, name, size);
  if (flags & (XATTR_CREATE | XATTR_REPLACE)) {
    /* libguestfs's lsetxattr has no flags: check first. */
    int r = ml_getxattr (path, name, NULL, 0);

    if ((flags & XATTR_CREATE) && r >= 0)
      return -EEXIST;
    if ((flags & XATTR_REPLACE) && r == -ENODATA)
      return -ENODATA;
  }
  CHANGE (ml, path, gk_lsetxattr (ml->h, name, value, size, path));
  return 0;
}

static int
ml_removexattr (const char *path, const char *name)
{
  struct gk_mount_local *ml = this_ml ();

  TRACE (ml, "removexattr %s %s", path, name);
  CHANGE (ml, path, gk_lremovexattr (ml->h, name, path));
  return 0;
}

static const struct fuse_operations ml_ops = {
  .init = ml_init,
  .getattr = ml_getattr,
  .readdir = ml_readdir,
  .readlink = ml_readlink,
  .open = ml_open,
  .read = ml_read,
  .write = ml_write,
  .release = ml_release,
  .create = ml_create,
  .mknod = ml_mknod,
  .mkdir = ml_mkdir,
  .unlink = ml_unlink,
  .rmdir = ml_rmdir,
  .symlink = ml_symlink,
  .link = ml_link,
  .rename = ml_rename,
  .chmod = ml_chmod,
  .chown = ml_chown,
  .truncate = ml_truncate,
  .utimens = ml_utimens,
  .statfs = ml_statfs,
  .fsync = ml_fsync,
  .fsyncdir = ml_fsyncdir,
  .getxattr = ml_getxattr,
  .listxattr = ml_listxattr,
  .setxattr = ml_setxattr,
  .removexattr = ml_removexattr,
};

/*----------------------------------------------------------------------
 * The public calls.
 */

/* Mount everything the native engine holds in the appliance instead,
 * then drop the native tree.
 */
static int
move_to_appliance (struct gk_mount_local *ml)
{
  gk_h *h = ml->h;
  const char *mountable, *mountpoint;
  size_t i;

  for (i = 0; ml->native &&
         gk_int_ml_native_mount (ml->native, i, &mountable, &mountpoint) == 0;
       ++i)
    if (gk_mount (h, mountable, mountpoint, "ro", NULL) == -1)
      return -1;
  gk_int_ml_native_free (ml->native);
  ml->native = NULL;
  ml->appliance = true;
  return 0;
}

static bool
all_drives_readonly (gk_h *h)
{
  size_t i;

  if (h->drives.len == 0)
    return false;
  for (i = 0; i < h->drives.len; ++i)
    if (!h->drives.ptr[i].readonly)
      return false;
  return true;
}

int
gk_mount_local_add (gk_h *h, const char *mountable, const char *mountpoint,
                    const char *options, const char *fstype)
{
  struct gk_mount_local *ml;
  CLEANUP_FREE char *why = NULL;
  int r;

  trace (h, "gk_mount_local_add \"%s\" \"%s\" \"%s\" \"%s\"",
         mountable ? mountable : "(null)", mountpoint ? mountpoint : "(null)",
         options ? options : "", fstype ? fstype : "");
  if (mountable == NULL || mountpoint == NULL) {
    error_errno (h, EINVAL, "mount_local_add: mountable and mountpoint "
                 "must not be NULL");
    return -1;
  }
  if ((ml = get_ml (h)) == NULL)
    return -1;
  if (ml->fuse) {
    error_errno (h, EBUSY, "mount_local_add: already mounted on %s",
                 ml->mountpoint);
    return -1;
  }

  /* The native engine: read-only drives, nothing in the appliance yet,
   * no mount options it would have to honour.
   */
  if (!ml->appliance && h->engine != GK_ENGINE_APPLIANCE &&
      all_drives_readonly (h) && !gk_is_launched (h) &&
      (options == NULL || *options == '\0' || strcmp (options, "ro") == 0) &&
      (fstype == NULL || *fstype == '\0' || strcmp (fstype, "ext2") == 0 ||
       strcmp (fstype, "ext3") == 0 || strcmp (fstype, "ext4") == 0)) {
    r = gk_int_ml_native_add (h, &ml->native, mountable, mountpoint, &why);
    if (r == 0) {
      debug (h, "mount-local: %s on %s: native engine", mountable,
             mountpoint);
      return 0;
    }
    if (r == -1)
      return -1;
    debug (h, "mount-local: %s: the appliance mounts it: %s", mountable,
           why ? why : "?");
  }
  if (h->engine == GK_ENGINE_NATIVE) {
    error_errno (h, ENOTSUP, "mount_local_add: %s: the native engine "
                 "cannot serve it%s%s", mountable, why ? ": " : "",
                 why ? why : "");
    return -1;
  }
  if (!ml->appliance && move_to_appliance (ml) == -1)
    return -1;
  return gk_mount (h, mountable, mountpoint, options ? options : "", fstype);
}

const char *
gk_mount_local_engine (gk_h *h)
{
  if (h->ml && h->ml->native)
    return "native";
  return "appliance";
}

/* The mountpoint must be an empty directory. */
static int
check_mountpoint (gk_h *h, const char *dir)
{
  DIR *d;
  struct dirent *de;
  bool empty = true;

  d = opendir (dir);
  if (d == NULL) {
    if (errno == ENOTDIR)
      error_errno (h, ENOTDIR, "%s: the mountpoint is not a directory", dir);
    else
      perrorf (h, "%s: the mountpoint", dir);
    return -1;
  }
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0) {
      empty = false;
      break;
    }
  closedir (d);
  if (!empty) {
    error_errno (h, ENOTEMPTY, "%s: the mountpoint is not empty", dir);
    return -1;
  }
  return 0;
}

int
gk_mount_local (gk_h *h, const char *localmountpoint,
                const char *fuse_options, int cache_timeout, unsigned flags)
{
  struct gk_mount_local *ml;
  struct fuse_args args = FUSE_ARGS_INIT (0, NULL);
  CLEANUP_FREE char *ours = NULL;

  trace (h, "gk_mount_local \"%s\" \"%s\" %d %u",
         localmountpoint ? localmountpoint : "(null)",
         fuse_options ? fuse_options : "", cache_timeout, flags);
  if (localmountpoint == NULL) {
    error_errno (h, EINVAL, "mount_local: localmountpoint must not be NULL");
    return -1;
  }
  if ((ml = get_ml (h)) == NULL)
    return -1;
  if (ml->fuse) {
    error_errno (h, EBUSY, "mount_local: already mounted on %s",
                 ml->mountpoint);
    return -1;
  }
  if (ml->native == NULL)
    ml->appliance = true;       /* whatever gk_mount mounted */
  if (check_mountpoint (h, localmountpoint) == -1)
    return -1;
  ml->flags = flags;
  if (ml->native)
    ml->flags |= GK_MOUNT_LOCAL_READONLY;
  ml->timeout = cache_timeout >= 0 ? cache_timeout : DEFAULT_CACHE_TIMEOUT;
  free (ml->mountpoint);
  ml->mountpoint = strdup (localmountpoint);
  free (ml->fuse_options);
  ml->fuse_options = fuse_options ? strdup (fuse_options) : NULL;

  /* fsname and subtype say which process serves the mount: guestunmount
   * waits for it (the contract is in guestunmount(1)).  They come last,
   * so that the caller's options cannot change them.
   */
  if (ml->mountpoint == NULL ||
      asprintf (&ours, "fsname=guestmount:%ld,subtype=guestmount%s",
                (long) getpid (),
                (ml->flags & GK_MOUNT_LOCAL_READONLY) ? ",ro" : "") == -1) {
    perrorf (h, "mount_local");
    return -1;
  }
  if (fuse_opt_add_arg (&args, "guestmount") == -1 ||
      (fuse_options && *fuse_options &&
       (fuse_opt_add_arg (&args, "-o") == -1 ||
        fuse_opt_add_arg (&args, fuse_options) == -1)) ||
      fuse_opt_add_arg (&args, "-o") == -1 ||
      fuse_opt_add_arg (&args, ours) == -1) {
    fuse_opt_free_args (&args);
    error_errno (h, ENOMEM, "mount_local: out of memory");
    return -1;
  }
  ml->fuse = fuse_new (&args, &ml_ops, sizeof ml_ops, ml);
  fuse_opt_free_args (&args);
  if (ml->fuse == NULL) {
    error_errno (h, EINVAL, "mount_local: FUSE did not accept the options "
                 "‘%s’", fuse_options ? fuse_options : "");
    return -1;
  }
  if (fuse_mount (ml->fuse, localmountpoint) == -1) {
    fuse_destroy (ml->fuse);
    ml->fuse = NULL;
    error_errno (h, EIO, "mount_local: %s: FUSE mount failed (is /dev/fuse "
                 "there, and fusermount3?)", localmountpoint);
    return -1;
  }
  debug (h, "mount-local: %s mounted (%s engine)", localmountpoint,
         gk_mount_local_engine (h));
  return 0;
}

static void
silent (gk_h *h, void *opaque, const char *msg)
{
}

int
gk_mount_local_run (gk_h *h)
{
  struct gk_mount_local *ml = h->ml;
  struct fuse_session *se;
  struct fuse_loop_config *cfg;
  int r;

  trace (h, "gk_mount_local_run");
  if (ml == NULL || ml->fuse == NULL) {
    error_errno (h, EINVAL, "mount_local_run: gk_mount_local was not called");
    return -1;
  }
  se = fuse_get_session (ml->fuse);
  if (fuse_set_signal_handlers (se) == -1) {
    error (h, "mount_local_run: cannot set the signal handlers");
    return -1;
  }
  cfg = fuse_loop_cfg_create ();
  if (cfg == NULL) {
    fuse_remove_signal_handlers (se);
    error (h, "mount_local_run: out of memory");
    return -1;
  }
  fuse_loop_cfg_set_clone_fd (cfg, 0);
  fuse_loop_cfg_set_max_threads (cfg, 16);
  /* A request's error is its errno, not a message: ENOENT is routine. */
  gk_push_error_handler (h, silent, NULL);
  r = fuse_loop_mt (ml->fuse, cfg);
  gk_pop_error_handler (h);
  fuse_loop_cfg_destroy (cfg);
  fuse_remove_signal_handlers (se);
  fuse_unmount (ml->fuse);
  fuse_destroy (ml->fuse);
  ml->fuse = NULL;
  cache_clear (ml);
  /* r > 0: the signal that ended the loop, which unmounts cleanly. */
  if (r < 0) {
    error_errno (h, -r, "mount_local_run: %s: FUSE loop: %s",
                 ml->mountpoint, strerror (-r));
    return -1;
  }
  debug (h, "mount-local: %s unmounted%s", ml->mountpoint,
         r > 0 ? " (signal)" : "");
  /* Writes reach the disks now, not only at shutdown. */
  if (ml->appliance && !(ml->flags & GK_MOUNT_LOCAL_READONLY) &&
      gk_is_launched (h) && gk_sync (h) == -1)
    return -1;
  return 0;
}

int
gk_umount_local (gk_h *h)
{
  const char *argv[] = { "fusermount3", "-u", NULL, NULL };

  trace (h, "gk_umount_local");
  if (h->ml == NULL || h->ml->mountpoint == NULL) {
    error_errno (h, EINVAL, "umount_local: nothing is mounted");
    return -1;
  }
  argv[2] = h->ml->mountpoint;
  return gk_int_run (h, argv, NULL);
}

void
gk_int_mount_local_free (gk_h *h)
{
  struct gk_mount_local *ml = h->ml;

  if (ml == NULL)
    return;
  if (ml->fuse) {
    fuse_unmount (ml->fuse);
    fuse_destroy (ml->fuse);
  }
  cache_clear (ml);
  gk_int_ml_native_free (ml->native);
  pthread_mutex_destroy (&ml->call_lock);
  pthread_mutex_destroy (&ml->cache_lock);
  free (ml->mountpoint);
  free (ml->fuse_options);
  free (ml);
  h->ml = NULL;
}
