/* guestkit: helpers shared by the backends whose volumes are local files
 * or block devices (dir, lvm): sparse copies, reflinks, image headers.
 */
#ifndef GUESTKIT_POOLS_FILE_UTIL_H
#define GUESTKIT_POOLS_FILE_UTIL_H

#include <stdint.h>
#include "guestkit.h"
#include "pool-backend.h"

/* Copy size bytes from src to dst (both open), keeping holes: only the
 * data ranges of src (SEEK_DATA/SEEK_HOLE) are read, and all-zero blocks
 * are skipped on dst.  dst_is_block says what dst is:
 *   SPARSE_DST_FILE (0): a file, truncated to size at the end;
 *   SPARSE_DST_BLOCK (1): a block device with stale data: every byte is
 *     written, zeros too;
 *   SPARSE_DST_ZEROED (2): a block device that reads as zeros (a new thin
 *     LV): zero blocks are skipped and nothing is truncated.
 * progress may be NULL.
 */
#define SPARSE_DST_FILE 0
#define SPARSE_DST_BLOCK 1
#define SPARSE_DST_ZEROED 2
extern int sparse_copy (gk_h *h, int src, int dst, uint64_t size,
                        int dst_is_block, gk_progress_cb progress,
                        void *opaque);

/* FICLONE: 0, or -1 with errno set and no error on the handle. */
extern int reflink_fd (int src, int dst);

/* Probe a local image: qcow2 (by its header) or raw.  Fills format,
 * capacity, backing and backing_format of st.
 */
extern int probe_image (gk_h *h, const char *path, struct vol_state *st);

#endif /* GUESTKIT_POOLS_FILE_UTIL_H */
