/* libguestkit native engine: qcow2 images, read-only (see block.h).
 *
 * Written from the format's specification (qemu's docs/interop/qcow2.txt).
 * Only the active L1 table is read: snapshots, bitmaps and refcounts do
 * not change what the guest sees.  Every header field and every table
 * entry is checked before it is used, so a corrupt image gives an error
 * naming the file and the field, and reads nothing outside the file.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <errno.h>
#include <inttypes.h>
#include <endian.h>

#include <zlib.h>
#include <zstd.h>

#include "reader.h"
#include "block.h"

#define QCOW2_MAGIC 0x514649fb          /* "QFI\xfb" */
#define QCOW2_V2_HEADER 72
#define QCOW2_V3_HEADER 104
#define MIN_CLUSTER_BITS 9
#define MAX_CLUSTER_BITS 21             /* 2 MiB, qemu's limit too */
#define MAX_L1_BYTES (32 * 1024 * 1024) /* qemu's limit */
#define MAX_NAME 1023                   /* backing file name */

#define INCOMPAT_DIRTY        (1ULL << 0)
#define INCOMPAT_CORRUPT      (1ULL << 1)
#define INCOMPAT_DATA_FILE    (1ULL << 2)
#define INCOMPAT_COMPRESSION  (1ULL << 3)
#define INCOMPAT_EXTL2        (1ULL << 4)
#define INCOMPAT_KNOWN        0x1fULL

#define EXT_END               0x00000000
#define EXT_BACKING_FORMAT    0xe2792aca
#define EXT_FEATURE_NAMES     0x6803f857

#define OFFSET_MASK           0x00fffffffffffe00ULL  /* L1 and L2 entries */
#define OFLAG_COPIED          (1ULL << 63)
#define OFLAG_COMPRESSED      (1ULL << 62)
#define OFLAG_ZERO            (1ULL << 0)

#define COMPRESSION_ZLIB 0
#define COMPRESSION_ZSTD 1

/* The L2 cache holds at most this many tables and this many bytes. */
#define L2_CACHE_SLOTS 16
#define L2_CACHE_BYTES (16 * 1024 * 1024)

struct l2_slot {
  uint64_t offset;              /* in the file; 0 = empty slot */
  uint64_t used;                /* LRU clock */
  uint64_t *table;              /* one cluster, big-endian as on disk */
};

struct qcow2 {
  struct gk_reader file;
  struct gk_reader backing;     /* backing.pread == NULL: none */
  char *backing_file;           /* as recorded, NULL if none */
  char *backing_format;         /* NULL if not recorded */

  unsigned version;
  unsigned cluster_bits;
  uint64_t cluster_size;
  unsigned l2_bits;             /* log2 (entries per L2 table) */
  bool extended_l2;             /* 128 bit entries, 32 subclusters */
  unsigned sc_bits;             /* log2 (subcluster size) */
  int compression_type;
  uint64_t size;

  uint64_t *l1;                 /* host byte order */
  uint32_t l1_size;

  struct l2_slot cache[L2_CACHE_SLOTS];
  unsigned cache_slots;
  uint64_t clock;

  /* The last compressed cluster, decompressed. */
  uint64_t cached_compressed;   /* its L2 entry, 0 = none */
  unsigned char *cluster_buf;
  unsigned char *compressed_buf;
  ZSTD_DCtx *zstd;
};

static void
qcow2_free (struct qcow2 *q)
{
  unsigned i;

  if (q == NULL)
    return;
  gk_reader_close (&q->file);
  if (q->backing.pread)
    gk_reader_close (&q->backing);
  free (q->backing_file);
  free (q->backing_format);
  free (q->l1);
  for (i = 0; i < L2_CACHE_SLOTS; ++i)
    free (q->cache[i].table);
  free (q->cluster_buf);
  free (q->compressed_buf);
  ZSTD_freeDCtx (q->zstd);
  free (q);
}

static void
qcow2_close (void *opaque)
{
  qcow2_free (opaque);
}

static uint32_t
be32 (const unsigned char *p)
{
  uint32_t v;
  memcpy (&v, p, 4);
  return be32toh (v);
}

static uint64_t
be64 (const unsigned char *p)
{
  uint64_t v;
  memcpy (&v, p, 8);
  return be64toh (v);
}

/* Read [offset, offset+count) of the image file, which must start
 * inside it; bytes beyond its end read as zeros (qemu does the same: a
 * cluster's tail need not have been written).
 */
static int
read_file (gk_h *h, struct qcow2 *q, void *buf, size_t count, uint64_t offset,
           const char *what)
{
  uint64_t avail;

  if (offset >= q->file.size) {
    error_errno (h, EIO, "%s: corrupt qcow2 image: %s at offset %" PRIu64
                 " is beyond the end of the file (%" PRIu64 " bytes)",
                 q->file.name, what, offset, q->file.size);
    return -1;
  }
  avail = q->file.size - offset;
  if (count > avail) {
    memset ((char *) buf + avail, 0, count - avail);
    count = avail;
  }
  return gk_reader_pread (h, &q->file, buf, count, offset);
}

/* The L2 table at l2_offset, through the cache. */
static const uint64_t *
get_l2 (gk_h *h, struct qcow2 *q, uint64_t l2_offset)
{
  struct l2_slot *victim = &q->cache[0];
  unsigned i;

  for (i = 0; i < q->cache_slots; ++i) {
    struct l2_slot *s = &q->cache[i];
    if (s->offset == l2_offset) {
      s->used = ++q->clock;
      return s->table;
    }
    if (s->used < victim->used)
      victim = s;
  }

  if (l2_offset > q->file.size || q->cluster_size > q->file.size - l2_offset) {
    error_errno (h, EIO, "%s: corrupt qcow2 image: L2 table at offset %"
                 PRIu64 " is beyond the end of the file (%" PRIu64 " bytes)",
                 q->file.name, l2_offset, q->file.size);
    return NULL;
  }
  if (victim->table == NULL) {
    victim->table = malloc (q->cluster_size);
    if (victim->table == NULL) {
      perrorf (h, "malloc");
      return NULL;
    }
  }
  victim->offset = 0;
  if (gk_reader_pread (h, &q->file, victim->table, q->cluster_size,
                       l2_offset) == -1)
    return NULL;
  victim->offset = l2_offset;
  victim->used = ++q->clock;
  return victim->table;
}

/* What one guest (sub)cluster reads as. */
enum kind { UNALLOCATED, ZERO, NORMAL, COMPRESSED };

/* Look up the guest offset: its kind, and for NORMAL the host offset of
 * its cluster, for COMPRESSED the L2 entry.  If run_rtn is not NULL, it
 * is set to how many bytes from offset on have the same kind and the
 * same entry: to the end of the L2 table's range when its L1 entry is
 * empty, else to the end of the cluster, or of the subclusters in the
 * same state.
 */
static int
lookup (gk_h *h, struct qcow2 *q, uint64_t offset, enum kind *kind,
        uint64_t *entry_rtn, uint64_t *run_rtn)
{
  uint64_t cluster = offset >> q->cluster_bits;
  uint64_t l1_index = cluster >> q->l2_bits;
  uint64_t l2_index = cluster & ((UINT64_C (1) << q->l2_bits) - 1);
  uint64_t in_cluster = offset & (q->cluster_size - 1);
  uint64_t l1e, l2_offset, l2e, bitmap = 0, host;
  const uint64_t *l2;

  if (run_rtn)
    *run_rtn = q->cluster_size - in_cluster;
  if (l1_index >= q->l1_size || (q->l1[l1_index] & OFFSET_MASK) == 0) {
    /* (The L1 table covers the virtual size: no overflow here.) */
    if (run_rtn)
      *run_rtn = ((l1_index + 1) << (q->cluster_bits + q->l2_bits)) - offset;
    *kind = UNALLOCATED;
    return 0;
  }
  l1e = q->l1[l1_index];
  l2_offset = l1e & OFFSET_MASK;
  if (l2_offset & (q->cluster_size - 1)) {
    error_errno (h, EIO, "%s: corrupt qcow2 image: L1 entry %" PRIu64
                 " points to an unaligned L2 table (offset %" PRIu64 ")",
                 q->file.name, l1_index, l2_offset);
    return -1;
  }
  l2 = get_l2 (h, q, l2_offset);
  if (l2 == NULL)
    return -1;

  if (q->extended_l2) {
    l2e = be64toh (l2[2 * l2_index]);
    bitmap = be64toh (l2[2 * l2_index + 1]);
  }
  else
    l2e = be64toh (l2[l2_index]);

  if (l2e & OFLAG_COMPRESSED) {
    if (bitmap != 0) {
      error_errno (h, EIO, "%s: corrupt qcow2 image: compressed cluster at "
                   "guest offset %" PRIu64 " has a subcluster bitmap",
                   q->file.name, offset);
      return -1;
    }
    *kind = COMPRESSED;
    *entry_rtn = l2e;
    return 0;
  }

  host = l2e & OFFSET_MASK;
  if (host & (q->cluster_size - 1)) {
    error_errno (h, EIO, "%s: corrupt qcow2 image: the L2 entry for guest "
                 "offset %" PRIu64 " points to an unaligned cluster "
                 "(offset %" PRIu64 ")", q->file.name, offset, host);
    return -1;
  }

  if (q->extended_l2) {
    unsigned sc = (offset >> q->sc_bits) & 31, last;
    uint32_t alloc = bitmap & 0xffffffff, zero = bitmap >> 32;

    if (alloc & zero) {
      error_errno (h, EIO, "%s: corrupt qcow2 image: subclusters both "
                   "allocated and zero at guest offset %" PRIu64,
                   q->file.name, offset);
      return -1;
    }
    if (host == 0 && alloc != 0) {
      error_errno (h, EIO, "%s: corrupt qcow2 image: allocated subclusters "
                   "without a host cluster at guest offset %" PRIu64,
                   q->file.name, offset);
      return -1;
    }
    if (zero & (UINT32_C (1) << sc))
      *kind = ZERO;
    else if (alloc & (UINT32_C (1) << sc))
      *kind = NORMAL;
    else
      *kind = UNALLOCATED;
    /* The following subclusters in the same state. */
    for (last = sc + 1; last < 32; ++last)
      if (((zero >> last) & 1) != ((zero >> sc) & 1) ||
          ((alloc >> last) & 1) != ((alloc >> sc) & 1))
        break;
    if (run_rtn)
      *run_rtn = ((uint64_t) last << q->sc_bits) - in_cluster;
  }
  /* The zero flag wins over an allocation (a preallocated zero cluster).
   * qemu honours it in version 2 images too, and so do we.
   */
  else if (l2e & OFLAG_ZERO)
    *kind = ZERO;
  else if (host == 0)
    *kind = UNALLOCATED;
  else
    *kind = NORMAL;
  *entry_rtn = host;
  return 0;
}

static int
decompress (gk_h *h, struct qcow2 *q, uint64_t l2e, uint64_t guest_offset)
{
  unsigned x = 62 - (q->cluster_bits - 8);
  uint64_t coffset = l2e & ((UINT64_C (1) << x) - 1);
  uint64_t sector_mask = (UINT64_C (1) << (q->cluster_bits - 8)) - 1;
  uint64_t sectors = ((l2e >> x) & sector_mask) + 1;
  /* An upper bound: the data may end before the last sector does. */
  uint64_t csize = sectors * 512 - (coffset & 511);
  bool ok = false;

  if (q->cached_compressed == l2e)
    return 0;
  q->cached_compressed = 0;
  /* Allocated on first use: most images have no compressed cluster, and
   * each layer of a chain has its own.  Compressed data spans at most
   * 2^(cluster_bits-8) sectors, so two clusters.
   */
  if (q->cluster_buf == NULL) {
    q->cluster_buf = malloc (q->cluster_size);
    q->compressed_buf = malloc (q->cluster_size * 2);
    if (q->cluster_buf == NULL || q->compressed_buf == NULL) {
      perrorf (h, "malloc");
      free (q->cluster_buf);
      free (q->compressed_buf);
      q->cluster_buf = q->compressed_buf = NULL;
      return -1;
    }
  }

  if (coffset >= q->file.size) {
    error_errno (h, EIO, "%s: corrupt qcow2 image: compressed cluster for "
                 "guest offset %" PRIu64 " is at %" PRIu64 ", beyond the "
                 "end of the file", q->file.name, guest_offset, coffset);
    return -1;
  }
  if (csize > q->file.size - coffset)
    csize = q->file.size - coffset;
  if (gk_reader_pread (h, &q->file, q->compressed_buf, csize, coffset) == -1)
    return -1;

  if (q->compression_type == COMPRESSION_ZLIB) {
    z_stream z = { 0 };
    int ret;

    /* Raw deflate (no zlib header), a 4 KiB window, as qemu writes it. */
    if (inflateInit2 (&z, -12) != Z_OK) {
      error (h, "%s: inflateInit2 failed", q->file.name);
      return -1;
    }
    z.next_in = q->compressed_buf;
    z.avail_in = csize;
    z.next_out = q->cluster_buf;
    z.avail_out = q->cluster_size;
    ret = inflate (&z, Z_FINISH);
    /* Z_BUF_ERROR with a full output: the cluster is complete, and the
     * input went on (into the next cluster's sectors).
     */
    ok = (ret == Z_STREAM_END || ret == Z_BUF_ERROR) && z.avail_out == 0;
    inflateEnd (&z);
  }
  else {
    ZSTD_inBuffer in = { q->compressed_buf, csize, 0 };
    ZSTD_outBuffer out = { q->cluster_buf, q->cluster_size, 0 };
    size_t ret = 0;

    if (q->zstd == NULL && (q->zstd = ZSTD_createDCtx ()) == NULL) {
      error (h, "%s: ZSTD_createDCtx failed", q->file.name);
      return -1;
    }
    ZSTD_DCtx_reset (q->zstd, ZSTD_reset_session_only);
    /* Streaming: the frame may not record its size, and the input is
     * only an upper bound.
     */
    ok = true;
    while (out.pos < out.size) {
      size_t in_pos = in.pos, out_pos = out.pos;

      ret = ZSTD_decompressStream (q->zstd, &out, &in);
      if (ZSTD_isError (ret) || (in.pos == in_pos && out.pos == out_pos)) {
        ok = false;
        break;
      }
    }
    if (ok && ret > 0)          /* the frame did not end with the cluster */
      ok = false;
  }

  if (!ok) {
    error_errno (h, EIO, "%s: corrupt qcow2 image: compressed cluster for "
                 "guest offset %" PRIu64 " (at %" PRIu64 ") does not "
                 "decompress (%s)", q->file.name, guest_offset, coffset,
                 q->compression_type == COMPRESSION_ZLIB ? "zlib" : "zstd");
    return -1;
  }
  q->cached_compressed = l2e;
  return 0;
}

/* Guest bytes the image does not allocate: the backing file's, zeros
 * beyond its end or without one.
 */
static int
read_backing (gk_h *h, struct qcow2 *q, char *buf, size_t count,
              uint64_t offset)
{
  uint64_t n = 0;

  if (q->backing.pread && offset < q->backing.size) {
    n = q->backing.size - offset;
    if (n > count)
      n = count;
    if (gk_reader_pread (h, &q->backing, buf, n, offset) == -1)
      return -1;
  }
  memset (buf + n, 0, count - n);
  return 0;
}

static int
qcow2_pread (gk_h *h, void *opaque, void *buf, size_t count, uint64_t offset)
{
  struct qcow2 *q = opaque;
  char *p = buf;

  while (count > 0) {
    /* One (sub)cluster at a time: each has a kind of its own. */
    unsigned bits = q->extended_l2 ? q->sc_bits : q->cluster_bits;
    uint64_t in_unit = offset & ((UINT64_C (1) << bits) - 1);
    uint64_t in_cluster = offset & (q->cluster_size - 1);
    size_t n = (UINT64_C (1) << bits) - in_unit;
    enum kind kind;
    uint64_t entry = 0;

    if (n > count)
      n = count;
    if (lookup (h, q, offset, &kind, &entry, NULL) == -1)
      return -1;
    switch (kind) {
    case UNALLOCATED:
      if (read_backing (h, q, p, n, offset) == -1)
        return -1;
      break;
    case ZERO:
      memset (p, 0, n);
      break;
    case NORMAL:
      if (read_file (h, q, p, n, entry + in_cluster, "data cluster") == -1)
        return -1;
      break;
    case COMPRESSED:
      if (decompress (h, q, entry, offset) == -1)
        return -1;
      memcpy (p, q->cluster_buf + in_cluster, n);
      break;
    }
    p += n;
    count -= n;
    offset += n;
  }
  return 0;
}

/* qcow2_extents: the extent not yet passed on, which the next one may
 * extend (one call per run, not per cluster).
 */
struct qmap {
  gk_reader_extent_cb cb;
  void *cbdata;
  uint64_t offset, length;      /* length 0: none */
  unsigned type;
};

static int
qmap_flush (struct qmap *m)
{
  uint64_t length = m->length;

  m->length = 0;
  return length ? m->cb (m->cbdata, m->offset, length, m->type) : 0;
}

static int
qmap_extent (void *opaque, uint64_t offset, uint64_t length, unsigned type)
{
  struct qmap *m = opaque;
  int ret;

  if (m->length > 0 && m->type == type &&
      m->offset + m->length == offset) {
    m->length += length;
    return 0;
  }
  ret = qmap_flush (m);
  if (ret != 0)
    return ret;
  m->offset = offset;
  m->length = length;
  m->type = type;
  return 0;
}

/* The map of a range the image does not allocate: the backing file's,
 * a hole beyond its end or without one (as read_backing reads it).
 */
static int
backing_extents (gk_h *h, struct qcow2 *q, uint64_t offset, uint64_t length,
                 struct qmap *m)
{
  uint64_t n = 0;
  int ret;

  if (q->backing.pread && offset < q->backing.size) {
    n = q->backing.size - offset;
    if (n > length)
      n = length;
    ret = gk_reader_extents (h, &q->backing, offset, n, qmap_extent, m);
    if (ret != 0)
      return ret;
  }
  if (length > n)
    return qmap_extent (m, offset + n, length - n, GK_READER_HOLE);
  return 0;
}

/* Normal and compressed clusters are data, zero clusters zero, the rest
 * is the backing file's.  Only the L2 tables are read (through the
 * cache), never data.
 */
static int
qcow2_extents (gk_h *h, void *opaque, uint64_t offset, uint64_t length,
               gk_reader_extent_cb cb, void *cbdata)
{
  struct qcow2 *q = opaque;
  struct qmap m = { .cb = cb, .cbdata = cbdata };
  uint64_t end = offset + length;
  uint64_t unalloc_offset = 0, unalloc_length = 0;
  int ret;

  while (offset < end) {
    enum kind kind;
    uint64_t entry, run;

    if (lookup (h, q, offset, &kind, &entry, &run) == -1)
      return -1;
    if (run > end - offset)
      run = end - offset;
    if (kind == UNALLOCATED) {
      /* Ask the backing file once for the whole run. */
      if (unalloc_length == 0)
        unalloc_offset = offset;
      unalloc_length += run;
    }
    else {
      if (unalloc_length > 0) {
        ret = backing_extents (h, q, unalloc_offset, unalloc_length, &m);
        if (ret != 0)
          return ret;
        unalloc_length = 0;
      }
      ret = qmap_extent (&m, offset, run,
                         kind == ZERO ? GK_READER_ZERO : GK_READER_DATA);
      if (ret != 0)
        return ret;
    }
    offset += run;
  }
  if (unalloc_length > 0) {
    ret = backing_extents (h, q, unalloc_offset, unalloc_length, &m);
    if (ret != 0)
      return ret;
  }
  return qmap_flush (&m);
}

/* Fill *name with the feature name table's name for an incompatible
 * feature bit, if the image has one.
 */
static void
feature_name (const unsigned char *table, uint32_t len, unsigned bit,
              char *name, size_t name_size)
{
  uint32_t i;

  snprintf (name, name_size, "bit %u", bit);
  for (i = 0; i + 48 <= len; i += 48) {
    if (table[i] == 0 && table[i + 1] == bit) {
      snprintf (name, name_size, "bit %u \"%.46s\"", bit,
                (const char *) &table[i + 2]);
      return;
    }
  }
}

/* Parse and check the header and its extensions.  hdr holds the first
 * hdr_len bytes of the file (the first cluster, or the whole file if it
 * is smaller).
 */
static int
parse_header (gk_h *h, struct qcow2 *q, const unsigned char *hdr,
              size_t hdr_len, char **why_rtn)
{
  const char *name = q->file.name;
  uint64_t backing_offset, l1_offset, refcount_offset, snapshots_offset;
  uint64_t incompat = 0, l1_needed, ext_end, pos;
  uint32_t backing_len, crypt, nb_snapshots, header_length = QCOW2_V2_HEADER;
  const unsigned char *features = NULL;
  uint32_t features_len = 0;
  unsigned shift;

  if (hdr_len < QCOW2_V2_HEADER || be32 (hdr) != QCOW2_MAGIC) {
    error_errno (h, EINVAL, "%s: not a qcow2 image (%s)", name,
                 hdr_len < QCOW2_V2_HEADER ? "too short for its header"
                 : "no qcow2 magic");
    return -1;
  }
  q->version = be32 (hdr + 4);
  if (q->version != 2 && q->version != 3)
    return gk_int_native_unsure (h, why_rtn, "%s: qcow2 version %u is not "
                                 "read natively", name, q->version);
  backing_offset = be64 (hdr + 8);
  backing_len = be32 (hdr + 16);
  q->cluster_bits = be32 (hdr + 20);
  q->size = be64 (hdr + 24);
  crypt = be32 (hdr + 32);
  q->l1_size = be32 (hdr + 36);
  l1_offset = be64 (hdr + 40);
  refcount_offset = be64 (hdr + 48);
  nb_snapshots = be32 (hdr + 60);
  snapshots_offset = be64 (hdr + 64);

  if (q->cluster_bits < MIN_CLUSTER_BITS ||
      q->cluster_bits > MAX_CLUSTER_BITS) {
    error_errno (h, EINVAL, "%s: corrupt qcow2 image: cluster_bits %u is "
                 "not between %d and %d", name, q->cluster_bits,
                 MIN_CLUSTER_BITS, MAX_CLUSTER_BITS);
    return -1;
  }
  q->cluster_size = UINT64_C (1) << q->cluster_bits;

  if (q->version >= 3) {
    if (hdr_len < QCOW2_V3_HEADER) {
      error_errno (h, EINVAL, "%s: corrupt qcow2 image: the file is too "
                   "short for a version 3 header", name);
      return -1;
    }
    incompat = be64 (hdr + 72);
    header_length = be32 (hdr + 100);
    if (header_length < QCOW2_V3_HEADER || header_length % 8 != 0 ||
        header_length > q->cluster_size || header_length > hdr_len) {
      error_errno (h, EINVAL, "%s: corrupt qcow2 image: header_length %"
                   PRIu32 " is invalid", name, header_length);
      return -1;
    }
    if (header_length > QCOW2_V3_HEADER)
      q->compression_type = hdr[104];
  }

  /* Header extensions, up to the backing file name or the end of the
   * first cluster.
   */
  ext_end = backing_offset ? backing_offset : q->cluster_size;
  if (ext_end > hdr_len)
    ext_end = hdr_len;
  pos = header_length;
  while (pos + 8 <= ext_end) {
    uint32_t type = be32 (hdr + pos), len = be32 (hdr + pos + 4);

    if (type == EXT_END)
      break;
    if (len > ext_end - pos - 8) {
      error_errno (h, EINVAL, "%s: corrupt qcow2 image: header extension "
                   "0x%08" PRIx32 " (%" PRIu32 " bytes) goes beyond the "
                   "header", name, type, len);
      return -1;
    }
    if (type == EXT_BACKING_FORMAT) {
      if (len == 0 || len > 255 || memchr (hdr + pos + 8, 0, len)) {
        error_errno (h, EINVAL, "%s: corrupt qcow2 image: invalid backing "
                     "format extension (%" PRIu32 " bytes)", name, len);
        return -1;
      }
      free (q->backing_format);
      q->backing_format = strndup ((const char *) hdr + pos + 8, len);
      if (q->backing_format == NULL) {
        perrorf (h, "strdup");
        return -1;
      }
    }
    else if (type == EXT_FEATURE_NAMES) {
      features = hdr + pos + 8;
      features_len = len;
    }
    pos += 8 + ((len + UINT64_C (7)) & ~UINT64_C (7));
  }

  /* Features that change what the guest sees, or how to read it. */
  if (incompat & ~INCOMPAT_KNOWN) {
    char fname[80];
    unsigned bit;

    for (bit = 0; bit < 64; ++bit)
      if ((incompat & ~INCOMPAT_KNOWN) & (UINT64_C (1) << bit))
        break;
    feature_name (features, features ? features_len : 0, bit,
                  fname, sizeof fname);
    return gk_int_native_unsure (h, why_rtn, "%s: qcow2 image uses unknown "
                                 "incompatible feature %s", name, fname);
  }
  if (incompat & INCOMPAT_CORRUPT)
    return gk_int_native_unsure (h, why_rtn, "%s: qcow2 image is marked "
                                 "corrupt", name);
  if (incompat & INCOMPAT_DATA_FILE)
    return gk_int_native_unsure (h, why_rtn, "%s: qcow2 image has an "
                                 "external data file", name);
  if (crypt != 0)
    return gk_int_native_unsure (h, why_rtn, "%s: qcow2 image is encrypted "
                                 "(method %" PRIu32 ")", name, crypt);
  if (incompat & INCOMPAT_DIRTY)
    /* Only the refcounts may be stale: the L1/L2 tables and the data are
     * what qemu last wrote, and qemu itself reads such images.
     */
    debug (h, "native: %s: qcow2 image is marked dirty (not cleanly closed); "
           "reading it anyway", name);
  if (!!(incompat & INCOMPAT_COMPRESSION) != (q->compression_type != 0)) {
    error_errno (h, EINVAL, "%s: corrupt qcow2 image: compression type %d "
                 "does not match the compression type feature bit",
                 name, q->compression_type);
    return -1;
  }
  if (q->compression_type != COMPRESSION_ZLIB &&
      q->compression_type != COMPRESSION_ZSTD)
    return gk_int_native_unsure (h, why_rtn, "%s: qcow2 image uses unknown "
                                 "compression type %d", name,
                                 q->compression_type);
  q->extended_l2 = (incompat & INCOMPAT_EXTL2) != 0;
  if (q->extended_l2 && q->cluster_bits < 14) {
    error_errno (h, EINVAL, "%s: corrupt qcow2 image: extended L2 entries "
                 "need clusters of at least 16 KiB (cluster_bits %u)",
                 name, q->cluster_bits);
    return -1;
  }
  q->l2_bits = q->cluster_bits - (q->extended_l2 ? 4 : 3);
  q->sc_bits = q->cluster_bits - 5;

  /* The virtual size and the L1 table that must cover it. */
  if (q->size > INT64_MAX) {
    error_errno (h, EINVAL, "%s: corrupt qcow2 image: virtual size %" PRIu64
                 " is too large", name, q->size);
    return -1;
  }
  shift = q->cluster_bits + q->l2_bits;
  l1_needed = (q->size >> shift) +
    ((q->size & ((UINT64_C (1) << shift) - 1)) != 0);
  if (q->l1_size < l1_needed) {
    error_errno (h, EINVAL, "%s: corrupt qcow2 image: L1 table has %" PRIu32
                 " entries, %" PRIu64 " are needed for the virtual size %"
                 PRIu64, name, q->l1_size, l1_needed, q->size);
    return -1;
  }
  if ((uint64_t) q->l1_size * 8 > MAX_L1_BYTES) {
    error_errno (h, EINVAL, "%s: corrupt qcow2 image: L1 table of %" PRIu32
                 " entries is too large", name, q->l1_size);
    return -1;
  }
  if (l1_offset & (q->cluster_size - 1)) {
    error_errno (h, EINVAL, "%s: corrupt qcow2 image: L1 table offset %"
                 PRIu64 " is not aligned to a cluster", name, l1_offset);
    return -1;
  }
  if (q->l1_size > 0 &&
      (l1_offset > q->file.size ||
       (uint64_t) q->l1_size * 8 > q->file.size - l1_offset)) {
    error_errno (h, EINVAL, "%s: corrupt qcow2 image: L1 table (%" PRIu32
                 " entries at offset %" PRIu64 ") is beyond the end of the "
                 "file (%" PRIu64 " bytes)", name, q->l1_size, l1_offset,
                 q->file.size);
    return -1;
  }
  /* Not read, but a misaligned table says the header is garbage. */
  if (refcount_offset & (q->cluster_size - 1)) {
    error_errno (h, EINVAL, "%s: corrupt qcow2 image: refcount table offset %"
                 PRIu64 " is not aligned to a cluster", name, refcount_offset);
    return -1;
  }
  if (nb_snapshots > 0 && (snapshots_offset & (q->cluster_size - 1))) {
    error_errno (h, EINVAL, "%s: corrupt qcow2 image: snapshot table offset %"
                 PRIu64 " is not aligned to a cluster", name, snapshots_offset);
    return -1;
  }

  /* The backing file name. */
  if (backing_offset != 0) {
    if (backing_len == 0 || backing_len > MAX_NAME ||
        backing_offset > q->cluster_size ||
        backing_offset > q->file.size ||
        backing_len > q->file.size - backing_offset) {
      error_errno (h, EINVAL, "%s: corrupt qcow2 image: invalid backing file "
                   "name (%" PRIu32 " bytes at offset %" PRIu64 ")",
                   name, backing_len, backing_offset);
      return -1;
    }
    q->backing_file = malloc (backing_len + 1);
    if (q->backing_file == NULL) {
      perrorf (h, "malloc");
      return -1;
    }
    if (gk_reader_pread (h, &q->file, q->backing_file, backing_len,
                         backing_offset) == -1)
      return -1;
    q->backing_file[backing_len] = '\0';
    if (strlen (q->backing_file) != backing_len) {
      error_errno (h, EINVAL, "%s: corrupt qcow2 image: the backing file "
                   "name contains a zero byte", name);
      return -1;
    }
  }

  /* The L1 table (bounded above by the file's size and MAX_L1_BYTES). */
  if (q->l1_size > 0) {
    uint32_t i;

    q->l1 = malloc ((size_t) q->l1_size * 8);
    if (q->l1 == NULL) {
      perrorf (h, "malloc");
      return -1;
    }
    if (gk_reader_pread (h, &q->file, q->l1, (size_t) q->l1_size * 8,
                         l1_offset) == -1)
      return -1;
    for (i = 0; i < q->l1_size; ++i)
      q->l1[i] = be64toh (q->l1[i]);
  }
  return 0;
}

int
gk_reader_open_qcow2 (gk_h *h, struct gk_reader *r, struct gk_reader *file,
                      char **why_rtn)
{
  struct qcow2 *q;
  CLEANUP_FREE unsigned char *hdr = NULL;
  size_t hdr_len;
  int ret;

  q = calloc (1, sizeof *q);
  if (q == NULL) {
    perrorf (h, "calloc");
    return -1;
  }
  /* Borrow the file until the end: on failure it goes back untouched. */
  q->file = *file;

  /* The first cluster holds the header, its extensions and usually the
   * backing file name.  Read the largest possible (2 MiB) or the file.
   */
  hdr_len = file->size < (UINT64_C (1) << MAX_CLUSTER_BITS)
    ? file->size : (UINT64_C (1) << MAX_CLUSTER_BITS);
  if (hdr_len >= 24) {
    unsigned char first[24];
    uint32_t bits;

    /* Read only what the cluster size allows (no need for 2 MiB). */
    if (gk_reader_pread (h, file, first, sizeof first, 0) == -1)
      goto err;
    bits = be32 (first + 20);
    if (bits >= MIN_CLUSTER_BITS && bits <= MAX_CLUSTER_BITS &&
        hdr_len > (UINT64_C (1) << bits))
      hdr_len = UINT64_C (1) << bits;
  }
  hdr = malloc (hdr_len ? hdr_len : 1);
  if (hdr == NULL) {
    perrorf (h, "malloc");
    goto err;
  }
  if (gk_reader_pread (h, file, hdr, hdr_len, 0) == -1)
    goto err;
  ret = parse_header (h, q, hdr, hdr_len, why_rtn);
  if (ret != 0)
    goto fail;

  q->cache_slots = L2_CACHE_BYTES >> q->cluster_bits;
  if (q->cache_slots > L2_CACHE_SLOTS)
    q->cache_slots = L2_CACHE_SLOTS;
  if (q->cache_slots < 1)
    q->cache_slots = 1;

  debug (h, "native: %s: qcow2 v%u, cluster size %" PRIu64 ", virtual size %"
         PRIu64 "%s%s%s%s%s%s", file->name, q->version, q->cluster_size,
         q->size, q->extended_l2 ? ", extended L2" : "",
         q->compression_type == COMPRESSION_ZSTD ? ", zstd" : "",
         q->backing_file ? ", backing file " : "",
         q->backing_file ? q->backing_file : "",
         q->backing_file ? " format " : "",
         q->backing_file ? (q->backing_format ? q->backing_format
                            : "(not recorded)") : "");

  r->pread = qcow2_pread;
  r->close = qcow2_close;
  r->opaque = q;
  r->size = q->size;
  r->name = q->file.name;
  r->extents = qcow2_extents;
  memset (file, 0, sizeof *file);
  return 0;

 err:
  ret = -1;
 fail:
  /* Give the file back: do not close it. */
  memset (&q->file, 0, sizeof q->file);
  qcow2_free (q);
  return ret;
}

void
gk_qcow2_backing (const struct gk_reader *r, const char **file_rtn,
                  const char **format_rtn)
{
  const struct qcow2 *q = r->opaque;

  *file_rtn = NULL;
  *format_rtn = NULL;
  if (r->pread != qcow2_pread)
    return;
  *file_rtn = q->backing_file;
  *format_rtn = q->backing_format;
}

void
gk_qcow2_set_backing (struct gk_reader *r, struct gk_reader *backing)
{
  struct qcow2 *q = r->opaque;

  if (q->backing.pread)
    gk_reader_close (&q->backing);
  q->backing = *backing;
  memset (backing, 0, sizeof *backing);
}
