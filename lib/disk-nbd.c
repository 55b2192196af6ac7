/* libguestkit: gk_disk sources over NBD (libnbd).
 *
 * - NBD URIs (nbd://, nbd+unix://, ...): nbd_connect_uri.
 * - A local image or a qemu URI served by qemu-nbd, which libnbd starts
 *   and stops itself (systemd socket activation: no socket to wait for,
 *   no process to reap).  Used to write images of any format (backup
 *   targets) and to read qcow2 persistent dirty bitmaps ("-B NAME" makes
 *   the bitmap the meta context "qemu:dirty-bitmap:NAME").
 * - An export of a Unix socket, e.g. libvirt's pull-mode backup job.
 *
 * Extents come from the "base:allocation" meta context, dirty ranges
 * from a "qemu:dirty-bitmap:..." one.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <inttypes.h>

#include "internal.h"
#include "disk-internal.h"
#include "cleanups.h"
#include "vector.h"

#ifdef HAVE_LIBNBD

#include <libnbd.h>

struct nbd_src {
  struct nbd_handle *nbd;
  char *name;                   /* for messages */
  char *bitmap;                 /* meta context of the dirty bitmap */
  bool alloc;                   /* base:allocation negotiated */
  bool dirty;                   /* the bitmap negotiated */
  bool rw;
  uint64_t max_request;
  int aio_error;                /* the first failed asynchronous write */
};

/* Writes go out asynchronously, up to this many at once, so that the
 * caller reads and hashes the next data while the server writes: a
 * flush, a read, or anything else waits for them first.
 */
#define MAX_IN_FLIGHT 16

static void
nbd_src_free (struct nbd_src *n)
{
  if (n == NULL)
    return;
  if (n->nbd)
    nbd_close (n->nbd);
  free (n->name);
  free (n->bitmap);
  free (n);
}

static int
nbd_err (gk_h *h, struct nbd_src *n, const char *what)
{
  int e = nbd_get_errno ();

  error_errno (h, e ? e : EIO, "%s: %s: %s", n->name, what,
               nbd_get_error () ? nbd_get_error () : "NBD error");
  return -1;
}

/* Wait until at most max writes are in flight; report a failed one. */
static int
drain (gk_h *h, struct nbd_src *n, unsigned max)
{
  while (nbd_aio_in_flight (n->nbd) > (int) max)
    if (nbd_poll (n->nbd, -1) == -1)
      return nbd_err (h, n, "write");
  if (n->aio_error) {
    error_errno (h, n->aio_error, "%s: write: %s", n->name,
                 strerror (n->aio_error));
    return -1;
  }
  return 0;
}

struct wreq {
  struct nbd_src *n;
  void *buf;
};

static int
write_done (void *user_data, int *error)
{
  struct wreq *w = user_data;

  if (*error && w->n->aio_error == 0)
    w->n->aio_error = *error;
  free (w->buf);
  free (w);
  return 1;                     /* retire the command */
}

static int
src_pread (gk_h *h, void *priv, void *buf, size_t count, uint64_t offset)
{
  struct nbd_src *n = priv;

  if (drain (h, n, 0) == -1)
    return -1;

  while (count > 0) {
    size_t c = count < n->max_request ? count : n->max_request;

    if (nbd_pread (n->nbd, buf, c, offset, 0) == -1)
      return nbd_err (h, n, "read");
    buf = (char *) buf + c;
    offset += c;
    count -= c;
  }
  return 0;
}

static int
src_pwrite (gk_h *h, void *priv, const void *buf, size_t count,
            uint64_t offset)
{
  struct nbd_src *n = priv;

  while (count > 0) {
    size_t c = count < n->max_request ? count : n->max_request;

    struct wreq *w;

    if (drain (h, n, MAX_IN_FLIGHT - 1) == -1)
      return -1;
    w = malloc (sizeof *w);
    if (w == NULL || (w->buf = malloc (c)) == NULL) {
      free (w);
      perrorf (h, "malloc");
      return -1;
    }
    w->n = n;
    memcpy (w->buf, buf, c);
    if (nbd_aio_pwrite (n->nbd, w->buf, c, offset,
                        (nbd_completion_callback) { .callback = write_done,
                                                    .user_data = w },
                        0) == -1) {
      free (w->buf);
      free (w);
      return nbd_err (h, n, "write");
    }
    buf = (const char *) buf + c;
    offset += c;
    count -= c;
  }
  return 0;
}

static int
src_zero (gk_h *h, void *priv, uint64_t offset, uint64_t length)
{
  struct nbd_src *n = priv;
  const uint64_t max = UINT64_C (1) << 30;

  if (drain (h, n, 0) == -1)
    return -1;
  if (nbd_can_zero (n->nbd) != 1) {
    CLEANUP_FREE char *zeros = calloc (1, n->max_request);

    if (zeros == NULL) {
      perrorf (h, "calloc");
      return -1;
    }
    while (length > 0) {
      size_t c = length < n->max_request ? length : n->max_request;

      if (nbd_pwrite (n->nbd, zeros, c, offset, 0) == -1)
        return nbd_err (h, n, "write");
      offset += c;
      length -= c;
    }
    return 0;
  }
  while (length > 0) {
    uint64_t c = length < max ? length : max;

    if (nbd_zero (n->nbd, c, offset, 0) == -1)
      return nbd_err (h, n, "write zeroes");
    offset += c;
    length -= c;
  }
  return 0;
}

static int
src_flush (gk_h *h, void *priv)
{
  struct nbd_src *n = priv;

  if (drain (h, n, 0) == -1)
    return -1;
  if (nbd_can_flush (n->nbd) == 1 && nbd_flush (n->nbd, 0) == -1)
    return nbd_err (h, n, "flush");
  return 0;
}

/* Block status: the entries of one meta context are collected during
 * nbd_block_status and passed on after it returns (libnbd holds the
 * handle's lock while it calls bs_cb: a caller that reads the disk from
 * its extent callback would deadlock).
 */
struct bs_extent {
  uint64_t offset, length;
  unsigned type;
};
DEFINE_VECTOR_TYPE (bs_extent_vector, struct bs_extent);

struct bs {
  const char *context;
  bool dirty;                   /* a dirty bitmap, not base:allocation */
  uint64_t offset, end;         /* where the next entry starts */
  bs_extent_vector v;
  bool oom;
};

static int
bs_cb (void *user_data, const char *metacontext, uint64_t offset,
       uint32_t *entries, size_t nr_entries, int *error)
{
  struct bs *b = user_data;
  size_t i;

  if (strcmp (metacontext, b->context) != 0)
    return 0;
  for (i = 0; i + 1 < nr_entries && b->offset < b->end; i += 2) {
    uint64_t len = entries[i];
    uint32_t flags = entries[i+1];
    unsigned type;

    if (len > b->end - b->offset)
      len = b->end - b->offset;
    if (b->dirty) {
      if (!(flags & 1)) {
        b->offset += len;
        continue;
      }
      type = GK_EXTENT_DATA;
    }
    else if ((flags & (LIBNBD_STATE_HOLE|LIBNBD_STATE_ZERO)) ==
             (LIBNBD_STATE_HOLE|LIBNBD_STATE_ZERO))
      type = GK_EXTENT_HOLE;
    else if (flags & LIBNBD_STATE_ZERO)
      type = GK_EXTENT_ZERO;
    else
      type = GK_EXTENT_DATA;
    if (bs_extent_vector_append (&b->v, (struct bs_extent) {
          b->offset, len, type }) == -1) {
      b->oom = true;
      return -1;
    }
    b->offset += len;
  }
  return 0;
}

static int
block_status (gk_h *h, struct nbd_src *n, const char *context, bool dirty,
              uint64_t offset, uint64_t length, gk_extent_cb cb,
              void *opaque)
{
  struct bs b = { .context = context, .dirty = dirty, .offset = offset,
                  .end = offset + length, .v = empty_vector };
  int r = 0;

  while (b.offset < b.end && r == 0) {
    uint64_t before = b.offset;
    uint64_t count = b.end - b.offset;
    size_t i;

    if (count > (UINT64_C (1) << 30))
      count = UINT64_C (1) << 30;
    b.v.len = 0;
    if (nbd_block_status (n->nbd, count, b.offset,
                          (nbd_extent_callback) { .callback = bs_cb,
                                                  .user_data = &b },
                          0) == -1) {
      if (b.oom)
        perrorf (h, "realloc");
      else
        nbd_err (h, n, "block status");
      r = -1;
      break;
    }
    if (b.offset == before) {
      error_errno (h, EIO, "%s: the NBD server answered block status "
                   "for \"%s\" with nothing at %" PRIu64, n->name, context,
                   b.offset);
      r = -1;
      break;
    }
    for (i = 0; i < b.v.len && r == 0; ++i)
      r = cb (opaque, b.v.ptr[i].offset, b.v.ptr[i].length, b.v.ptr[i].type);
  }
  bs_extent_vector_reset (&b.v);
  return r;
}

static int
src_extents (gk_h *h, void *priv, uint64_t offset, uint64_t length,
             gk_extent_cb cb, void *opaque)
{
  struct nbd_src *n = priv;

  if (drain (h, n, 0) == -1)
    return -1;
  if (!n->alloc)
    return cb (opaque, offset, length, GK_EXTENT_DATA);
  return block_status (h, n, LIBNBD_CONTEXT_BASE_ALLOCATION, false,
                       offset, length, cb, opaque);
}

int
gk_int_disk_nbd_dirty (gk_h *h, void *priv, uint64_t offset,
                       uint64_t length, gk_extent_cb cb, void *opaque)
{
  struct nbd_src *n = priv;

  if (!n->dirty) {
    error_errno (h, ENOTSUP, "%s: the NBD server offers no dirty bitmap%s%s",
                 n->name, n->bitmap ? " " : "",
                 n->bitmap ? n->bitmap : "");
    return -1;
  }
  return block_status (h, n, n->bitmap, true, offset, length, cb, opaque);
}

static int
src_close (gk_h *h, void *priv)
{
  struct nbd_src *n = priv;
  int r = 0;

  if (n->rw && n->nbd) {
    if (drain (h, n, 0) == -1)
      r = -1;
    if (r == 0 && nbd_can_flush (n->nbd) == 1 && nbd_flush (n->nbd, 0) == -1)
      r = nbd_err (h, n, "flush");
    if (nbd_shutdown (n->nbd, 0) == -1 && r == 0)
      r = nbd_err (h, n, "shutdown");
  }
  nbd_src_free (n);
  return r;
}

const struct gk_disk_ops gk_int_disk_nbd_ops = {
  .name = "nbd",
  .pread = src_pread,
  .pwrite = src_pwrite,
  .zero = src_zero,
  .flush = src_flush,
  .extents = src_extents,
  .close = src_close,
};

/* Set up the handle before connecting: the meta contexts we want. */
static struct nbd_src *
nbd_src_new (gk_h *h, const char *name, const char *bitmap_context,
             unsigned flags)
{
  struct nbd_src *n = calloc (1, sizeof *n);

  if (n == NULL || (n->name = strdup (name)) == NULL ||
      (bitmap_context && (n->bitmap = strdup (bitmap_context)) == NULL)) {
    perrorf (h, "%s", name);
    nbd_src_free (n);
    return NULL;
  }
  n->rw = flags & GK_DISK_READWRITE;
  n->nbd = nbd_create ();
  if (n->nbd == NULL ||
      nbd_add_meta_context (n->nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) == -1 ||
      (n->bitmap && nbd_add_meta_context (n->nbd, n->bitmap) == -1)) {
    nbd_err (h, n, "libnbd");
    nbd_src_free (n);
    return NULL;
  }
  return n;
}

/* After connecting: size, what was negotiated. */
static int
nbd_src_ready (gk_h *h, struct nbd_src *n, struct gk_disk_source *src)
{
  int64_t size = nbd_get_size (n->nbd), max;

  if (size == -1)
    return nbd_err (h, n, "size");
  if (n->rw && nbd_is_read_only (n->nbd) == 1) {
    error_errno (h, EROFS, "%s: the NBD export is read-only", n->name);
    return -1;
  }
  n->alloc = nbd_can_meta_context (n->nbd,
                                   LIBNBD_CONTEXT_BASE_ALLOCATION) == 1;
  n->dirty = n->bitmap && nbd_can_meta_context (n->nbd, n->bitmap) == 1;
  max = nbd_get_block_size (n->nbd, LIBNBD_SIZE_MAXIMUM);
  n->max_request = max > 0 && max < 32 * 1024 * 1024 ? max
    : 32 * 1024 * 1024;
  src->ops = &gk_int_disk_nbd_ops;
  src->priv = n;
  src->size = size;
  return 0;
}

int
gk_int_disk_open_nbd (gk_h *h, const char *uri, const char *socket,
                      const char *export, const char *bitmap,
                      unsigned flags, struct gk_disk_source *src)
{
  CLEANUP_FREE char *name = NULL;
  struct nbd_src *n;

  if (uri)
    name = strdup (uri);
  else if (asprintf (&name, "%s (export \"%s\")", socket,
                     export ? export : "") == -1)
    name = NULL;
  if (name == NULL) {
    perrorf (h, "nbd");
    return -1;
  }
  n = nbd_src_new (h, name, bitmap, flags);
  if (n == NULL)
    return -1;
  if (uri) {
    if (nbd_connect_uri (n->nbd, uri) == -1)
      goto err;
  }
  else if ((export && nbd_set_export_name (n->nbd, export) == -1) ||
           nbd_connect_unix (n->nbd, socket) == -1)
    goto err;
  if (nbd_src_ready (h, n, src) == -1) {
    nbd_src_free (n);
    return -1;
  }
  return 0;

 err:
  nbd_err (h, n, "cannot connect");
  nbd_src_free (n);
  return -1;
}

int
gk_int_disk_open_qemu_nbd (gk_h *h, const char *path, const char *format,
                           unsigned flags, const char *bitmap,
                           struct gk_disk_source *src)
{
  CLEANUP_FREE char *fmtopt = NULL, *bitmapopt = NULL, *dotpath = NULL;
  CLEANUP_FREE char *context = NULL;
  const char *argv[12];
  size_t i = 0;
  struct nbd_src *n;

  if (asprintf (&fmtopt, "--format=%s", format) == -1 ||
      (bitmap && asprintf (&bitmapopt, "--bitmap=%s", bitmap) == -1) ||
      (bitmap && asprintf (&context, "qemu:dirty-bitmap:%s", bitmap) == -1) ||
      /* "a:b" would be protocol "a" to qemu: make it a path. */
      (path[0] != '/' && !gk_int_is_uri (path) &&
       asprintf (&dotpath, "./%s", path) == -1)) {
    perrorf (h, "qemu-nbd");
    return -1;
  }
  argv[i++] = "qemu-nbd";
  argv[i++] = fmtopt;
  if (flags & GK_DISK_READWRITE) {
    argv[i++] = "--discard=unmap";
    argv[i++] = "--cache=writeback";
  }
  else {
    argv[i++] = "--read-only";
    argv[i++] = "--shared=4";
  }
  if (bitmapopt)
    argv[i++] = bitmapopt;
  argv[i++] = "--";
  argv[i++] = dotpath ? dotpath : path;
  argv[i] = NULL;

  n = nbd_src_new (h, path, context, flags);
  if (n == NULL)
    return -1;
  debug (h, "disk: %s: qemu-nbd %s%s%s", path, fmtopt,
         bitmapopt ? " " : "", bitmapopt ? bitmapopt : "");
  if (nbd_connect_systemd_socket_activation (n->nbd, (char **) argv) == -1) {
    /* qemu-nbd printed why on stderr (libnbd leaves it to us). */
    error_errno (h, nbd_get_errno () ? nbd_get_errno () : EIO,
                 "%s: qemu-nbd failed to serve the image (format %s%s%s): %s",
                 path, format, bitmap ? ", bitmap " : "",
                 bitmap ? bitmap : "", nbd_get_error ());
    nbd_src_free (n);
    return -1;
  }
  if (nbd_src_ready (h, n, src) == -1) {
    nbd_src_free (n);
    return -1;
  }
  if (bitmap && !n->dirty) {
    error_errno (h, ENOENT, "%s: qemu-nbd offers no dirty bitmap \"%s\"",
                 path, bitmap);
    src->ops = NULL;
    src->priv = NULL;
    nbd_src_free (n);
    return -1;
  }
  return 0;
}

#else /* !HAVE_LIBNBD */

static int
no_libnbd (gk_h *h, const char *what)
{
  error_errno (h, ENOTSUP, "%s: needs libnbd, which this build of "
               "guestkit lacks", what);
  return -1;
}

int
gk_int_disk_open_nbd (gk_h *h, const char *uri, const char *socket,
                      const char *export, const char *bitmap,
                      unsigned flags, struct gk_disk_source *src)
{
  return no_libnbd (h, uri ? uri : socket);
}

int
gk_int_disk_open_qemu_nbd (gk_h *h, const char *path, const char *format,
                           unsigned flags, const char *bitmap,
                           struct gk_disk_source *src)
{
  return no_libnbd (h, path);
}

int
gk_int_disk_nbd_dirty (gk_h *h, void *priv, uint64_t offset,
                       uint64_t length, gk_extent_cb cb, void *opaque)
{
  return no_libnbd (h, "dirty bitmaps");
}

const struct gk_disk_ops gk_int_disk_nbd_ops = { .name = "nbd" };

#endif /* !HAVE_LIBNBD */
