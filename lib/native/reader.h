/* libguestkit native engine: the read callback every parser reads through.
 *
 * The native engine reads guest disks in-process, read-only, without a
 * VM.  It is layered; each layer is a pure parser over the layer below,
 * reached only through a struct gk_reader:
 *
 *   block sources   raw files and devices, qcow2 (+ backing chains),
 *                   other formats through qemu-nbd + libnbd
 *   containers      partition tables (MBR, GPT), LVM2 logical volumes
 *   filesystems     ext2/3/4, xfs, btrfs, vfat, ntfs: usage as statvfs
 *
 * A layer's output is again a struct gk_reader (a partition is a reader
 * over a range of its disk; an LV one over its segments), so every
 * parser can be unit-tested over an in-memory buffer.
 *
 * Errors: a function that fails returns -1 (or NULL) after setting the
 * handle's error once, as everywhere in the library.  A parser that
 * meets something it is not sure about returns GK_NATIVE_UNSURE instead
 * and says why in *why_rtn (when not NULL): the caller then falls back
 * to the appliance for that object.  "Unsure" is not an error: the
 * handle's error is not set.
 */
#ifndef GUESTKIT_NATIVE_READER_H
#define GUESTKIT_NATIVE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define GK_NATIVE_UNSURE (-2)

/* Extent types (same values as the public GK_EXTENT_* in guestkit.h). */
#define GK_READER_DATA 0   /* data */
#define GK_READER_ZERO 1   /* allocated (or preallocated), reads as zeros */
#define GK_READER_HOLE 2   /* not allocated anywhere, reads as zeros */

/* Called for each extent, in order.  Non-zero stops the walk and is
 * returned by gk_reader_extents: a callback returning -1 is taken for an
 * error, so it should set the handle's error first.  The callback may
 * read through the reader it is mapping (a backup tool copies the data
 * extents as they come).
 */
typedef int (*gk_reader_extent_cb) (void *cbdata, uint64_t offset,
                                    uint64_t length, unsigned type);

struct gk_reader {
  /* Read exactly count bytes at offset.  0 on success; -1 with the
   * handle's error set.  Reading beyond size is an error (EIO).
   */
  int (*pread) (gk_h *h, void *opaque, void *buf, size_t count,
                uint64_t offset);
  void (*close) (void *opaque);          /* may be NULL */
  void *opaque;
  uint64_t size;                         /* bytes the reader offers */
  const char *name;                      /* for messages: a path, "sda1" */
  /* Optional: report [offset, offset+length) as consecutive extents, in
   * order, covering the range exactly; cb returning non-zero stops with
   * that value returned.  NULL: the whole range is data.  Called only
   * through gk_reader_extents (range checked, length > 0).
   */
  int (*extents) (gk_h *h, void *opaque, uint64_t offset, uint64_t length,
                  gk_reader_extent_cb cb, void *cbdata);
};

/* Read through a reader (checks the range, then calls pread). */
extern int gk_reader_pread (gk_h *h, const struct gk_reader *r, void *buf,
                            size_t count, uint64_t offset);
/* The allocation map of [offset, offset+length): calls cb for each
 * extent, in order, covering the range exactly, adjacent extents of the
 * same type merged (so cb sees maximal runs).  What is reported as ZERO
 * or HOLE reads as zeros; DATA may be anything (zeros too).  0 when
 * done; -1 with the handle's error set (a range beyond the end: EIO);
 * or the non-zero value cb returned to stop.
 */
extern int gk_reader_extents (gk_h *h, const struct gk_reader *r,
                              uint64_t offset, uint64_t length,
                              gk_reader_extent_cb cb, void *cbdata);
/* Release what the reader holds (calls close); r itself is not freed. */
extern void gk_reader_close (struct gk_reader *r);

/* A reader over a memory buffer (not copied; for tests and metadata). */
extern void gk_reader_from_memory (struct gk_reader *r, const void *buf,
                                   uint64_t size, const char *name);
/* A reader over [offset, offset+size) of another reader (a partition). */
extern int gk_reader_slice (gk_h *h, struct gk_reader *r,
                            const struct gk_reader *parent, uint64_t offset,
                            uint64_t size, const char *name);

/* Say "unsure" (every parser): set *why_rtn (if not NULL) to the
 * formatted reason, log it, and return GK_NATIVE_UNSURE.
 */
extern int gk_int_native_unsure (gk_h *h, char **why_rtn, const char *fs, ...)
  __attribute__ ((format (printf, 3, 4)));

#endif /* GUESTKIT_NATIVE_READER_H */
