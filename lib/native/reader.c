/* libguestkit native engine: readers (see reader.h). */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <errno.h>
#include <inttypes.h>

#include "reader.h"

int
gk_reader_pread (gk_h *h, const struct gk_reader *r, void *buf, size_t count,
                 uint64_t offset)
{
  if (offset > r->size || count > r->size - offset) {
    error_errno (h, EIO, "%s: read of %zu bytes at %" PRIu64 " is beyond its "
                 "end (%" PRIu64 " bytes)", r->name, count, offset, r->size);
    return -1;
  }
  if (count == 0)
    return 0;
  return r->pread (h, r->opaque, buf, count, offset);
}

/* gk_reader_extents: what the reader reported so far, and the extent
 * not yet passed on (it may grow with the next one).
 */
struct merge {
  gk_h *h;
  const struct gk_reader *r;
  gk_reader_extent_cb cb;
  void *cbdata;
  uint64_t next;                /* where the next extent must start */
  uint64_t end;                 /* of the range asked for */
  uint64_t offset, length;      /* pending; length 0: none */
  unsigned type;
  int stop;                     /* cb's non-zero value, once it stops */
  bool bad;                     /* the reader broke the rules (error set) */
};

static int
merge_flush (struct merge *m)
{
  int ret;

  if (m->length == 0)
    return 0;
  ret = m->cb (m->cbdata, m->offset, m->length, m->type);
  m->length = 0;
  if (ret != 0)
    m->stop = ret;
  return ret;
}

static int
merge_extent (void *opaque, uint64_t offset, uint64_t length, unsigned type)
{
  struct merge *m = opaque;

  if (m->stop != 0)             /* the reader went on after a stop */
    return m->stop;
  if (offset != m->next || length > m->end - offset ||
      (type != GK_READER_DATA && type != GK_READER_ZERO &&
       type != GK_READER_HOLE)) {
    error_errno (m->h, EIO, "%s: allocation map: invalid extent (%"
                 PRIu64 " bytes at %" PRIu64 ", type %u; expected one at %"
                 PRIu64 ", up to %" PRIu64 ")", m->r->name, length, offset,
                 type, m->next, m->end);
    m->bad = true;
    return -1;
  }
  if (length == 0)
    return 0;
  m->next = offset + length;
  if (m->length > 0 && m->type == type) {
    m->length += length;
    return 0;
  }
  if (merge_flush (m) != 0)
    return m->stop;
  m->offset = offset;
  m->length = length;
  m->type = type;
  return 0;
}

int
gk_reader_extents (gk_h *h, const struct gk_reader *r, uint64_t offset,
                   uint64_t length, gk_reader_extent_cb cb, void *cbdata)
{
  struct merge m = {
    .h = h, .r = r, .cb = cb, .cbdata = cbdata,
    .next = offset, .end = offset + length,
  };
  int ret;

  if (offset > r->size || length > r->size - offset) {
    error_errno (h, EIO, "%s: allocation map of %" PRIu64 " bytes at %"
                 PRIu64 " is beyond its end (%" PRIu64 " bytes)",
                 r->name, length, offset, r->size);
    return -1;
  }
  if (length == 0)
    return 0;
  if (r->extents == NULL)
    return cb (cbdata, offset, length, GK_READER_DATA);

  ret = r->extents (h, r->opaque, offset, length, merge_extent, &m);
  if (m.stop != 0)
    return m.stop;
  if (ret != 0 || m.bad) {
    if (ret != -1 && !m.bad)    /* a value no callback returned */
      error_errno (h, EIO, "%s: allocation map: failed (%d)", r->name, ret);
    return -1;
  }
  if (m.next != m.end) {
    error_errno (h, EIO, "%s: allocation map: the extents reported end at %"
                 PRIu64 ", not at %" PRIu64, r->name, m.next, m.end);
    return -1;
  }
  return merge_flush (&m);
}

void
gk_reader_close (struct gk_reader *r)
{
  if (r->close)
    r->close (r->opaque);
  r->close = NULL;
  r->opaque = NULL;
}

static int
memory_pread (gk_h *h, void *opaque, void *buf, size_t count, uint64_t offset)
{
  memcpy (buf, (const char *) opaque + offset, count);
  return 0;
}

void
gk_reader_from_memory (struct gk_reader *r, const void *buf, uint64_t size,
                       const char *name)
{
  r->pread = memory_pread;
  r->close = NULL;
  r->opaque = (void *) buf;
  r->size = size;
  r->name = name;
  r->extents = NULL;            /* all data */
}

struct slice {
  const struct gk_reader *parent;
  uint64_t offset;
};

static int
slice_pread (gk_h *h, void *opaque, void *buf, size_t count, uint64_t offset)
{
  struct slice *s = opaque;

  return gk_reader_pread (h, s->parent, buf, count, s->offset + offset);
}

/* The parent's extents, shifted back into the slice. */
struct slice_map {
  uint64_t shift;
  gk_reader_extent_cb cb;
  void *cbdata;
};

static int
slice_extent (void *opaque, uint64_t offset, uint64_t length, unsigned type)
{
  struct slice_map *sm = opaque;

  return sm->cb (sm->cbdata, offset - sm->shift, length, type);
}

static int
slice_extents (gk_h *h, void *opaque, uint64_t offset, uint64_t length,
               gk_reader_extent_cb cb, void *cbdata)
{
  struct slice *s = opaque;
  struct slice_map sm = { .shift = s->offset, .cb = cb, .cbdata = cbdata };

  return gk_reader_extents (h, s->parent, s->offset + offset, length,
                            slice_extent, &sm);
}

int
gk_reader_slice (gk_h *h, struct gk_reader *r, const struct gk_reader *parent,
                 uint64_t offset, uint64_t size, const char *name)
{
  struct slice *s;

  if (offset > parent->size || size > parent->size - offset) {
    error_errno (h, EINVAL, "%s: %s (%" PRIu64 " bytes at %" PRIu64 ") "
                 "goes beyond the end of %s (%" PRIu64 " bytes)", parent->name,
                 name, size, offset, parent->name, parent->size);
    return -1;
  }
  s = malloc (sizeof *s);
  if (s == NULL) {
    perrorf (h, "malloc");
    return -1;
  }
  s->parent = parent;
  s->offset = offset;
  r->pread = slice_pread;
  r->close = free;
  r->opaque = s;
  r->size = size;
  r->name = name;
  r->extents = slice_extents;
  return 0;
}

int
gk_int_native_unsure (gk_h *h, char **why_rtn, const char *fs, ...)
{
  va_list args;
  char *why;

  va_start (args, fs);
  if (vasprintf (&why, fs, args) == -1)
    why = NULL;
  va_end (args);
  debug (h, "native: unsure, falling back to the appliance: %s",
         why ? why : fs);
  if (why_rtn)
    *why_rtn = why;
  else
    free (why);
  return GK_NATIVE_UNSURE;
}
