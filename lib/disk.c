/* libguestkit: block-level disks for backup tools (the front).
 *
 * The sources (lib/disk-internal.h) only answer what they are asked;
 * everything generic is here: range checks, merging neighbouring
 * extents, streaming reads of extents with their data, progress and
 * cancellation, zeroing where the source cannot.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <inttypes.h>

#include "internal.h"
#include "modules.h"
#include "disk-internal.h"
#include "cleanups.h"

struct gk_disk {
  gk_h *h;
  struct gk_disk_source src;
  char *name;
  char *source;
  char *format;
  unsigned flags;
  gk_progress_cb progress;
  void *progress_opaque;
};

static int
close_source (gk_h *h, struct gk_disk_source *src)
{
  int r = 0;

  if (src->ops && src->ops->close)
    r = src->ops->close (h, src->priv);
  src->ops = NULL;
  src->priv = NULL;
  return r;
}

gk_disk *
gk_int_disk_new (gk_h *h, struct gk_disk_source *src, const char *name,
                 const char *source, const char *format, unsigned flags)
{
  gk_disk *d = calloc (1, sizeof *d);

  if (d == NULL ||
      (d->name = strdup (name)) == NULL ||
      (source && (d->source = strdup (source)) == NULL) ||
      (format && (d->format = strdup (format)) == NULL)) {
    perrorf (h, "%s", name);
    if (d) {
      free (d->name);
      free (d->source);
      free (d->format);
      free (d);
    }
    close_source (h, src);
    return NULL;
  }
  d->h = h;
  d->src = *src;
  d->flags = flags;
  src->ops = NULL;
  src->priv = NULL;
  return d;
}

static bool
is_nbd_uri (const char *s)
{
  return strncmp (s, "nbd://", 6) == 0 || strncmp (s, "nbd+unix://", 11) == 0
    || strncmp (s, "nbds://", 7) == 0 || strncmp (s, "nbds+unix://", 12) == 0;
}

gk_disk *
gk_disk_open (gk_h *h, const char *path_or_uri, const char *format,
              unsigned flags)
{
  struct gk_disk_source src = { 0 };
  int r;

  trace (h, "gk_disk_open %s %s %u", path_or_uri,
         format ? format : "(probe)", flags);
  if (path_or_uri == NULL || path_or_uri[0] == '\0') {
    error_errno (h, EINVAL, "gk_disk_open: no disk named");
    return NULL;
  }
  if (flags & ~(GK_DISK_READWRITE | GK_DISK_QUIESCE)) {
    error_errno (h, EINVAL, "gk_disk_open: unknown flags 0x%x", flags);
    return NULL;
  }
  if (format && (format[0] == '\0' || strchr (format, ',') ||
                 format[0] == '-')) {
    error_errno (h, EINVAL, "%s: bad format \"%s\"", path_or_uri, format);
    return NULL;
  }
  if (is_nbd_uri (path_or_uri)) {
    if (format && strcmp (format, "raw") != 0) {
      error_errno (h, EINVAL, "%s: an NBD export is raw (not %s)",
                   path_or_uri, format);
      return NULL;
    }
    r = gk_int_disk_open_nbd (h, path_or_uri, NULL, NULL, NULL, flags, &src);
  }
  else if (gk_int_is_uri (path_or_uri)) {
    /* rbd:, iscsi://, ssh://, http(s):// ...: qemu's block drivers. */
    if (format == NULL) {
      error_errno (h, EINVAL, "%s: give the format of a URI disk (it is "
                   "never probed)", path_or_uri);
      return NULL;
    }
    r = gk_int_disk_open_qemu_nbd (h, path_or_uri, format, flags, NULL, &src);
  }
  else
    r = gk_int_disk_open_file (h, path_or_uri, format, flags, &src);
  if (r == -1)
    return NULL;
  return gk_int_disk_new (h, &src, path_or_uri, path_or_uri,
                          format ? format : src.ops->name, flags);
}

int
gk_disk_open_domain (gk_h *h, const char *name, const char *libvirt_uri,
                     const char *since, const char *new_checkpoint,
                     unsigned flags, gk_disk ***disks_rtn, size_t *n_rtn)
{
  const struct gk_libvirt_module *m;

  trace (h, "gk_disk_open_domain %s %s %s %s %u", name,
         libvirt_uri ? libvirt_uri : "(default)", since ? since : "-",
         new_checkpoint ? new_checkpoint : "-", flags);
  *disks_rtn = NULL;
  *n_rtn = 0;
  if (name == NULL || name[0] == '\0') {
    error_errno (h, EINVAL, "gk_disk_open_domain: no domain named");
    return -1;
  }
  if (flags & ~(GK_DISK_READWRITE | GK_DISK_QUIESCE)) {
    error_errno (h, EINVAL, "gk_disk_open_domain: unknown flags 0x%x",
                 flags);
    return -1;
  }
  m = gk_int_module_get (h, "domain", sizeof *m);
  if (m == NULL)
    return -1;
  if (m->disk_open_domain == NULL) {
    error_errno (h, ENOTSUP, "%s: block-level access to domains is not "
                 "in this build's domain module", name);
    return -1;
  }
  return m->disk_open_domain (h, name, libvirt_uri, since, new_checkpoint,
                              flags, disks_rtn, n_rtn);
}

static int
disk_close (gk_disk *d)
{
  int r;

  if (d == NULL)
    return 0;
  r = close_source (d->h, &d->src);
  free (d->name);
  free (d->source);
  free (d->format);
  free (d);
  return r;
}

void
gk_disk_close (gk_disk *d)
{
  disk_close (d);
}

int
gk_int_disk_close_checked (gk_disk *d)
{
  return disk_close (d);
}

void
gk_disk_close_all (gk_disk **disks, size_t n)
{
  size_t i;

  if (disks == NULL)
    return;
  for (i = 0; i < n; ++i)
    disk_close (disks[i]);
  free (disks);
}

uint64_t
gk_disk_get_size (gk_disk *d)
{
  return d->src.size;
}

const char *
gk_disk_get_name (gk_disk *d)
{
  return d->name;
}

const char *
gk_disk_get_source (gk_disk *d)
{
  return d->source ? d->source : d->name;
}

const char *
gk_disk_get_format (gk_disk *d)
{
  return d->format ? d->format : "raw";
}

void
gk_disk_set_progress_callback (gk_disk *d, gk_progress_cb cb, void *opaque)
{
  d->progress = cb;
  d->progress_opaque = opaque;
}

static int
check_range (gk_disk *d, const char *what, uint64_t offset, uint64_t length)
{
  if (offset > d->src.size || length > d->src.size - offset) {
    error_errno (d->h, EINVAL, "%s: %s of %" PRIu64 " bytes at %" PRIu64
                 " is beyond the end of the disk (%" PRIu64 " bytes)",
                 d->name, what, length, offset, d->src.size);
    return -1;
  }
  return 0;
}

static int
check_cancel (gk_disk *d)
{
  if (d->h->cancelled) {
    error_errno (d->h, ECANCELED, "%s: cancelled", d->name);
    return -1;
  }
  return 0;
}

/* Merging neighbours of the same type, and checking the source's
 * extents are in order and cover the range exactly.  The source sees
 * only 0 (go on) or 1 (stop) from merge_cb; why it stopped is here.
 */
struct merge {
  gk_extent_cb cb;
  void *opaque;
  uint64_t next;                /* where the next extent must start */
  uint64_t end;
  uint64_t pend_off, pend_len;
  unsigned pend_type;
  int user_r;                   /* the caller's callback stopped */
  bool bad;
};

static int
merge_flush (struct merge *m)
{
  int r = 0;

  if (m->pend_len > 0)
    r = m->cb (m->opaque, m->pend_off, m->pend_len, m->pend_type);
  m->pend_len = 0;
  return r;
}

static int
merge_cb (void *opaque, uint64_t offset, uint64_t length, unsigned type)
{
  struct merge *m = opaque;

  if (offset != m->next || type > GK_EXTENT_HOLE) {
    m->bad = true;
    return 1;
  }
  if (length == 0)
    return 0;
  if (length > m->end - offset)   /* the source may report beyond */
    length = m->end - offset;
  m->next = offset + length;
  if (m->pend_len > 0 && m->pend_type == type)
    m->pend_len += length;
  else {
    m->user_r = merge_flush (m);
    if (m->user_r != 0)
      return 1;
    m->pend_off = offset;
    m->pend_len = length;
    m->pend_type = type;
  }
  return m->next >= m->end;
}

int
gk_disk_extents (gk_disk *d, uint64_t offset, uint64_t length,
                 gk_extent_cb cb, void *opaque)
{
  struct merge m = { .cb = cb, .opaque = opaque, .next = offset,
                     .end = offset + length };
  int r;

  if (check_range (d, "extents", offset, length) == -1)
    return -1;
  if (length == 0)
    return 0;
  if (d->src.ops->extents == NULL)
    return cb (opaque, offset, length, GK_EXTENT_DATA);

  /* The source may need several calls to cover the range (NBD servers
   * may answer only part of it).
   */
  while (m.next < m.end) {
    uint64_t before = m.next;

    r = d->src.ops->extents (d->h, d->src.priv, m.next, m.end - m.next,
                             merge_cb, &m);
    if (m.bad) {
      error_errno (d->h, EIO, "%s: the %s source reported extents out of "
                   "order near offset %" PRIu64, d->name, d->src.ops->name,
                   m.next);
      return -1;
    }
    if (m.user_r != 0)
      return m.user_r;
    if (r == -1)
      return -1;
    if (m.next == before) {
      error_errno (d->h, EIO, "%s: the %s source reported no extents at "
                   "offset %" PRIu64, d->name, d->src.ops->name, m.next);
      return -1;
    }
  }
  return merge_flush (&m);
}

int
gk_disk_pread (gk_disk *d, void *buf, size_t count, uint64_t offset)
{
  if (check_range (d, "read", offset, count) == -1)
    return -1;
  if (count == 0)
    return 0;
  return d->src.ops->pread (d->h, d->src.priv, buf, count, offset);
}

static int
need_writable (gk_disk *d)
{
  if (!(d->flags & GK_DISK_READWRITE) || d->src.ops->pwrite == NULL) {
    error_errno (d->h, EROFS, "%s: the disk is open read-only", d->name);
    return -1;
  }
  return 0;
}

int
gk_disk_pwrite (gk_disk *d, const void *buf, size_t count, uint64_t offset)
{
  if (need_writable (d) == -1 ||
      check_range (d, "write", offset, count) == -1)
    return -1;
  if (count == 0)
    return 0;
  return d->src.ops->pwrite (d->h, d->src.priv, buf, count, offset);
}

int
gk_disk_zero (gk_disk *d, uint64_t offset, uint64_t length)
{
  CLEANUP_FREE char *zeros = NULL;
  const size_t chunk = 1024 * 1024;

  if (need_writable (d) == -1 ||
      check_range (d, "zero", offset, length) == -1)
    return -1;
  if (length == 0)
    return 0;
  if (d->src.ops->zero)
    return d->src.ops->zero (d->h, d->src.priv, offset, length);
  zeros = calloc (1, chunk);
  if (zeros == NULL) {
    perrorf (d->h, "calloc");
    return -1;
  }
  while (length > 0) {
    size_t n = length < chunk ? length : chunk;

    if (check_cancel (d) == -1 ||
        d->src.ops->pwrite (d->h, d->src.priv, zeros, n, offset) == -1)
      return -1;
    offset += n;
    length -= n;
  }
  return 0;
}

int
gk_disk_flush (gk_disk *d)
{
  if (need_writable (d) == -1)
    return -1;
  if (d->src.ops->flush == NULL)
    return 0;
  return d->src.ops->flush (d->h, d->src.priv);
}

/* Checkpoints. */

static int
not_supported (gk_disk *d, const char *what)
{
  error_errno (d->h, ENOTSUP, "%s: %s: not supported by this disk's "
               "storage (%s)", d->name, what, d->src.ops->name);
  return -1;
}

/* Checkpoint names go into libvirt's XML and become qemu's bitmap names
 * and rbd's snapshot names: a safe set for all of them.
 */
int
gk_int_check_checkpoint_name (gk_h *h, const char *what, const char *name)
{
  size_t i;

  for (i = 0; name && name[i]; ++i) {
    unsigned char c = name[i];

    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.') ||
        (i == 0 && (c == '-' || c == '.')))
      break;
  }
  if (name == NULL || i == 0 || name[i] || i > 255) {
    error_errno (h, EINVAL, "%s: bad checkpoint name \"%s\" (letters, "
                 "digits, '-', '_' and '.' only, not first '-' or '.')",
                 what, name ? name : "");
    return -1;
  }
  return 0;
}

static int
check_checkpoint_name (gk_disk *d, const char *name)
{
  return gk_int_check_checkpoint_name (d->h, d->name, name);
}

int
gk_disk_checkpoint_create (gk_disk *d, const char *name)
{
  trace (d->h, "gk_disk_checkpoint_create %s %s", d->name, name);
  if (check_checkpoint_name (d, name) == -1)
    return -1;
  if (d->src.ops->checkpoint_create == NULL)
    return not_supported (d, "checkpoints");
  return d->src.ops->checkpoint_create (d->h, d->src.priv, name);
}

int
gk_disk_checkpoint_delete (gk_disk *d, const char *name)
{
  trace (d->h, "gk_disk_checkpoint_delete %s %s", d->name, name);
  if (check_checkpoint_name (d, name) == -1)
    return -1;
  if (d->src.ops->checkpoint_delete == NULL)
    return not_supported (d, "checkpoints");
  return d->src.ops->checkpoint_delete (d->h, d->src.priv, name);
}

char **
gk_disk_checkpoint_list (gk_disk *d)
{
  if (d->src.ops->checkpoint_list == NULL) {
    not_supported (d, "checkpoints");
    return NULL;
  }
  return d->src.ops->checkpoint_list (d->h, d->src.priv);
}

/* Changed ranges: checked to be in order and inside the range, and
 * merged when they touch.
 */
struct changed {
  gk_extent_cb cb;
  void *opaque;
  uint64_t start, end, last_end;
  uint64_t pend_off, pend_len;
  bool bad;
};

static int
changed_cb (void *opaque, uint64_t offset, uint64_t length, unsigned type)
{
  struct changed *c = opaque;
  int r;

  if (type != GK_EXTENT_DATA || length == 0)
    return 0;
  if (offset < c->last_end || offset >= c->end) {
    c->bad = true;
    return -1;
  }
  if (length > c->end - offset)
    length = c->end - offset;
  c->last_end = offset + length;
  if (c->pend_len > 0 && c->pend_off + c->pend_len == offset) {
    c->pend_len += length;
    return 0;
  }
  if (c->pend_len > 0) {
    r = c->cb (c->opaque, c->pend_off, c->pend_len, GK_EXTENT_DATA);
    if (r != 0)
      return r;
  }
  c->pend_off = offset;
  c->pend_len = length;
  return 0;
}

int
gk_disk_changed_extents (gk_disk *d, const char *since, uint64_t offset,
                         uint64_t length, gk_extent_cb cb, void *opaque)
{
  struct changed c = { .cb = cb, .opaque = opaque, .start = offset,
                       .end = offset + length, .last_end = offset };
  int r;

  trace (d->h, "gk_disk_changed_extents %s %s", d->name, since);
  if (check_checkpoint_name (d, since) == -1 ||
      check_range (d, "changed extents", offset, length) == -1)
    return -1;
  if (d->src.ops->changed_extents == NULL)
    return not_supported (d, "changed blocks");
  if (length == 0)
    return 0;
  r = d->src.ops->changed_extents (d->h, d->src.priv, since, offset, length,
                                   changed_cb, &c);
  if (c.bad) {
    error_errno (d->h, EIO, "%s: the %s source reported changed ranges out "
                 "of order", d->name, d->src.ops->name);
    return -1;
  }
  if (r != 0)
    return r;
  if (c.pend_len > 0)
    return cb (opaque, c.pend_off, c.pend_len, GK_EXTENT_DATA);
  return 0;
}

/* Streaming reads. */
struct stream {
  gk_disk *d;
  gk_data_cb cb;
  void *opaque;
  char *buf;
  uint64_t start, total, done;
};

static int
progress (struct stream *s, uint64_t upto)
{
  s->done = upto - s->start;
  if (s->d->progress &&
      s->d->progress (s->d->progress_opaque, s->done, s->total) != 0) {
    error_errno (s->d->h, ECANCELED, "%s: cancelled", s->d->name);
    return -1;
  }
  return check_cancel (s->d);
}

static int
stream_cb (void *opaque, uint64_t offset, uint64_t length, unsigned type)
{
  struct stream *s = opaque;
  int r;

  if (type != GK_EXTENT_DATA) {
    r = s->cb (s->opaque, offset, length, type, NULL);
    if (r != 0)
      return r;
    return progress (s, offset + length);
  }
  while (length > 0) {
    size_t n = length < GK_DISK_READ_MAX ? length : GK_DISK_READ_MAX;

    if (s->d->src.ops->pread (s->d->h, s->d->src.priv, s->buf, n,
                              offset) == -1)
      return -1;
    r = s->cb (s->opaque, offset, n, GK_EXTENT_DATA, s->buf);
    if (r != 0)
      return r;
    offset += n;
    length -= n;
    if (progress (s, offset) == -1)
      return -1;
  }
  return 0;
}

int
gk_disk_read_extents (gk_disk *d, uint64_t offset, uint64_t length,
                      const char *since, gk_data_cb cb, void *opaque)
{
  struct stream s = { .d = d, .cb = cb, .opaque = opaque, .start = offset,
                      .total = length };
  int r;

  if (check_range (d, "read", offset, length) == -1)
    return -1;
  s.buf = malloc (GK_DISK_READ_MAX);
  if (s.buf == NULL) {
    perrorf (d->h, "malloc");
    return -1;
  }
  if (since)
    r = gk_disk_changed_extents (d, since, offset, length, stream_cb, &s);
  else
    r = gk_disk_extents (d, offset, length, stream_cb, &s);
  if (r == 0)
    r = progress (&s, offset + length);
  free (s.buf);
  return r;
}
