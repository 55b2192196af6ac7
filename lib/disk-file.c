/* libguestkit: gk_disk sources for local images.
 *
 * Reading: the native engine's block readers (lib/native/block.h): raw
 * files and devices (SEEK_DATA/SEEK_HOLE), qcow2 through its whole
 * backing chain (L1/L2 tables), other formats through qemu-nbd.  No
 * qemu process for raw and qcow2.
 *
 * Writing: raw files directly (pwrite, holes punched for zeros); other
 * formats through a writable qemu-nbd (lib/disk-nbd.c).
 *
 * Checkpoints of qcow2 images are persistent dirty bitmaps, made and
 * removed with qemu-img bitmap and read through qemu-nbd --bitmap (the
 * image must not be in use by a running VM: qemu's image locking says so).
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

#include <json-c/json.h>

#include "internal.h"
#include "disk-internal.h"
#include "native/reader.h"
#include "native/block.h"
#include "cleanups.h"

/* Read-only images: the native reader. */
struct image_src {
  struct gk_reader r;
  char *path;
  bool qcow2;                   /* the top image is qcow2 */
};

static int
image_pread (gk_h *h, void *priv, void *buf, size_t count, uint64_t offset)
{
  struct image_src *s = priv;

  return gk_reader_pread (h, &s->r, buf, count, offset);
}

static int
image_extents (gk_h *h, void *priv, uint64_t offset, uint64_t length,
               gk_extent_cb cb, void *opaque)
{
  struct image_src *s = priv;

  /* GK_READER_* and GK_EXTENT_* have the same values (reader.h). */
  return gk_reader_extents (h, &s->r, offset, length,
                            (gk_reader_extent_cb) cb, opaque);
}

/* qemu-img with a path that cannot be taken for an option or protocol. */
static int
qemu_img (gk_h *h, const char *path, char **out, const char *a1,
          const char *a2, const char *a3, const char *a4)
{
  CLEANUP_FREE char *dotpath = NULL;
  const char *argv[10];
  size_t i = 0;

  if (path[0] != '/' && asprintf (&dotpath, "./%s", path) == -1) {
    perrorf (h, "qemu-img");
    return -1;
  }
  argv[i++] = "qemu-img";
  argv[i++] = a1;
  if (a2) argv[i++] = a2;
  if (a3) argv[i++] = a3;
  argv[i++] = "-f";
  argv[i++] = "qcow2";
  argv[i++] = dotpath ? dotpath : path;
  if (a4) argv[i++] = a4;
  argv[i] = NULL;
  return gk_int_run (h, argv, out);
}

/* The image's bitmaps from qemu-img info: names, and whether each one
 * is usable (not "in-use": the image was not closed cleanly).
 */
static char **
list_bitmaps (gk_h *h, const char *path, char ***unusable_rtn)
{
  CLEANUP_FREE char *out = NULL;
  json_object *root, *fs, *data, *bitmaps;
  char **names = NULL, **bad = NULL;
  size_t i, n = 0, nbad = 0, len;

  if (qemu_img (h, path, &out, "info", "--output=json", "--force-share",
                NULL) == -1)
    return NULL;
  root = json_tokener_parse (out);
  if (root == NULL) {
    error_errno (h, EIO, "%s: cannot parse qemu-img info's output", path);
    return NULL;
  }
  len = 0;
  if (json_object_object_get_ex (root, "format-specific", &fs) &&
      json_object_object_get_ex (fs, "data", &data) &&
      json_object_object_get_ex (data, "bitmaps", &bitmaps) &&
      json_object_is_type (bitmaps, json_type_array))
    len = json_object_array_length (bitmaps);
  names = calloc (len + 1, sizeof (char *));
  bad = calloc (len + 1, sizeof (char *));
  if (names == NULL || bad == NULL)
    goto oom;
  for (i = 0; i < len; ++i) {
    json_object *b = json_object_array_get_idx (bitmaps, i), *name, *flags;
    bool usable = true;
    size_t j;

    if (!json_object_object_get_ex (b, "name", &name))
      continue;
    if (json_object_object_get_ex (b, "flags", &flags) &&
        json_object_is_type (flags, json_type_array))
      for (j = 0; j < json_object_array_length (flags); ++j)
        if (strcmp (json_object_get_string
                    (json_object_array_get_idx (flags, j)), "in-use") == 0)
          usable = false;
    if (usable) {
      if ((names[n++] = strdup (json_object_get_string (name))) == NULL)
        goto oom;
    }
    else if ((bad[nbad++] = strdup (json_object_get_string (name))) == NULL)
      goto oom;
  }
  json_object_put (root);
  if (unusable_rtn)
    *unusable_rtn = bad;
  else
    gk_free_string_list (bad);
  return names;

 oom:
  perrorf (h, "%s: bitmaps", path);
  json_object_put (root);
  gk_free_string_list (names);
  gk_free_string_list (bad);
  return NULL;
}

static bool
in_list (char **list, const char *s)
{
  size_t i;

  for (i = 0; list && list[i]; ++i)
    if (strcmp (list[i], s) == 0)
      return true;
  return false;
}

static int
need_qcow2 (gk_h *h, struct image_src *s)
{
  if (!s->qcow2) {
    error_errno (h, ENOTSUP, "%s: checkpoints need a qcow2 image (dirty "
                 "bitmaps); this one is not qcow2", s->path);
    return -1;
  }
  return 0;
}

static int
image_checkpoint_create (gk_h *h, void *priv, const char *name)
{
  struct image_src *s = priv;
  CLEANUP_FREE_STRING_LIST char **names = NULL, **bad = NULL;

  if (need_qcow2 (h, s) == -1)
    return -1;
  names = list_bitmaps (h, s->path, &bad);
  if (names == NULL)
    return -1;
  if (in_list (names, name) || in_list (bad, name)) {
    error_errno (h, EEXIST, "%s: a checkpoint (dirty bitmap) named \"%s\" "
                 "exists already", s->path, name);
    return -1;
  }
  return qemu_img (h, s->path, NULL, "bitmap", "--add", "--enable", name);
}

static int
image_checkpoint_delete (gk_h *h, void *priv, const char *name)
{
  struct image_src *s = priv;
  CLEANUP_FREE_STRING_LIST char **names = NULL, **bad = NULL;

  if (need_qcow2 (h, s) == -1)
    return -1;
  names = list_bitmaps (h, s->path, &bad);
  if (names == NULL)
    return -1;
  if (!in_list (names, name) && !in_list (bad, name)) {
    error_errno (h, ENOENT, "%s: no checkpoint (dirty bitmap) named \"%s\"",
                 s->path, name);
    return -1;
  }
  return qemu_img (h, s->path, NULL, "bitmap", "--remove", NULL, name);
}

static char **
image_checkpoint_list (gk_h *h, void *priv)
{
  struct image_src *s = priv;

  if (!s->qcow2)
    return calloc (1, sizeof (char *));
  return list_bitmaps (h, s->path, NULL);
}

static int
image_changed_extents (gk_h *h, void *priv, const char *since,
                       uint64_t offset, uint64_t length, gk_extent_cb cb,
                       void *opaque)
{
  struct image_src *s = priv;
  CLEANUP_FREE_STRING_LIST char **names = NULL, **bad = NULL;
  struct gk_disk_source nbd = { 0 };
  int r;

  if (need_qcow2 (h, s) == -1)
    return -1;
  names = list_bitmaps (h, s->path, &bad);
  if (names == NULL)
    return -1;
  if (in_list (bad, since)) {
    error_errno (h, ESTALE, "%s: the checkpoint (dirty bitmap) \"%s\" is "
                 "inconsistent: the image was not closed cleanly since; "
                 "take a full backup", s->path, since);
    return -1;
  }
  if (!in_list (names, since)) {
    error_errno (h, ENOENT, "%s: no checkpoint (dirty bitmap) named \"%s\"",
                 s->path, since);
    return -1;
  }
  if (gk_int_disk_open_qemu_nbd (h, s->path, "qcow2", 0, since, &nbd) == -1)
    return -1;
  r = gk_int_disk_nbd_dirty (h, nbd.priv, offset, length, cb, opaque);
  nbd.ops->close (h, nbd.priv);
  return r;
}

static int
image_close (gk_h *h, void *priv)
{
  struct image_src *s = priv;

  gk_reader_close (&s->r);
  free (s->path);
  free (s);
  return 0;
}

static const struct gk_disk_ops image_ops = {
  .name = "image",
  .pread = image_pread,
  .extents = image_extents,
  .checkpoint_create = image_checkpoint_create,
  .checkpoint_delete = image_checkpoint_delete,
  .checkpoint_list = image_checkpoint_list,
  .changed_extents = image_changed_extents,
  .close = image_close,
};

static int
is_qcow2_file (gk_h *h, const char *path, bool *qcow2)
{
  unsigned char magic[4];
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t r;

  if (fd == -1) {
    perrorf (h, "open: %s", path);
    return -1;
  }
  r = pread (fd, magic, 4, 0);
  close (fd);
  *qcow2 = r == 4 && memcmp (magic, "QFI\xfb", 4) == 0;
  return 0;
}

static int
open_image (gk_h *h, const char *path, const char *format,
            struct gk_disk_source *src)
{
  struct image_src *s;
  CLEANUP_FREE char *why = NULL;
  int r;

  s = calloc (1, sizeof *s);
  if (s == NULL || (s->path = strdup (path)) == NULL) {
    perrorf (h, "%s", path);
    free (s);
    return -1;
  }
  if (format)
    s->qcow2 = strcmp (format, "qcow2") == 0;
  else if (is_qcow2_file (h, path, &s->qcow2) == -1)
    goto err;
  r = gk_reader_open_image (h, &s->r, path, format, &why);
  if (r == GK_NATIVE_UNSURE) {
    /* Something the native reader does not do: qemu reads it. */
    debug (h, "disk: %s: %s; reading through qemu-nbd", path, why);
    free (s->path);
    free (s);
    if (format == NULL) {
      error_errno (h, EINVAL, "%s: give the image's format (%s)", path, why);
      return -1;
    }
    return gk_int_disk_open_qemu_nbd (h, path, format, 0, NULL, src);
  }
  if (r == -1)
    goto err;
  src->ops = &image_ops;
  src->priv = s;
  src->size = s->r.size;
  return 0;

 err:
  free (s->path);
  free (s);
  return -1;
}

/* Writable raw files and devices. */
struct raw_src {
  int fd;
  char *path;
  bool blockdev;
};

static int
raw_pread (gk_h *h, void *priv, void *buf, size_t count, uint64_t offset)
{
  struct raw_src *s = priv;

  while (count > 0) {
    ssize_t r = pread (s->fd, buf, count, offset);

    if (r == -1) {
      if (errno == EINTR)
        continue;
      perrorf (h, "read: %s", s->path);
      return -1;
    }
    if (r == 0) {
      /* Past the end of the file (it was truncated meanwhile). */
      memset (buf, 0, count);
      return 0;
    }
    buf = (char *) buf + r;
    offset += r;
    count -= r;
  }
  return 0;
}

static int
raw_pwrite (gk_h *h, void *priv, const void *buf, size_t count,
            uint64_t offset)
{
  struct raw_src *s = priv;

  while (count > 0) {
    ssize_t r = pwrite (s->fd, buf, count, offset);

    if (r == -1) {
      if (errno == EINTR)
        continue;
      perrorf (h, "write: %s", s->path);
      return -1;
    }
    buf = (const char *) buf + r;
    offset += r;
    count -= r;
  }
  return 0;
}

static int
raw_zero (gk_h *h, void *priv, uint64_t offset, uint64_t length)
{
  struct raw_src *s = priv;

  if (!s->blockdev) {
    if (fallocate (s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                   offset, length) == 0)
      return 0;
  }
  else {
    uint64_t range[2] = { offset, length };

    if (ioctl (s->fd, BLKZEROOUT, range) == 0)
      return 0;
  }
  {
    const size_t chunk = 1024 * 1024;
    CLEANUP_FREE char *zeros = calloc (1, chunk);

    if (zeros == NULL) {
      perrorf (h, "calloc");
      return -1;
    }
    while (length > 0) {
      size_t n = length < chunk ? length : chunk;

      if (raw_pwrite (h, priv, zeros, n, offset) == -1)
        return -1;
      offset += n;
      length -= n;
    }
  }
  return 0;
}

static int
raw_flush (gk_h *h, void *priv)
{
  struct raw_src *s = priv;

  if (fdatasync (s->fd) == -1) {
    perrorf (h, "fdatasync: %s", s->path);
    return -1;
  }
  return 0;
}

static int
raw_extents (gk_h *h, void *priv, uint64_t offset, uint64_t length,
             gk_extent_cb cb, void *opaque)
{
  struct raw_src *s = priv;
  uint64_t end = offset + length;

  if (s->blockdev)
    return cb (opaque, offset, length, GK_EXTENT_DATA);
  while (offset < end) {
    off_t data = lseek (s->fd, offset, SEEK_DATA), hole;
    int r;

    if (data == -1 && errno == ENXIO)
      data = end;               /* a hole to the end of the file */
    else if (data == -1)
      return cb (opaque, offset, end - offset, GK_EXTENT_DATA);
    if ((uint64_t) data > end)
      data = end;
    if ((uint64_t) data > offset) {
      r = cb (opaque, offset, data - offset, GK_EXTENT_HOLE);
      if (r != 0)
        return r;
      offset = data;
      if (offset >= end)
        break;
    }
    hole = lseek (s->fd, offset, SEEK_HOLE);
    if (hole == -1 || (uint64_t) hole > end)
      hole = end;
    r = cb (opaque, offset, hole - offset, GK_EXTENT_DATA);
    if (r != 0)
      return r;
    offset = hole;
  }
  return 0;
}

static int
raw_close (gk_h *h, void *priv)
{
  struct raw_src *s = priv;
  int r = 0;

  if (fsync (s->fd) == -1 && errno != EINVAL) {
    perrorf (h, "fsync: %s", s->path);
    r = -1;
  }
  if (close (s->fd) == -1 && r == 0) {
    perrorf (h, "close: %s", s->path);
    r = -1;
  }
  free (s->path);
  free (s);
  return r;
}

static const struct gk_disk_ops raw_ops = {
  .name = "raw",
  .pread = raw_pread,
  .pwrite = raw_pwrite,
  .zero = raw_zero,
  .flush = raw_flush,
  .extents = raw_extents,
  .close = raw_close,
};

static int
open_raw_rw (gk_h *h, const char *path, struct gk_disk_source *src)
{
  struct raw_src *s = calloc (1, sizeof *s);
  struct stat st;

  if (s == NULL || (s->path = strdup (path)) == NULL) {
    perrorf (h, "%s", path);
    free (s);
    return -1;
  }
  s->fd = open (path, O_RDWR | O_CLOEXEC);
  if (s->fd == -1 || fstat (s->fd, &st) == -1) {
    perrorf (h, "open: %s", path);
    goto err;
  }
  if (S_ISBLK (st.st_mode)) {
    uint64_t size;

    if (ioctl (s->fd, BLKGETSIZE64, &size) == -1) {
      perrorf (h, "BLKGETSIZE64: %s", path);
      goto err;
    }
    s->blockdev = true;
    src->size = size;
  }
  else if (S_ISREG (st.st_mode))
    src->size = st.st_size;
  else {
    error_errno (h, EINVAL, "%s: not a regular file or a block device",
                 path);
    goto err;
  }
  src->ops = &raw_ops;
  src->priv = s;
  return 0;

 err:
  if (s->fd >= 0)
    close (s->fd);
  free (s->path);
  free (s);
  return -1;
}

int
gk_int_disk_open_file (gk_h *h, const char *path, const char *format,
                       unsigned flags, struct gk_disk_source *src)
{
  if (!(flags & GK_DISK_READWRITE))
    return open_image (h, path, format, src);
  if (format == NULL) {
    error_errno (h, EINVAL, "%s: give the format of a disk opened for "
                 "writing (it is never probed)", path);
    return -1;
  }
  if (strcmp (format, "raw") == 0)
    return open_raw_rw (h, path, src);
  return gk_int_disk_open_qemu_nbd (h, path, format, flags, NULL, src);
}
