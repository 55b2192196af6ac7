/* libguestkit: mount-local's native engine: read-only ext2/3/4
 * filesystems of the guest's disks, mounted at guest paths, served in
 * process (lib/native/fs-ext-files.c) without the appliance.
 *
 * The devices it knows are whole disks (/dev/sda) and their partitions
 * (/dev/sda1) as the appliance names them; anything else (an LV, a
 * btrfs subvolume, a drive that is not a local file) is "unsure", and
 * mount-local mounts the whole tree in the appliance instead.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>

#include "internal.h"
#include "mount-local.h"
#include "native/reader.h"
#include "native/block.h"
#include "native/parttable.h"
#include "native/fs.h"
#include "native/fs-ext-files.h"

struct nmount {
  char *mountable;
  char *mountpoint;             /* "/", "/boot" (no trailing slash) */
  size_t disk;                  /* index in disks */
  struct gk_reader slice;       /* a partition, or the disk itself */
  struct gk_extfs *fs;
};

struct ml_native {
  struct gk_reader *disks;      /* opened on first use */
  size_t ndisks;
  struct nmount **mounts;        /* each allocated: the readers stay put */
  size_t nmounts;
};

struct ml_native_file {
  struct gk_extfs_file *f;
};

static void
free_nmount (struct nmount *m)
{
  if (m == NULL)
    return;
  if (m->fs)
    gk_extfs_close (m->fs);
  gk_reader_close (&m->slice);
  free (m->mountable);
  free (m->mountpoint);
  free (m);
}

void
gk_int_ml_native_free (struct ml_native *nat)
{
  size_t i;

  if (nat == NULL)
    return;
  for (i = 0; i < nat->nmounts; ++i)
    free_nmount (nat->mounts[i]);
  free (nat->mounts);
  for (i = 0; i < nat->ndisks; ++i)
    gk_reader_close (&nat->disks[i]);
  free (nat->disks);
  free (nat);
}

int
gk_int_ml_native_mount (const struct ml_native *nat, size_t i,
                        const char **mountable_rtn,
                        const char **mountpoint_rtn)
{
  if (i >= nat->nmounts)
    return -1;
  *mountable_rtn = nat->mounts[i]->mountable;
  *mountpoint_rtn = nat->mounts[i]->mountpoint;
  return 0;
}

/* "/dev/sdb3" -> disk 1, partition 3; "/dev/sdb" -> partition 0.
 * false if the name is not of that shape.
 */
static bool
parse_device (const char *name, size_t *disk_rtn, int *part_rtn)
{
  const char *p;
  size_t disk = 0, letters = 0;
  int part = 0;

  if (strncmp (name, "/dev/sd", 7) != 0)
    return false;
  for (p = name + 7; *p >= 'a' && *p <= 'z'; ++p, ++letters)
    disk = (letters == 0 ? 0 : (disk + 1) * 26) + (*p - 'a');
  if (letters == 0 || letters > 3)
    return false;
  if (*p) {
    if (*p < '1' || *p > '9')
      return false;
    for (; *p >= '0' && *p <= '9'; ++p)
      if ((part = part * 10 + (*p - '0')) > 1024)
        return false;
    if (*p)
      return false;
  }
  *disk_rtn = disk;
  *part_rtn = part;
  return true;
}

/* Normalise a guest mountpoint: absolute, no "." or "..", no trailing
 * slash.  NULL if it is not acceptable.
 */
static char *
normalise_mountpoint (const char *mp)
{
  char *r;
  size_t len;

  if (mp[0] != '/' || strstr (mp, "/./") || strstr (mp, "/../") ||
      strstr (mp, "//"))
    return NULL;
  len = strlen (mp);
  if ((len >= 2 && strcmp (mp + len - 2, "/.") == 0) ||
      (len >= 3 && strcmp (mp + len - 3, "/..") == 0))
    return NULL;
  r = strdup (mp);
  if (r && len > 1 && r[len - 1] == '/')
    r[len - 1] = '\0';
  return r;
}

/* The mount whose mountpoint is the longest prefix of path, and the path
 * inside that filesystem (in buf).
 */
static struct nmount *
resolve (struct ml_native *nat, const char *path, char *buf, size_t bufsize)
{
  struct nmount *best = NULL;
  size_t bestlen = 0, i;

  for (i = 0; i < nat->nmounts; ++i) {
    const char *mp = nat->mounts[i]->mountpoint;
    size_t len = strcmp (mp, "/") == 0 ? 0 : strlen (mp);

    if (strncmp (path, mp, len) == 0 &&
        (path[len] == '/' || path[len] == '\0') &&
        (best == NULL || len >= bestlen)) {
      best = nat->mounts[i];
      bestlen = len;
    }
  }
  if (best == NULL)
    return NULL;
  if (snprintf (buf, bufsize, "%s", path[bestlen] ? path + bestlen : "/")
      >= (int) bufsize)
    return NULL;
  return best;
}

#define RESOLVE(nat, path, m, buf)                                      \
  do {                                                                  \
    (m) = resolve ((nat), (path), (buf), sizeof (buf));                 \
    if ((m) == NULL)                                                    \
      return strlen (path) >= sizeof (buf) ? -ENAMETOOLONG : -ENOENT;   \
  } while (0)

int
gk_int_ml_native_add (gk_h *h, struct ml_native **natp, const char *mountable,
                      const char *mountpoint, char **why_rtn)
{
  struct ml_native *nat = *natp;
  struct gk_partition *parts = NULL;
  size_t nparts = 0, disk, i;
  int part, r;
  struct nmount *m;
  struct nmount **mounts;
  struct stat st;
  char inner[4096];
  CLEANUP_FREE char *mp = NULL;

  if (!parse_device (mountable, &disk, &part))
    return gk_int_native_unsure (h, why_rtn, "%s: only disks and partitions "
                                 "are served natively", mountable);
  if (disk >= h->drives.len)
    return gk_int_native_unsure (h, why_rtn, "%s: no such drive", mountable);
  mp = normalise_mountpoint (mountpoint);
  if (mp == NULL)
    return gk_int_native_unsure (h, why_rtn, "%s: mountpoint %s",
                                 mountable, mountpoint);
  for (i = 0; nat && i < nat->nmounts; ++i)
    if (strcmp (nat->mounts[i]->mountpoint, mp) == 0)
      return gk_int_native_unsure (h, why_rtn, "%s: a second mount on %s",
                                   mountable, mountpoint);
  if (nat == NULL && strcmp (mp, "/") != 0)
    return gk_int_native_unsure (h, why_rtn, "%s: the first mount is on %s, "
                                 "not /", mountable, mountpoint);

  if (nat == NULL) {
    nat = calloc (1, sizeof *nat);
    if (nat == NULL ||
        (nat->disks = calloc (h->drives.len, sizeof *nat->disks)) == NULL) {
      perrorf (h, "mount_local");
      free (nat);
      return -1;
    }
    *natp = nat;
  }
  /* Open the drives up to this one. */
  while (nat->ndisks <= disk) {
    const struct drive *drv = &h->drives.ptr[nat->ndisks];

    if (strcmp (drv->protocol, "file") != 0)
      return gk_int_native_unsure (h, why_rtn, "%s: %s drives are read by "
                                   "the appliance", drv->path, drv->protocol);
    r = gk_reader_open_image (h, &nat->disks[nat->ndisks], drv->path,
                              drv->format, why_rtn);
    if (r != 0)
      return r;
    nat->ndisks++;
  }

  m = calloc (1, sizeof *m);
  if (m == NULL) {
    perrorf (h, "mount_local");
    return -1;
  }
  r = gk_native_partitions_flags (h, &nat->disks[disk],
                                  h->drives.ptr[disk].blocksize,
                                  GK_NATIVE_PARTS_AS_LINUX, &parts, &nparts,
                                  why_rtn);
  if (r != 0) {
    free (m);
    return r;
  }
  if (part == 0) {
    if (nparts > 0) {
      gk_native_free_partitions (parts, nparts);
      free (m);
      return gk_int_native_unsure (h, why_rtn, "%s has a partition table",
                                   mountable);
    }
    r = gk_reader_slice (h, &m->slice, &nat->disks[disk], 0,
                         nat->disks[disk].size, mountable);
  }
  else {
    const struct gk_partition *p = NULL;

    for (i = 0; i < nparts; ++i)
      if (parts[i].number == part && !parts[i].extended)
        p = &parts[i];
    if (p == NULL) {
      gk_native_free_partitions (parts, nparts);
      free (m);
      return gk_int_native_unsure (h, why_rtn, "%s: no such partition",
                                   mountable);
    }
    r = gk_reader_slice (h, &m->slice, &nat->disks[disk], p->start,
                         p->reader.size, mountable);
  }
  gk_native_free_partitions (parts, nparts);
  if (r == -1) {
    free (m);
    return -1;
  }
  m->disk = disk;
  m->mountable = strdup (mountable);
  m->mountpoint = strdup (mp);
  if (m->mountable == NULL || m->mountpoint == NULL) {
    perrorf (h, "mount_local");
    free_nmount (m);
    return -1;
  }

  r = gk_extfs_open (h, &m->slice, &m->fs, why_rtn);
  if (r != 0) {
    m->fs = NULL;
    free_nmount (m);
    return r;
  }

  /* As mount(8): the mountpoint must be a directory of what is mounted
   * already (except the first, on "/").
   */
  if (nat->nmounts > 0) {
    struct nmount *parent = resolve (nat, mp, inner, sizeof inner);

    if (parent == NULL ||
        gk_extfs_lstat (parent->fs, inner, &st) != 0 || !S_ISDIR (st.st_mode)) {
      free_nmount (m);
      return gk_int_native_unsure (h, why_rtn, "%s: mountpoint %s is not a "
                                   "directory of what is mounted", mountable,
                                   mountpoint);
    }
  }
  mounts = realloc (nat->mounts, (nat->nmounts + 1) * sizeof *mounts);
  if (mounts == NULL) {
    perrorf (h, "mount_local");
    free_nmount (m);
    return -1;
  }
  nat->mounts = mounts;
  nat->mounts[nat->nmounts++] = m;
  return 0;
}

int
gk_int_ml_native_lstat (struct ml_native *nat, const char *path,
                        struct stat *st)
{
  struct nmount *m;
  char inner[4096];

  RESOLVE (nat, path, m, inner);
  return gk_extfs_lstat (m->fs, inner, st);
}

struct readdir_state {
  struct ml_native *nat;
  const char *dir;
  int (*cb) (void *opaque, const char *name, const struct stat *st);
  void *opaque;
};

/* An entry that is the mountpoint of another filesystem shows that
 * filesystem's root, as the kernel does.
 */
static int
readdir_one (void *opaque, const char *name, const struct stat *st)
{
  struct readdir_state *s = opaque;
  char path[4096];
  size_t i;

  if (s->nat->nmounts > 1 &&
      snprintf (path, sizeof path, "%s/%s",
                strcmp (s->dir, "/") == 0 ? "" : s->dir, name)
      < (int) sizeof path)
    for (i = 0; i < s->nat->nmounts; ++i)
      if (strcmp (s->nat->mounts[i]->mountpoint, path) == 0) {
        struct stat root;

        if (gk_extfs_lstat (s->nat->mounts[i]->fs, "/", &root) == 0)
          return s->cb (s->opaque, name, &root);
      }
  return s->cb (s->opaque, name, st);
}

int
gk_int_ml_native_readdir (struct ml_native *nat, const char *path,
                          int (*cb) (void *opaque, const char *name,
                                     const struct stat *st),
                          void *opaque)
{
  struct nmount *m;
  char inner[4096];
  struct readdir_state s = { .nat = nat, .dir = path, .cb = cb,
                             .opaque = opaque };

  RESOLVE (nat, path, m, inner);
  return gk_extfs_readdir (m->fs, inner, readdir_one, &s);
}

int
gk_int_ml_native_readlink (struct ml_native *nat, const char *path,
                           char **target_rtn)
{
  struct nmount *m;
  char inner[4096];

  RESOLVE (nat, path, m, inner);
  return gk_extfs_readlink (m->fs, inner, target_rtn);
}

int
gk_int_ml_native_open (struct ml_native *nat, const char *path,
                       struct ml_native_file **f_rtn)
{
  struct nmount *m;
  char inner[4096];
  struct ml_native_file *f;
  int r;

  RESOLVE (nat, path, m, inner);
  f = calloc (1, sizeof *f);
  if (f == NULL)
    return -ENOMEM;
  r = gk_extfs_open_file (m->fs, inner, &f->f);
  if (r < 0) {
    free (f);
    return r;
  }
  *f_rtn = f;
  return 0;
}

ssize_t
gk_int_ml_native_pread (struct ml_native_file *f, void *buf, size_t count,
                        uint64_t offset)
{
  return gk_extfs_pread (f->f, buf, count, offset);
}

void
gk_int_ml_native_close (struct ml_native_file *f)
{
  gk_extfs_close_file (f->f);
  free (f);
}

int
gk_int_ml_native_statvfs (struct ml_native *nat, const char *path,
                          struct statvfs *st)
{
  struct nmount *m;
  char inner[4096];

  RESOLVE (nat, path, m, inner);
  return gk_extfs_statvfs (m->fs, st);
}

int
gk_int_ml_native_listxattr (struct ml_native *nat, const char *path,
                            char **names_rtn, size_t *len_rtn)
{
  struct nmount *m;
  char inner[4096];

  RESOLVE (nat, path, m, inner);
  return gk_extfs_listxattr (m->fs, inner, names_rtn, len_rtn);
}

int
gk_int_ml_native_getxattr (struct ml_native *nat, const char *path,
                           const char *name, void **value_rtn,
                           size_t *len_rtn)
{
  struct nmount *m;
  char inner[4096];

  RESOLVE (nat, path, m, inner);
  return gk_extfs_getxattr (m->fs, inner, name, value_rtn, len_rtn);
}
