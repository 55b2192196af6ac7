/* guestkit: the dir pool backend.
 *
 * A pool is a directory (<target><path>); a volume is a file in it, raw
 * or qcow2 (other qemu formats through qemu-img).  Every new file is made
 * under a temporary name (.gk-tmp-NAME) in the same directory and renamed
 * into place only when complete, so a failure or a kill never leaves a
 * half-made volume under the real name.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <dirent.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "internal.h"
#include "pool-internal.h"
#include "file-util.h"

static char *
vol_path (gk_h *h, const struct pool_def *def, const char *name,
          bool tmp)
{
  char *path;

  if (asprintf (&path, "%s/%s%s", def->target_path,
                tmp ? GK_TMP_PREFIX : "", name) == -1) {
    perrorf (h, "dir pool");
    return NULL;
  }
  return path;
}

static int
dir_check_def (gk_h *h, const struct pool_def *def)
{
  if (def->target_path == NULL || def->target_path[0] != '/') {
    error_errno (h, EINVAL, "dir pool ‘%s’: <target><path> must be an "
                 "absolute directory", def->name);
    return -1;
  }
  return 0;
}

static int
dir_build (gk_h *h, const struct pool_def *def, unsigned flags)
{
  if (mkdir (def->target_path, 0711) == -1 && errno != EEXIST) {
    perrorf (h, "mkdir: %s", def->target_path);
    return -1;
  }
  return 0;
}

static int
dir_start (gk_h *h, const struct pool_def *def)
{
  struct stat sb;

  if (stat (def->target_path, &sb) == -1 || !S_ISDIR (sb.st_mode)) {
    error_errno (h, ENOENT, "dir pool ‘%s’: %s is not a directory "
                 "(build the pool first)", def->name, def->target_path);
    return -1;
  }
  return 0;
}

static int
dir_refresh (gk_h *h, const struct pool_def *def, uint64_t *capacity,
             uint64_t *allocation, uint64_t *available)
{
  struct statvfs sv;

  if (statvfs (def->target_path, &sv) == -1) {
    perrorf (h, "statvfs: %s", def->target_path);
    return -1;
  }
  /* As libvirt: the filesystem's size, what is used, what is free. */
  *capacity = (uint64_t) sv.f_blocks * sv.f_frsize;
  *available = (uint64_t) sv.f_bavail * sv.f_frsize;
  *allocation = (uint64_t) (sv.f_blocks - sv.f_bfree) * sv.f_frsize;
  return 0;
}

static int
dir_delete_pool (gk_h *h, const struct pool_def *def)
{
  if (rmdir (def->target_path) == -1) {
    perrorf (h, "rmdir: %s", def->target_path);
    return -1;
  }
  return 0;
}

static int
dir_vol_list (gk_h *h, const struct pool_def *def, char ***names_rtn)
{
  string_vector names = empty_vector;
  DIR *d;
  struct dirent *e;

  d = opendir (def->target_path);
  if (d == NULL) {
    perrorf (h, "opendir: %s", def->target_path);
    return -1;
  }
  while ((e = readdir (d)) != NULL) {
    struct stat sb;
    char *name;

    /* Temporary files too: the library hides them, and lists them as
     * leftovers (no operation is running: we hold the pool's lock).
     */
    if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
      continue;
    if (fstatat (dirfd (d), e->d_name, &sb, 0) == -1 ||
        !(S_ISREG (sb.st_mode) || S_ISBLK (sb.st_mode)))
      continue;
    name = strdup (e->d_name);
    if (name == NULL || string_vector_append (&names, name) == -1) {
      perrorf (h, "vol_list");
      free (name);
      closedir (d);
      string_vector_free_all (&names);
      return -1;
    }
  }
  closedir (d);
  if (string_vector_terminate (&names) == -1) {
    perrorf (h, "vol_list");
    string_vector_free_all (&names);
    return -1;
  }
  qsort (names.ptr, names.len, sizeof (char *), compare_strings);
  *names_rtn = names.ptr;
  return 0;
}

static int
dir_vol_info (gk_h *h, const struct pool_def *def, const char *name,
              struct vol_state *st)
{
  st->name = strdup (name);
  st->path = vol_path (h, def, name, false);
  if (st->name == NULL || st->path == NULL) {
    perrorf (h, "vol_info");
    return -1;
  }
  return probe_image (h, st->path, st);
}

/* Rename the finished temporary file into place. */
static int
commit_tmp (gk_h *h, const char *tmp, const char *path)
{
  /* Never replace a volume that appeared meanwhile (RENAME_NOREPLACE). */
  if (renameat2 (AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == -1) {
    perrorf (h, "rename: %s", path);
    unlink (tmp);
    return -1;
  }
  return 0;
}

static int
qemu_img_create (gk_h *h, const char *path, const char *format,
                 uint64_t capacity, const char *backing,
                 const char *backing_format)
{
  char size[32];
  const char *argv[12];
  int i = 0;

  snprintf (size, sizeof size, "%" PRIu64, capacity);
  argv[i++] = "qemu-img";
  argv[i++] = "create";
  argv[i++] = "-q";
  argv[i++] = "-f";
  argv[i++] = format;
  if (backing) {
    /* Always record the backing format: no probing later (CVE-2010-3851). */
    argv[i++] = "-b";
    argv[i++] = backing;
    argv[i++] = "-F";
    argv[i++] = backing_format;
  }
  argv[i++] = path;
  argv[i++] = size;
  argv[i] = NULL;
  return gk_int_run (h, argv, NULL);
}

static int
dir_vol_create (gk_h *h, const struct pool_def *def,
                const struct vol_def *vol)
{
  CLEANUP_FREE char *tmp = vol_path (h, def, vol->name, true);
  CLEANUP_FREE char *path = vol_path (h, def, vol->name, false);
  const char *format = vol->format ? vol->format : "raw";
  int fd;

  if (tmp == NULL || path == NULL)
    return -1;
  unlink (tmp);                 /* a leftover of a killed run */
  if (strcmp (format, "raw") != 0) {
    if (vol->backing_path && vol->backing_format == NULL) {
      error_errno (h, EINVAL, "volume ‘%s’: a backing store needs its "
                   "format (<backingStore><format type=...>)", vol->name);
      return -1;
    }
    if (qemu_img_create (h, tmp, format, vol->capacity, vol->backing_path,
                         vol->backing_format) == -1) {
      unlink (tmp);
      return -1;
    }
    return commit_tmp (h, tmp, path);
  }
  if (vol->backing_path) {
    error_errno (h, EINVAL, "volume ‘%s’: raw volumes cannot have a "
                 "backing store", vol->name);
    return -1;
  }
  fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd == -1) {
    perrorf (h, "open: %s", tmp);
    return -1;
  }
  if (ftruncate (fd, vol->capacity) == -1) {
    perrorf (h, "ftruncate: %s", path);
    goto err;
  }
  /* No <allocation>: fully allocated, as libvirt does. */
  if ((!vol->has_allocation || vol->allocation >= vol->capacity) &&
      vol->capacity > 0) {
    int r = posix_fallocate (fd, 0, vol->capacity);
    if (r != 0) {
      errno = r;
      perrorf (h, "fallocate: %s", path);
      goto err;
    }
  }
  if (close (fd) == -1) {
    fd = -1;
    perrorf (h, "close: %s", path);
    goto err;
  }
  return commit_tmp (h, tmp, path);

 err:
  if (fd >= 0)
    close (fd);
  unlink (tmp);
  return -1;
}

static int
dir_vol_delete (gk_h *h, const struct pool_def *def, const char *name)
{
  CLEANUP_FREE char *path = vol_path (h, def, name, false);

  if (path == NULL)
    return -1;
  if (unlink (path) == -1) {
    perrorf (h, "unlink: %s", path);
    return -1;
  }
  return 0;
}

static int
dir_vol_resize (gk_h *h, const struct pool_def *def, const char *name,
                uint64_t capacity, unsigned flags)
{
  CLEANUP_FREE char *path = vol_path (h, def, name, false);
  struct vol_state st = { 0 };
  int r;

  if (path == NULL || probe_image (h, path, &st) == -1)
    return -1;
  if (strcmp (st.format, "raw") == 0) {
    r = truncate (path, capacity);
    if (r == -1)
      perrorf (h, "truncate: %s", path);
  }
  else {
    char size[32];
    const char *argv[] = { "qemu-img", "resize", "-q", "-f", st.format,
                           (flags & GK_VOL_RESIZE_SHRINK) ? "--shrink" : path,
                           (flags & GK_VOL_RESIZE_SHRINK) ? path : size,
                           (flags & GK_VOL_RESIZE_SHRINK) ? size : NULL,
                           NULL };

    snprintf (size, sizeof size, "%" PRIu64, capacity);
    r = gk_int_run (h, argv, NULL);
  }
  gk_int_free_vol_state (&st);
  return r;
}

/* A source with no local path (an iscsi LUN, an rbd image): its own
 * backend streams it, sparsely, into our temporary file (the library
 * holds both pools' locks), which is renamed into place when whole.
 */
static int
clone_by_download (gk_h *h, const struct pool_def *def, const char *dst,
                   const char *tmp, const char *path,
                   const struct pool_def *src_def,
                   const struct vol_state *src, unsigned flags)
{
  const struct pool_backend *sb = pool_backend_get (h, src_def->type);
  int out;

  if (sb == NULL)
    return -1;
  if (sb->vol_download == NULL) {
    error_errno (h, ENOTSUP, "cloning a volume of a %s pool into a dir "
                 "pool is not supported", src_def->type);
    return -1;
  }
  if (flags & GK_VOL_CLONE_REFLINK) {
    error_errno (h, ENOTSUP, "clone %s: no reflink copy is possible from "
                 "%s pool ‘%s’ into dir pool ‘%s’", dst, src_def->type,
                 src_def->name, def->name);
    return -1;
  }
  out = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out == -1) {
    perrorf (h, "open: %s", tmp);
    return -1;
  }
  debug (h, "clone %s: downloaded from %s pool ‘%s’", dst, src_def->type,
         src_def->name);
  if (sb->vol_download (h, src_def, src->name, out, NULL, NULL) == -1) {
    close (out);
    unlink (tmp);
    return -1;
  }
  if (close (out) == -1) {
    perrorf (h, "write: %s", path);
    unlink (tmp);
    return -1;
  }
  return commit_tmp (h, tmp, path);
}

/* Copy a source volume (a local file or block device) into a new file of
 * this pool, reflinked when possible, else sparsely.
 */
static int
dir_vol_clone (gk_h *h, const struct pool_def *def, const char *dst,
               const struct pool_def *src_def, const struct vol_state *src,
               unsigned flags)
{
  CLEANUP_FREE char *tmp = vol_path (h, def, dst, true);
  CLEANUP_FREE char *path = vol_path (h, def, dst, false);
  struct stat sb;
  int in = -1, out = -1;

  if (tmp == NULL || path == NULL)
    return -1;
  unlink (tmp);
  if (flags & GK_VOL_CLONE_LINKED) {
    /* An O(1) clone: a qcow2 overlay on the source, format recorded. */
    if (qemu_img_create (h, tmp, "qcow2", src->capacity, src->path,
                         src->format ? src->format : "raw") == -1) {
      unlink (tmp);
      return -1;
    }
    return commit_tmp (h, tmp, path);
  }
  if (src->path == NULL || src->path[0] != '/')
    return clone_by_download (h, def, dst, tmp, path, src_def, src, flags);
  in = open (src->path, O_RDONLY | O_CLOEXEC);
  if (in == -1 || fstat (in, &sb) == -1) {
    perrorf (h, "open: %s", src->path);
    goto err;
  }
  out = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out == -1) {
    perrorf (h, "open: %s", tmp);
    goto err;
  }
  /* A reflink shares the blocks: instant, and any format is fine. */
  if (S_ISREG (sb.st_mode) && reflink_fd (in, out) == 0)
    debug (h, "clone %s: reflinked", dst);
  else if (flags & GK_VOL_CLONE_REFLINK) {
    error_errno (h, errno ? errno : ENOTSUP, "clone %s: a reflink copy is "
                 "not possible between %s and %s: %m", dst, src->path,
                 def->target_path);
    goto err;
  }
  else {
    uint64_t size = S_ISREG (sb.st_mode) ? (uint64_t) sb.st_size
      : src->capacity;

    debug (h, "clone %s: sparse copy of %" PRIu64 " bytes", dst, size);
    if (sparse_copy (h, in, out, size, 0, NULL, NULL) == -1)
      goto err;
  }
  /* No fsync: as cp and virt-clone, the page cache writes the copy back;
   * the rename makes it visible only once it is whole.
   */
  if (close (out) == -1) {
    out = -1;
    perrorf (h, "write: %s", path);
    goto err;
  }
  close (in);
  return commit_tmp (h, tmp, path);

 err:
  if (in >= 0)
    close (in);
  if (out >= 0)
    close (out);
  unlink (tmp);
  return -1;
}

static int
dir_vol_wipe (gk_h *h, const struct pool_def *def, const char *name)
{
  CLEANUP_FREE char *path = vol_path (h, def, name, false);
  CLEANUP_FREE char *tmp = vol_path (h, def, name, true);
  struct vol_state st = { 0 };
  int fd, r = -1;

  if (path == NULL || tmp == NULL || probe_image (h, path, &st) == -1)
    return -1;
  if (strcmp (st.format, "raw") != 0) {
    /* The guest must see zeros: a new empty image of the same size
     * (without the backing file, whose data would show through).
     */
    unlink (tmp);
    if (qemu_img_create (h, tmp, st.format, st.capacity, NULL, NULL) == -1)
      unlink (tmp);
    else if (rename (tmp, path) == -1) {
      perrorf (h, "rename: %s", path);
      unlink (tmp);
    }
    else
      r = 0;
    gk_int_free_vol_state (&st);
    return r;
  }
  gk_int_free_vol_state (&st);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd == -1) {
    perrorf (h, "open: %s", path);
    return -1;
  }
  /* Punching holes reads back as zeros and frees the space. */
  {
    struct stat sb;

    if (fstat (fd, &sb) == -1 ||
        (sb.st_size > 0 &&
         fallocate (fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
                    sb.st_size) == -1)) {
      perrorf (h, "wipe: %s", path);
      close (fd);
      return -1;
    }
  }
  if (fsync (fd) == -1) {
    perrorf (h, "fsync: %s", path);
    close (fd);
    return -1;
  }
  close (fd);
  return 0;
}

static int
dir_vol_upload (gk_h *h, const struct pool_def *def, const char *name,
                int fd, gk_progress_cb progress, void *opaque)
{
  CLEANUP_FREE char *path = vol_path (h, def, name, false);
  CLEANUP_FREE char *tmp = vol_path (h, def, name, true);
  struct vol_state st = { 0 };
  struct stat sb;
  uint64_t size;
  int out;

  if (path == NULL || tmp == NULL || probe_image (h, path, &st) == -1)
    return -1;
  if (fstat (fd, &sb) == -1) {
    perrorf (h, "upload: stat");
    gk_int_free_vol_state (&st);
    return -1;
  }
  /* The volume's content becomes the file's.  A raw volume keeps at
   * least its size (the rest reads as zeros); an image file is copied as
   * it is.
   */
  size = sb.st_size;
  if (strcmp (st.format, "raw") == 0 && st.capacity > size)
    size = st.capacity;
  gk_int_free_vol_state (&st);

  unlink (tmp);
  out = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out == -1) {
    perrorf (h, "open: %s", tmp);
    return -1;
  }
  if (sparse_copy (h, fd, out, sb.st_size, 0, progress, opaque) == -1)
    goto err;
  if (ftruncate (out, size) == -1) {
    perrorf (h, "upload: %s", path);
    goto err;
  }
  close (out);
  /* Replace the old content in one step. */
  if (rename (tmp, path) == -1) {
    perrorf (h, "rename: %s", path);
    unlink (tmp);
    return -1;
  }
  return 0;

 err:
  close (out);
  unlink (tmp);
  return -1;
}

static int
dir_vol_download (gk_h *h, const struct pool_def *def, const char *name,
                  int fd, gk_progress_cb progress, void *opaque)
{
  CLEANUP_FREE char *path = vol_path (h, def, name, false);
  struct stat sb;
  int in, r;

  if (path == NULL)
    return -1;
  in = open (path, O_RDONLY | O_CLOEXEC);
  if (in == -1 || fstat (in, &sb) == -1) {
    perrorf (h, "open: %s", path);
    if (in >= 0)
      close (in);
    return -1;
  }
  r = sparse_copy (h, in, fd, sb.st_size, 0, progress, opaque);
  close (in);
  return r;
}

static int
dir_vol_rename (gk_h *h, const struct pool_def *def, const char *old_name,
                const char *new_name)
{
  CLEANUP_FREE char *from = vol_path (h, def, old_name, false);
  CLEANUP_FREE char *to = vol_path (h, def, new_name, false);

  if (from == NULL || to == NULL)
    return -1;
  if (renameat2 (AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
    return 0;
  /* A filesystem without RENAME_NOREPLACE (EINVAL): check, then rename.
   * Only a process ignoring the pool lock could slip in between.
   */
  if (errno == EINVAL || errno == ENOSYS) {
    if (access (to, F_OK) == 0)
      errno = EEXIST;
    else if (rename (from, to) == 0)
      return 0;
  }
  perrorf (h, "rename: %s to %s", from, to);
  return -1;
}

const struct pool_backend dir_backend = {
  .size = sizeof (struct pool_backend),
  .type = "dir",
  .xml_type = "dir",
  .check_def = dir_check_def,
  .build = dir_build,
  .start = dir_start,
  .refresh = dir_refresh,
  .delete_pool = dir_delete_pool,
  .vol_list = dir_vol_list,
  .vol_info = dir_vol_info,
  .vol_create = dir_vol_create,
  .vol_delete = dir_vol_delete,
  .vol_resize = dir_vol_resize,
  .vol_clone = dir_vol_clone,
  .vol_wipe = dir_vol_wipe,
  .vol_upload = dir_vol_upload,
  .vol_download = dir_vol_download,
  .vol_rename = dir_vol_rename,
};
