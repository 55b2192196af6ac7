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
