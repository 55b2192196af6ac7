/* libguestkit: a native, write-only qcow2 writer (a gk_disk source).
 *
 * Backup images are written once, front to back or in any order, and
 * never read by a guest while they are made.  So, instead of qemu-nbd:
 *
 * - the file is created O_EXCL; a guest cluster's host cluster is
 *   reserved at the end of the file when the first of its subclusters
 *   is written, and each subcluster is written at its place inside it,
 *   straight from the caller's buffer (what is never written stays a
 *   hole);
 * - the L1 table and every L2 table live in memory until close, which
 *   places, after the data: the L2 tables that have entries, the L1
 *   table, the refcount blocks and the refcount table, then truncates
 *   the file to a whole cluster, syncs, writes the header into cluster
 *   0 and syncs again (so that a crash never leaves a valid header
 *   over missing tables);
 * - metadata is written sparsely: each table is cluster-aligned and has
 *   a whole cluster for itself (refcount 1), but only its used bytes are
 *   written; the rest of the cluster stays a hole.  du then counts 4 KiB
 *   blocks where qemu writes whole clusters.
 *
 * The image: qcow2 v3 with extended L2 entries (incompatible feature bit
 * 4): 2 MiB clusters of 32 subclusters of 64 KiB, so that one L2 entry
 * (16 bytes) maps 2 MiB instead of 64 KiB and the metadata of a large
 * disk takes a few KiB; 16-bit refcounts; optionally a backing file with
 * its format (header extension).
 *
 * Writes and zeroes must cover whole 64 KiB subclusters, except a range
 * that ends at the disk's size (the last subcluster, when the size is
 * not a multiple of 64 KiB); anything else is EINVAL.  A subcluster may
 * be written again (in place).  Zeroing an overlay's subcluster sets its
 * "reads as zeros" bit (it hides the backing file's data, and needs no
 * host cluster); zeroing in an image without a backing file deallocates
 * (the subcluster reads as zeros anyway, and needs no L2 table).  A data
 * subcluster that is zeroed is punched out; its host cluster stays
 * referenced (refcount 1), even with no allocated subcluster left, and
 * a later write of the subcluster goes to its old place.
 *
 * Reading (pread) returns what was written: zeros for zeroed subclusters
 * and, without a backing file, for subclusters never written; EIO for
 * subclusters never written in an overlay (their data is in the backing
 * file, which the writer does not read).
 *
 * A failed write, zero or flush leaves the image in an unknown state:
 * close then does not finish it and returns -1, the handle's error
 * being the failed write's (the caller removes the file).  A request
 * refused with EINVAL changes nothing.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <inttypes.h>
#include <endian.h>

#include "internal.h"
#include "disk-internal.h"
#include "cleanups.h"

#define CLUSTER_BITS 21                         /* 2 MiB */
#define CLUSTER_SIZE (UINT64_C (1) << CLUSTER_BITS)
#define SC_BITS 16                              /* 64 KiB subclusters */
#define SC_SIZE (UINT64_C (1) << SC_BITS)
#define SC_PER_CLUSTER 32
#define L2_BITS (CLUSTER_BITS - 4)              /* 128K entries of 16 bytes */
#define L2_ENTRIES (UINT64_C (1) << L2_BITS)
#define RC_BITS (CLUSTER_BITS - 1)              /* 1M 16-bit refcounts */
#define RC_ENTRIES (UINT64_C (1) << RC_BITS)
#define RT_ENTRIES (CLUSTER_SIZE / 8)           /* refcount table entries */

#define QCOW2_MAGIC 0x514649fb
#define HEADER_LENGTH 104                       /* v3 without extra fields */
#define REFCOUNT_ORDER 4                        /* 16 bits */
#define INCOMPAT_EXTL2 (UINT64_C (1) << 4)      /* extended L2 entries */
#define EXT_END 0
#define EXT_BACKING_FORMAT 0xe2792aca
#define MAX_BACKING_NAME 1023                   /* qemu's limit */
#define MAX_FORMAT_NAME 255

#define OFLAG_COPIED (UINT64_C (1) << 63)       /* refcount is 1 */
#define OFFSET_MASK UINT64_C (0x00fffffffffffe00)
/* The subcluster bitmap, the second half of an extended L2 entry: bit n
 * "allocated" (read from the host cluster), bit 32 + n "reads as zeros";
 * neither: read from the backing file (or zeros without one).
 */
#define ALLOC_BITS(mask) ((uint64_t) (mask))
#define ZERO_BITS(mask) ((uint64_t) (mask) << 32)

/* qemu refuses L1 tables above 32 MiB: 4M entries, 2 PiB of disk. */
#define MAX_L1_ENTRIES (UINT64_C (32) * 1024 * 1024 / 8)

struct qw {
  int fd;
  char *path;                   /* for messages */
  char *backing, *backing_format; /* NULL: no backing file */
  uint64_t size;                /* the caller's size */
  uint64_t header_size;         /* the size in the header: ... */
  uint64_t clusters;            /* ... in clusters, rounded up */
  uint64_t l1_size;             /* entries */
  /* L2 tables by L1 index, NULL until an entry is set.  The entries
   * are the final ones in host order, two words each: 0 or a host
   * offset | OFLAG_COPIED, then the subcluster bitmap.
   */
  uint64_t **l2;
  uint64_t next_host;           /* the end of the data, a cluster boundary */
  bool failed;                  /* a write failed: do not finish */
};

static void
qw_free (struct qw *q)
{
  uint64_t i;

  if (q == NULL)
    return;
  if (q->fd >= 0)
    close (q->fd);
  if (q->l2)
    for (i = 0; i < q->l1_size; ++i)
      free (q->l2[i]);
  free (q->l2);
  free (q->path);
  free (q->backing);
  free (q->backing_format);
  free (q);
}

/* pwrite/pread the whole buffer (short transfers continue). */
static int
full_pwrite (int fd, const void *buf, size_t count, uint64_t offset)
{
  const char *p = buf;

  while (count > 0) {
    ssize_t r = pwrite (fd, p, count, offset);

    if (r == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += r;
    count -= r;
    offset += r;
  }
  return 0;
}

/* Bytes past the end of the file read as zeros (the host cluster
 * reserved last, only partly written).
 */
static int
full_pread (int fd, void *buf, size_t count, uint64_t offset)
{
  char *p = buf;

  while (count > 0) {
    ssize_t r = pread (fd, p, count, offset);

    if (r == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (r == 0) {
      memset (p, 0, count);
      return 0;
    }
    p += r;
    count -= r;
    offset += r;
  }
  return 0;
}

static int
write_at (gk_h *h, struct qw *q, const void *buf, size_t count,
          uint64_t offset, const char *what)
{
  if (full_pwrite (q->fd, buf, count, offset) == -1) {
    perrorf (h, "%s: write %s at %" PRIu64, q->path, what, offset);
    q->failed = true;
    return -1;
  }
  return 0;
}

/* Whole subclusters, or a range that ends at the end of the disk. */
static int
check_request (gk_h *h, struct qw *q, const char *op, uint64_t count,
               uint64_t offset)
{
  if (offset % SC_SIZE != 0 ||
      (count % SC_SIZE != 0 && offset + count != q->size)) {
    error_errno (h, EINVAL, "%s: qcow2 writer: %s of %" PRIu64 " bytes at %"
                 PRIu64 " is not whole 64 KiB subclusters", q->path, op,
                 count, offset);
    return -1;
  }
  return 0;
}

/* The L2 entry of a guest cluster (e[0] the descriptor, e[1] the
 * subcluster bitmap); allocate its table if asked.
 */
static uint64_t *
l2_entry (gk_h *h, struct qw *q, uint64_t cluster, bool alloc)
{
  uint64_t i = cluster >> L2_BITS;

  if (q->l2[i] == NULL) {
    if (!alloc)
      return NULL;
    q->l2[i] = calloc (2 * L2_ENTRIES, sizeof (uint64_t));
    if (q->l2[i] == NULL) {
      perrorf (h, "%s: L2 table", q->path);
      q->failed = true;
      return NULL;
    }
  }
  return &q->l2[i][2 * (cluster & (L2_ENTRIES - 1))];
}

/* The subclusters of a cluster that [offset, end) covers (offset and
 * end in the same cluster, end > offset).
 */
static uint32_t
sc_mask (uint64_t offset, uint64_t end)
{
  unsigned first = (offset >> SC_BITS) & (SC_PER_CLUSTER - 1);
  unsigned last = ((end - 1) >> SC_BITS) & (SC_PER_CLUSTER - 1);

  return (uint32_t) ((UINT64_C (2) << last) - (UINT64_C (1) << first));
}

/* The host offset of a guest cluster about to be written: its own, or
 * a new one reserved at the end of the data.  0 on error.
 */
static uint64_t
host_cluster (gk_h *h, struct qw *q, uint64_t cluster)
{
  uint64_t *e = l2_entry (h, q, cluster, true), host;

  if (e == NULL)
    return 0;
  if (e[0] & OFFSET_MASK)
    return e[0] & OFFSET_MASK;
  host = q->next_host;
  q->next_host += CLUSTER_SIZE;
  e[0] = host | OFLAG_COPIED;
  return host;
}

static int
qw_pwrite (gk_h *h, void *priv, const void *buf, size_t count,
           uint64_t offset)
{
  struct qw *q = priv;
  const char *p = buf;
  uint64_t run_host = 0;
  size_t run_len = 0, done = 0;

  if (check_request (h, q, "write", count, offset) == -1)
    return -1;

  /* The part of each cluster that the request covers.  Parts that are
   * consecutive in the file too (those of new clusters, usually) go out
   * in one pwrite.
   */
  while (done < count) {
    uint64_t pos = offset + done, cluster = pos >> CLUSTER_BITS;
    uint64_t in = pos & (CLUSTER_SIZE - 1), host, *e;
    size_t n = count - done < CLUSTER_SIZE - in ?
      count - done : CLUSTER_SIZE - in;
    uint32_t mask = sc_mask (pos, pos + n);

    host = host_cluster (h, q, cluster);
    if (host == 0)
      return -1;
    e = l2_entry (h, q, cluster, false);
    e[1] = (e[1] | ALLOC_BITS (mask)) & ~ZERO_BITS (mask);
    host += in;
    if (run_len > 0 && host != run_host + run_len) {
      if (write_at (h, q, p, run_len, run_host, "data") == -1)
        return -1;
      p += run_len;
      run_len = 0;
    }
    if (run_len == 0)
      run_host = host;
    run_len += n;
    done += n;
  }
  return write_at (h, q, p, run_len, run_host, "data");
}

static int
qw_zero (gk_h *h, void *priv, uint64_t offset, uint64_t length)
{
  struct qw *q = priv;
  bool overlay = q->backing != NULL;
  uint64_t pos = offset, end = offset + length;

  if (check_request (h, q, "zero", length, offset) == -1)
    return -1;
  while (pos < end) {
    uint64_t cluster = pos >> CLUSTER_BITS;
    uint64_t next = (cluster + 1) << CLUSTER_BITS, *e;
    uint32_t mask, punch;

    if (next > end)
      next = end;
    /* No table and no backing file: nothing to deallocate, skip to the
     * next table.
     */
    if (!overlay && q->l2[cluster >> L2_BITS] == NULL) {
      pos = ((cluster >> L2_BITS) + 1) << (L2_BITS + CLUSTER_BITS);
      continue;
    }
    mask = sc_mask (pos, next);
    e = l2_entry (h, q, cluster, true);
    if (e == NULL)
      return -1;
    /* The allocated subclusters among them: punch their data out (if
     * the filesystem cannot, it stays, unreferenced).  The host cluster
     * stays in the L2 entry.
     */
    punch = (uint32_t) e[1] & mask;
    if (punch) {
      unsigned first = __builtin_ctz (punch), last = 31 - __builtin_clz (punch);
      uint64_t at = (e[0] & OFFSET_MASK) + ((uint64_t) first << SC_BITS);
      uint64_t len = (uint64_t) (last - first + 1) << SC_BITS;

      if (fallocate (q->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                     at, len) == -1)
        debug (h, "%s: punch hole at %" PRIu64 ": %m", q->path, at);
    }
    e[1] &= ~ALLOC_BITS (mask);
    if (overlay)
      e[1] |= ZERO_BITS (mask);
    pos = next;
  }
  return 0;
}

static int
qw_pread (gk_h *h, void *priv, void *buf, size_t count, uint64_t offset)
{
  struct qw *q = priv;
  char *p = buf;

  while (count > 0) {
    uint64_t cluster = offset >> CLUSTER_BITS;
    uint64_t in = offset & (CLUSTER_SIZE - 1);
    uint64_t in_sc = offset & (SC_SIZE - 1);
    size_t n = SC_SIZE - in_sc < count ? SC_SIZE - in_sc : count;
    uint64_t *e = l2_entry (h, q, cluster, false);
    uint64_t bit = UINT64_C (1) << (in >> SC_BITS);
    uint64_t bitmap = e ? e[1] : 0;

    if (bitmap & ALLOC_BITS (bit)) {
      if (full_pread (q->fd, p, n, (e[0] & OFFSET_MASK) + in) == -1) {
        perrorf (h, "%s: read at %" PRIu64, q->path, offset);
        return -1;
      }
    }
    else if ((bitmap & ZERO_BITS (bit)) || q->backing == NULL)
      memset (p, 0, n);
    else {
      error_errno (h, EIO, "%s: offset %" PRIu64 " was never written: its "
                   "data is in the backing file %s, which the qcow2 writer "
                   "does not read", q->path, offset, q->backing);
      return -1;
    }
    p += n;
    offset += n;
    count -= n;
  }
  return 0;
}

static int
qw_flush (gk_h *h, void *priv)
{
  struct qw *q = priv;

  if (fdatasync (q->fd) == -1) {
    perrorf (h, "%s: fdatasync", q->path);
    q->failed = true;
    return -1;
  }
  return 0;
}

static void
put_be64 (unsigned char *p, uint64_t v)
{
  v = htobe64 (v);
  memcpy (p, &v, 8);
}

static void
put_be32 (unsigned char *p, uint32_t v)
{
  v = htobe32 (v);
  memcpy (p, &v, 4);
}

/* Write a table of n big-endian 64-bit entries at host, sparsely: runs
 * of the 4 KiB blocks that have non-zero entries, each run from its
 * first to its last non-zero entry (the rest stays a hole).
 */
#define BLOCK_ENTRIES 512

static int
write_table (gk_h *h, struct qw *q, const uint64_t *entries, uint64_t n,
             uint64_t host, uint64_t *buf, const char *what)
{
  uint64_t i = 0, first, last;

  while (i < n) {
    while (i < n && entries[i] == 0)
      i++;
    if (i == n)
      break;
    /* A run: up to the end of the last block with an entry before a
     * block without any.
     */
    first = last = i;
    while (i < n) {
      uint64_t start = i / BLOCK_ENTRIES * BLOCK_ENTRIES;
      uint64_t end = start + BLOCK_ENTRIES < n ? start + BLOCK_ENTRIES : n;

      for (; i < end; ++i)
        if (entries[i] != 0)
          last = i;
      if (last < start)
        break;
    }
    for (i = first; i <= last; ++i)
      buf[i - first] = htobe64 (entries[i]);
    if (write_at (h, q, buf, (last - first + 1) * 8, host + first * 8,
                  what) == -1)
      return -1;
    i = last + 1;
  }
  return 0;
}

/* The refcount blocks at rb (rb_count of them) for total clusters: 1
 * for each cluster (every one is used once).
 */
static int
write_refcounts (gk_h *h, struct qw *q, uint64_t rb, uint64_t rb_count,
                 uint64_t total)
{
  CLEANUP_FREE uint16_t *block = malloc (CLUSTER_SIZE);
  uint64_t b, c;

  if (block == NULL) {
    perrorf (h, "%s: refcount block", q->path);
    return -1;
  }
  for (b = 0; b < rb_count; ++b) {
    uint64_t first = b * RC_ENTRIES;
    uint64_t n = total - first < RC_ENTRIES ? total - first : RC_ENTRIES;

    for (c = 0; c < n; ++c)
      block[c] = htobe16 (1);
    if (write_at (h, q, block, n * 2, rb + b * CLUSTER_SIZE,
                  "refcount block") == -1)
      return -1;
  }
  return 0;
}

/* The header, its extensions and the backing file name in cluster 0. */
static int
write_header (gk_h *h, struct qw *q, uint64_t l1_offset, uint64_t rt_offset,
              uint64_t rt_clusters)
{
  unsigned char hdr[HEADER_LENGTH + 8 + MAX_FORMAT_NAME + 8 + 8 +
                    MAX_BACKING_NAME];
  size_t pos = HEADER_LENGTH;

  memset (hdr, 0, sizeof hdr);
  put_be32 (hdr + 0, QCOW2_MAGIC);
  put_be32 (hdr + 4, 3);                        /* version */
  put_be32 (hdr + 20, CLUSTER_BITS);
  put_be64 (hdr + 24, q->header_size);
  /* crypt_method 0 */
  put_be32 (hdr + 36, q->l1_size);
  put_be64 (hdr + 40, l1_offset);
  put_be64 (hdr + 48, rt_offset);
  put_be32 (hdr + 56, rt_clusters);
  put_be64 (hdr + 72, INCOMPAT_EXTL2);
  /* no snapshots; no compatible or autoclear features */
  put_be32 (hdr + 96, REFCOUNT_ORDER);
  put_be32 (hdr + 100, HEADER_LENGTH);
  if (q->backing) {
    size_t flen = strlen (q->backing_format);
    size_t blen = strlen (q->backing);

    put_be32 (hdr + pos, EXT_BACKING_FORMAT);
    put_be32 (hdr + pos + 4, flen);
    memcpy (hdr + pos + 8, q->backing_format, flen);
    pos += 8 + (flen + 7) / 8 * 8;
    pos += 8;                                   /* EXT_END, length 0 */
    put_be64 (hdr + 8, pos);
    put_be32 (hdr + 16, blen);
    memcpy (hdr + pos, q->backing, blen);
    pos += blen;
  }
  else
    pos += 8;                                   /* EXT_END */
  return write_at (h, q, hdr, pos, 0, "header");
}

/* Place the tables after the data, then the header. */
static int
finish (gk_h *h, struct qw *q)
{
  CLEANUP_FREE uint64_t *l1 = NULL, *buf = NULL;
  uint64_t host = q->next_host, i, l1_offset = 0, l1_clusters;
  uint64_t rb, rb_count, rt_clusters, total, prev;

  l1 = calloc (q->l1_size ? q->l1_size : 1, sizeof (uint64_t));
  buf = malloc (q->l1_size * 8 > CLUSTER_SIZE ? q->l1_size * 8 : CLUSTER_SIZE);
  if (l1 == NULL || buf == NULL) {
    perrorf (h, "%s: L1 table", q->path);
    return -1;
  }

  /* The L2 tables that have entries. */
  for (i = 0; i < q->l1_size; ++i) {
    uint64_t j;

    if (q->l2[i] == NULL)
      continue;
    for (j = 0; j < 2 * L2_ENTRIES && q->l2[i][j] == 0; ++j)
      ;
    if (j == 2 * L2_ENTRIES)
      continue;
    if (write_table (h, q, q->l2[i], 2 * L2_ENTRIES, host, buf,
                     "L2 table") == -1)
      return -1;
    l1[i] = host | OFLAG_COPIED;
    host += CLUSTER_SIZE;
  }

  /* The L1 table (none for an empty disk: qemu would count its cluster
   * as leaked).
   */
  if (q->l1_size > 0) {
    l1_offset = host;
    if (write_table (h, q, l1, q->l1_size, host, buf, "L1 table") == -1)
      return -1;
    l1_clusters = (q->l1_size * 8 + CLUSTER_SIZE - 1) / CLUSTER_SIZE;
    host += l1_clusters * CLUSTER_SIZE;
  }

  /* The refcount blocks and the table count themselves too: grow both
   * until they cover every cluster including their own.
   */
  rb = host;
  rb_count = 1;
  rt_clusters = 1;
  do {
    prev = rb_count + rt_clusters;
    total = (rb >> CLUSTER_BITS) + rb_count + rt_clusters;
    rb_count = (total + RC_ENTRIES - 1) / RC_ENTRIES;
    rt_clusters = (rb_count + RT_ENTRIES - 1) / RT_ENTRIES;
  } while (rb_count + rt_clusters != prev);
  total = (rb >> CLUSTER_BITS) + rb_count + rt_clusters;

  if (write_refcounts (h, q, rb, rb_count, total) == -1)
    return -1;
  {
    CLEANUP_FREE uint64_t *rt = malloc (rb_count * 8);

    if (rt == NULL) {
      perrorf (h, "%s: refcount table", q->path);
      return -1;
    }
    for (i = 0; i < rb_count; ++i)
      rt[i] = htobe64 (rb + i * CLUSTER_SIZE);
    if (write_at (h, q, rt, rb_count * 8, rb + rb_count * CLUSTER_SIZE,
                  "refcount table") == -1)
      return -1;
  }

  /* A whole last cluster (a hole), the tables on disk before the header
   * that makes them an image.
   */
  if (ftruncate (q->fd, total * CLUSTER_SIZE) == -1) {
    perrorf (h, "%s: truncate", q->path);
    return -1;
  }
  if (qw_flush (h, q) == -1 ||
      write_header (h, q, l1_offset, rb + rb_count * CLUSTER_SIZE,
                    rt_clusters) == -1 ||
      qw_flush (h, q) == -1)
    return -1;
  debug (h, "%s: qcow2 writer: %" PRIu64 " clusters", q->path, total);
  return 0;
}

static int
qw_close (gk_h *h, void *priv)
{
  struct qw *q = priv;
  int r;

  /* The failed write set the error already. */
  if (q->failed) {
    debug (h, "%s: qcow2 writer: not finished: a write failed", q->path);
    r = -1;
  }
  else
    r = finish (h, q);
  if (close (q->fd) == -1 && r == 0) {
    perrorf (h, "%s: close", q->path);
    r = -1;
  }
  q->fd = -1;
  qw_free (q);
  return r;
}

static const struct gk_disk_ops qcow2_writer_ops = {
  .name = "qcow2-writer",
  .pread = qw_pread,
  .pwrite = qw_pwrite,
  .zero = qw_zero,
  .flush = qw_flush,
  .close = qw_close,
};

int
gk_int_qcow2_writer_open (gk_h *h, const char *path, uint64_t size,
                          const char *backing, const char *backing_format,
                          struct gk_disk_source *src)
{
  struct qw *q;

  if (backing &&
      (backing[0] == '\0' || strlen (backing) > MAX_BACKING_NAME ||
       backing_format == NULL || backing_format[0] == '\0' ||
       strlen (backing_format) > MAX_FORMAT_NAME)) {
    error_errno (h, EINVAL, "%s: qcow2 writer: bad backing file \"%s\" or "
                 "format \"%s\"", path, backing,
                 backing_format ? backing_format : "(none)");
    return -1;
  }
  /* qemu-img create rounds the size up to a sector; so do we. */
  if (size > (MAX_L1_ENTRIES << (L2_BITS + CLUSTER_BITS))) {
    error_errno (h, EFBIG, "%s: qcow2 writer: %" PRIu64 " bytes is too "
                 "large for qcow2 with 2 MiB clusters", path, size);
    return -1;
  }

  q = calloc (1, sizeof *q);
  if (q == NULL) {
    perrorf (h, "%s", path);
    return -1;
  }
  q->fd = -1;
  q->size = size;
  q->header_size = (size + 511) & ~UINT64_C (511);
  q->clusters = (q->header_size + CLUSTER_SIZE - 1) >> CLUSTER_BITS;
  q->l1_size = (q->clusters + L2_ENTRIES - 1) >> L2_BITS;
  q->next_host = CLUSTER_SIZE;                  /* cluster 0: the header */
  q->l2 = calloc (q->l1_size ? q->l1_size : 1, sizeof (uint64_t *));
  if (q->l2 == NULL ||
      (q->path = strdup (path)) == NULL ||
      (backing && (q->backing = strdup (backing)) == NULL) ||
      (backing && (q->backing_format = strdup (backing_format)) == NULL)) {
    perrorf (h, "%s", path);
    qw_free (q);
    return -1;
  }
  q->fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (q->fd == -1) {
    perrorf (h, "create: %s", path);
    qw_free (q);
    return -1;
  }
  debug (h, "%s: qcow2 writer: %" PRIu64 " bytes%s%s", path, size,
         backing ? ", backing " : "", backing ? backing : "");
  src->ops = &qcow2_writer_ops;
  src->priv = q;
  src->size = size;
  return 0;
}
