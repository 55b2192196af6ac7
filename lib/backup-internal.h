/* libguestkit: backups (lib/backup.c), internal pieces.
 *
 * Every backup keeps, per disk, the checksum of each GK_SUMS_BLOCK bytes
 * of the guest-visible disk at that point ("sums"): verify re-reads the
 * backup chain and compares, and an incremental backup of a source that
 * keeps no checkpoints (raw files, iSCSI LUNs) finds the changed blocks
 * by comparing with the previous backup's sums.
 *
 * A block that reads as zeros has the checksum of all zero bytes (no
 * SHA-256 starts with 16 zero bytes in practice), so zeros need no
 * hashing.
 */
#ifndef GUESTKIT_BACKUP_INTERNAL_H
#define GUESTKIT_BACKUP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "guestkit.h"

#define GK_SUMS_BLOCK (1024 * 1024)
/* The first 128 bits of each block's SHA-256: plenty to detect damage,
 * and half the size of the checksums file.
 */
#define GK_SUM_LEN 16

struct gk_sums {
  uint64_t disk_size;
  uint64_t nr_blocks;
  unsigned char *sum;           /* nr_blocks * GK_SUM_LEN */
};

/* backup-sums.c */
extern int gk_int_sums_init (gk_h *h, struct gk_sums *s, uint64_t disk_size);
extern void gk_int_sums_free (struct gk_sums *s);
/* Write s to a new file: every block (base NULL) or the blocks that
 * differ from base (a delta).  *hex_rtn gets the file's SHA-256.
 */
#define GK_SUMS_DELTA 1
extern int gk_int_sums_write (gk_h *h, const struct gk_sums *s,
                              const struct gk_sums *base, const char *path,
                              char *hex_rtn);
/* Read a file (checked against want_hex when not NULL); a delta needs
 * the sums it was made against (base).
 */
extern int gk_int_sums_read (gk_h *h, struct gk_sums *s, const char *path,
                             const char *want_hex,
                             const struct gk_sums *base);
extern bool gk_int_sum_is_zero (const unsigned char *sum);
extern void gk_int_sha256_hex (const void *data, size_t len, char *hex_rtn);

/* Assembling blocks from a stream of extents (gk_disk_read_extents), in
 * order.  For each completed block, done() gets its index, its bytes
 * (NULL when the whole block reads as zeros) and its checksum; the
 * block's bytes also tell which parts are zero (see gk_int_is_zero).
 */
struct gk_blocks {
  gk_h *h;
  uint64_t disk_size;
  uint64_t cur;                 /* index of the block being assembled */
  uint64_t pos;                 /* bytes of it assembled */
  bool nonzero;                 /* some data in it is not zero */
  unsigned char *buf;           /* GK_SUMS_BLOCK bytes */
  int (*done) (void *opaque, uint64_t block, uint64_t offset, size_t len,
               const unsigned char *data, const unsigned char *sum);
  void *opaque;
};
extern int gk_int_blocks_init (gk_h *h, struct gk_blocks *b,
                               uint64_t disk_size, uint64_t start,
                               int (*done) (void *, uint64_t, uint64_t,
                                            size_t, const unsigned char *,
                                            const unsigned char *),
                               void *opaque);
extern void gk_int_blocks_free (struct gk_blocks *b);
/* A gk_data_cb. */
extern int gk_int_blocks_feed (void *opaque, uint64_t offset, uint64_t length,
                               unsigned type, const void *data);
extern bool gk_int_is_zero (const void *data, size_t len);

#endif /* GUESTKIT_BACKUP_INTERNAL_H */
