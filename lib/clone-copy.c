/* libguestkit: copying one disk of a clone that belongs to no pool.
 *
 * In order of preference:
 *   - a linked clone: a qcow2 overlay whose backing file is the original,
 *     with the original's format recorded (never probed);
 *   - a reflink (FICLONE) of the whole file, whatever its format: qcow2
 *     and UEFI vars files share blocks as well as raw ones do;
 *   - a sparse copy: only the data ranges of the source are read
 *     (SEEK_DATA/SEEK_HOLE) and all-zero blocks are not written.
 * --nonsparse then allocates the whole file (posix_fallocate).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <linux/fs.h>

#include "internal.h"
#include "clone.h"
#include "file-util.h"

static int
linked (gk_h *h, const char *src, const char *src_format, const char *dst)
{
  CLEANUP_FREE char *backing_opt = NULL;

  if (src_format == NULL) {
    error_errno (h, EINVAL, "%s: cannot make a linked clone of a disk "
                 "without <driver type=...>: its format would have to be "
                 "probed", src);
    return -1;
  }
  /* The backing path is absolute, so that the clone can live anywhere. */
  if (src[0] != '/') {
    error_errno (h, EINVAL, "%s: a linked clone needs an absolute path to "
                 "its backing file", src);
    return -1;
  }
  {
    const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2",
                           "-b", src, "-F", src_format, dst, NULL };
    return gk_int_run (h, argv, NULL);
  }
}

int
gk_int_clone_copy_file (gk_h *h, const char *src, const char *src_format,
                        const char *dst, unsigned flags,
                        gk_progress_cb progress, void *opaque)
{
  struct stat sb;
  uint64_t size;
  int in = -1, out = -1, r = -1;

  if (flags & CLONE_COPY_LINKED)
    return linked (h, src, src_format, dst);

  in = open (src, O_RDONLY | O_CLOEXEC);
  if (in == -1 || fstat (in, &sb) == -1) {
    perrorf (h, "open: %s", src);
    goto out;
  }
  if (S_ISBLK (sb.st_mode)) {
    if (ioctl (in, BLKGETSIZE64, &size) == -1) {
      perrorf (h, "BLKGETSIZE64: %s", src);
      goto out;
    }
  }
  else if (S_ISREG (sb.st_mode))
    size = sb.st_size;
  else {
    error_errno (h, EINVAL, "%s: not a file or block device", src);
    goto out;
  }
  out = open (dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out == -1) {
    perrorf (h, "create: %s", dst);
    goto out;
  }
  /* The clone gets the original's permissions (a VM image is often 0600
   * or group-readable for the hypervisor's group).
   */
  if (S_ISREG (sb.st_mode))
    fchmod (out, sb.st_mode & 07777);

  if (!(flags & CLONE_COPY_NONSPARSE) && S_ISREG (sb.st_mode)) {
    if (reflink_fd (in, out) == 0) {
      debug (h, "clone: %s is a reflink of %s", dst, src);
      if (progress)
        progress (opaque, size, size);
      goto synced;
    }
    if (flags & CLONE_COPY_REFLINK) {
      error_errno (h, errno, "cannot reflink %s to %s: %m "
                   "(the two must be on one filesystem with reflinks, "
                   "such as xfs or btrfs)", src, dst);
      goto out;
    }
    debug (h, "clone: no reflink of %s (%m): copying", src);
  }
  else if (flags & CLONE_COPY_REFLINK) {
    error_errno (h, EINVAL, "cannot reflink %s: %s", src,
                 S_ISREG (sb.st_mode) ? "--nonsparse allocates a full copy"
                 : "it is not a regular file");
    goto out;
  }
  if (sparse_copy (h, in, out, size, SPARSE_DST_FILE, progress, opaque) == -1)
    goto out;
  if (flags & CLONE_COPY_NONSPARSE) {
    int e = posix_fallocate (out, 0, size);
    if (e != 0) {
      errno = e;
      perrorf (h, "fallocate: %s", dst);
      goto out;
    }
  }
 synced:
  if (fsync (out) == -1) {
    perrorf (h, "fsync: %s", dst);
    goto out;
  }
  r = 0;
 out:
  if (in >= 0)
    close (in);
  if (out >= 0 && close (out) == -1 && r == 0) {
    perrorf (h, "close: %s", dst);
    r = -1;
  }
  if (r == -1 && out >= 0)
    unlink (dst);
  return r;
}
