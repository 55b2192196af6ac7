/* libguestkit native engine: raw files and block devices (see block.h). */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>

#include "reader.h"
#include "block.h"

struct file {
  int fd;
  dev_t dev;
  ino_t ino;
  char *path;                   /* the reader's name */
};

static int
file_pread (gk_h *h, void *opaque, void *buf, size_t count, uint64_t offset)
{
  struct file *f = opaque;
  char *p = buf;

  while (count > 0) {
    ssize_t n = pread (f->fd, p, count, offset);

    if (n == -1) {
      if (errno == EINTR)
        continue;
      perrorf (h, "%s: read at %" PRIu64, f->path, offset);
      return -1;
    }
    if (n == 0) {
      /* The file shrank under us. */
      error_errno (h, EIO, "%s: unexpected end of file at %" PRIu64,
                   f->path, offset);
      return -1;
    }
    p += n;
    count -= n;
    offset += n;
  }
  return 0;
}

/* The allocation map of a regular file: its holes (SEEK_DATA and
 * SEEK_HOLE), clipped to the reader's size (a file that grew since it
 * was opened shows no more than it had then).
 */
static int
file_extents (gk_h *h, void *opaque, uint64_t offset, uint64_t length,
              gk_reader_extent_cb cb, void *cbdata)
{
  struct file *f = opaque;
  uint64_t end = offset + length;
  int ret;

  while (offset < end) {
    off_t data, hole;

    data = lseek (f->fd, offset, SEEK_DATA);
    if (data == -1) {
      if (errno == ENXIO)
        /* No data from offset to the end of the file: a hole to its end
         * (a file that shrank fails on reading, not here).
         */
        data = end;
      else if (errno == EINVAL || errno == EOPNOTSUPP)
        /* SEEK_DATA not supported here: all data. */
        return cb (cbdata, offset, end - offset, GK_READER_DATA);
      else {
        perrorf (h, "%s: lseek SEEK_DATA at %" PRIu64, f->path, offset);
        return -1;
      }
    }
    if ((uint64_t) data < offset) {
      /* No filesystem does this; do not loop forever if one does. */
      return cb (cbdata, offset, end - offset, GK_READER_DATA);
    }
    if ((uint64_t) data > offset) {
      uint64_t n = (uint64_t) data < end ? (uint64_t) data - offset
        : end - offset;

      ret = cb (cbdata, offset, n, GK_READER_HOLE);
      if (ret != 0)
        return ret;
      offset += n;
      continue;
    }

    hole = lseek (f->fd, offset, SEEK_HOLE);
    if (hole == -1) {
      if (errno != ENXIO) {
        perrorf (h, "%s: lseek SEEK_HOLE at %" PRIu64, f->path, offset);
        return -1;
      }
      /* The file shrank between the two calls: let reading tell. */
      hole = end;
    }
    if ((uint64_t) hole <= offset || (uint64_t) hole > end)
      hole = end;
    ret = cb (cbdata, offset, hole - offset, GK_READER_DATA);
    if (ret != 0)
      return ret;
    offset = hole;
  }
  return 0;
}

static void
file_close (void *opaque)
{
  struct file *f = opaque;

  close (f->fd);
  free (f->path);
  free (f);
}

int
gk_reader_open_file (gk_h *h, struct gk_reader *r, const char *path)
{
  CLEANUP_CLOSE int fd = -1;
  struct stat st;
  uint64_t size;
  struct file *f;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd == -1) {
    perrorf (h, "%s", path);
    return -1;
  }
  if (fstat (fd, &st) == -1) {
    perrorf (h, "%s: stat", path);
    return -1;
  }
  if (S_ISBLK (st.st_mode)) {
    if (ioctl (fd, BLKGETSIZE64, &size) == -1) {
      perrorf (h, "%s: BLKGETSIZE64", path);
      return -1;
    }
  }
  else if (S_ISREG (st.st_mode))
    size = st.st_size;
  else {
    error_errno (h, EINVAL, "%s: not a regular file or a block device", path);
    return -1;
  }

  f = calloc (1, sizeof *f);
  if (f == NULL || (f->path = strdup (path)) == NULL) {
    perrorf (h, "malloc");
    free (f);
    return -1;
  }
  f->fd = fd;
  fd = -1;
  f->dev = st.st_dev;
  f->ino = st.st_ino;
  r->pread = file_pread;
  r->close = file_close;
  r->opaque = f;
  r->size = size;
  r->name = f->path;
  /* A block device has no holes that SEEK_DATA could tell: all data. */
  r->extents = S_ISREG (st.st_mode) ? file_extents : NULL;
  debug (h, "native: %s: opened read-only, %" PRIu64 " bytes%s",
         path, size, S_ISBLK (st.st_mode) ? " (block device)" : "");
  return 0;
}

int
gk_reader_file_identity (const struct gk_reader *r, dev_t *dev, ino_t *ino)
{
  const struct file *f = r->opaque;

  if (r->pread != file_pread)
    return -1;
  *dev = f->dev;
  *ino = f->ino;
  return 0;
}
