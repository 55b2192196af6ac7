/* libguestkit native engine: ntfs usage as statvfs(2) reports it (fs.h).
 *
 * The appliance mounts NTFS with ntfs-3g (mount.ntfs is ntfs-3g, a FUSE
 * filesystem): its statfs (ntfs_fuse_statfs, ntfs-3g 2022.10.3, Debian
 * 12) answers, and FUSE hands the numbers to statvfs(2) unchanged:
 *
 *   bsize = frsize   the cluster size
 *   blocks           number_of_sectors / sectors per cluster (boot sector)
 *   bfree = bavail   the zero bits in $Bitmap's data (all of its data_size
 *                    bytes, padding included: ntfs-3g counts them so)
 *   files            the $MFT bitmap's allocated bytes * 8, plus the free
 *                    clusters in MFT records (records are either smaller
 *                    or larger than clusters: shifted either way)
 *   ffree = favail   the free clusters in MFT records, plus the zero bits
 *                    of the $MFT bitmap's data, plus 8 per byte the
 *                    bitmap has allocated beyond its data
 *   namemax          255
 *   fsid             0: FUSE leaves it zero
 *   flag             ST_RDONLY | ST_RELATIME (as the appliance shows it)
 *
 * To get there: the boot sector (checked as ntfs-3g checks it), $MFT's
 * record 0 at mft_lcn (update sequence fixups), its $DATA runlist (the
 * mapping pairs), the comparison with $MFTMirr that ntfs-3g makes before
 * it mounts, then record 6 ($Bitmap) through that runlist and its $DATA,
 * and $MFT's $BITMAP.  A read-only ntfs-3g mount looks neither at the
 * dirty flag nor at $LogFile nor at hiberfil.sys, and reads $Bitmap as
 * it is on disk; so those change nothing here.  What ntfs-3g would
 * refuse, and what is not handled (attribute lists in $MFT or $Bitmap,
 * a compressed or encrypted $Bitmap), is "unsure".
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>
#include <inttypes.h>

#include "fs.h"

#define NTFS_BLOCK_SIZE      512     /* the update sequence's stride */
#define NTFS_MAX_CLUSTER     2097152
#define NTFS_MAX_NAME_LEN    255
#define MFT_HEADER_SIZE      48      /* sizeof (MFT_RECORD) in ntfs-3g */
#define FILE_MFT             0
#define FILE_MFTMIRR         1
#define FILE_VOLUME          3
#define FILE_BITMAP          6
#define FILE_FIRST_USER      16
#define MFT_RECORD_IN_USE    0x0001

#define AT_STANDARD_INFORMATION 0x10
#define AT_ATTRIBUTE_LIST    0x20
#define AT_VOLUME_INFORMATION 0x70
#define AT_DATA              0x80
#define AT_BITMAP            0xb0
#define AT_END               0xffffffff

#define ATTR_COMPRESSION_MASK 0x00ff
#define ATTR_IS_ENCRYPTED    0x4000

/* ST_RDONLY | ST_RELATIME: what statvfs shows in the appliance for an
 * ntfs-3g mount made by "mount -o ro" (as for the kernel's filesystems).
 */
#define RO_MOUNT_FLAGS       (1 | 4096)

#define CHUNK 65536

static uint16_t le16 (const unsigned char *p) { return p[0] | p[1] << 8; }
static uint32_t
le32 (const unsigned char *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}
static uint64_t
le64 (const unsigned char *p)
{
  return le32 (p) | (uint64_t) le32 (p + 4) << 32;
}

struct run {
  int64_t vcn, lcn, len;         /* lcn -1: a hole */
};

/* An attribute's value: resident (a copy) or a runlist. */
struct attr {
  bool resident;
  unsigned char *value;          /* resident */
  struct run *runs;              /* non-resident */
  size_t nruns;
  uint16_t flags;
  uint64_t alloc, size, init;
};

struct ntfs {
  gk_h *h;
  const struct gk_reader *r;
  char **why;
  uint32_t sector_size, cluster_size, cluster_bits, rec_size, rec_bits;
  uint64_t nr_clusters;
  int64_t mft_lcn, mftmirr_lcn;
  struct attr mft;               /* $MFT/$DATA */
};

#define UNSURE(n, fmt, ...)                                             \
  gk_int_native_unsure ((n)->h, (n)->why, "%s: ntfs: " fmt,             \
                        (n)->r->name, ##__VA_ARGS__)

static void
attr_free (struct attr *a)
{
  free (a->value);
  free (a->runs);
  memset (a, 0, sizeof *a);
}

static unsigned
log2u (uint64_t x)
{
  unsigned b = 0;

  while (x > 1) {
    x >>= 1;
    b++;
  }
  return b;
}

/* Undo the update sequence of a record (FILE) of size bytes: the last
 * two bytes of each 512-byte block were saved in the array and replaced
 * by the sequence number.  A mismatch is a torn write: ntfs-3g refuses.
 */
static bool
fixup (unsigned char *rec, uint32_t size)
{
  uint32_t usa_ofs = le16 (rec + 4), usa_count = le16 (rec + 6), i;
  unsigned char *usn;

  if (size % NTFS_BLOCK_SIZE != 0 || usa_ofs % 2 != 0 ||
      usa_count != 1 + size / NTFS_BLOCK_SIZE ||
      usa_ofs + usa_count * 2 > NTFS_BLOCK_SIZE - 2)
    return false;
  usn = rec + usa_ofs;
  for (i = 1; i < usa_count; ++i)
    if (memcmp (rec + i * NTFS_BLOCK_SIZE - 2, usn, 2) != 0)
      return false;
  for (i = 1; i < usa_count; ++i)
    memcpy (rec + i * NTFS_BLOCK_SIZE - 2, usn + 2 * i, 2);
  return true;
}

/* ntfs_mft_record_check: the header, then every attribute within the
 * bytes in use, in ascending type order, each with its parts inside it,
 * up to the end marker.
 */
static bool
record_ok (const struct ntfs *n, const unsigned char *m)
{
  uint32_t off, in_use, type, prev = AT_STANDARD_INFORMATION, len;

  if (memcmp (m, "FILE", 4) != 0)
    return false;
  if (le32 (m + 0x1c) != n->rec_size)
    return false;
  in_use = le32 (m + 0x18);
  off = le16 (m + 0x14);
  if (in_use > n->rec_size || (off & 7) || off < MFT_HEADER_SIZE ||
      off > in_use)
    return false;
  for (;;) {
    const unsigned char *a = m + off;
    uint32_t space = in_use - off;

    if (space < 4)
      return false;
    type = le32 (a);
    if (type == AT_END)
      return true;
    if (space < 0x18 || type < prev)
      return false;
    len = le32 (a + 4);
    if (len > space || (len & 7) || len < 0x18)
      return false;
    if (a[8] > 1)
      return false;
    if (a[9] && (uint32_t) le16 (a + 10) + a[9] * 2 > len)
      return false;
    if (a[8]) {
      if (len < 0x40 || le16 (a + 0x20) >= len ||
          (int64_t) le64 (a + 0x18) < (int64_t) le64 (a + 0x10))
        return false;
    }
    else {
      uint32_t vlen = le32 (a + 0x10);

      if ((vlen & 0xff000000) ||
          (vlen && (uint32_t) le16 (a + 0x14) + vlen > len))
        return false;
    }
    prev = type;
    off += len;
  }
}

/* The unnamed attribute of this type in a checked record, or NULL. */
static const unsigned char *
find_attr (const unsigned char *m, uint32_t type)
{
  uint32_t off = le16 (m + 0x14), in_use = le32 (m + 0x18);

  while (in_use - off >= 4 && le32 (m + off) != AT_END) {
    const unsigned char *a = m + off;

    if (le32 (a) == type && a[9] == 0)
      return a;
    off += le32 (a + 4);         /* checked by record_ok: ends at AT_END */
  }
  return NULL;
}

/* Decode a non-resident attribute's mapping pairs: runs of (length,
 * LCN delta) with variable-width little-endian signed numbers; a zero
 * width LCN is a hole.
 */
static int
open_attr (struct ntfs *n, const unsigned char *a, struct attr *at,
           const char *what)
{
  uint32_t len = le32 (a + 4);
  const unsigned char *p, *end = a + len;
  int64_t vcn, lcn = 0, lowest, highest;
  size_t cap = 0;

  memset (at, 0, sizeof *at);
  at->flags = le16 (a + 0x0c);
  if (!a[8]) {
    uint32_t vlen = le32 (a + 0x10);

    at->resident = true;
    at->size = at->init = vlen;
    at->alloc = (vlen + 7) & ~(uint64_t) 7;
    at->value = malloc (vlen ? vlen : 1);
    if (at->value == NULL) {
      perrorf (n->h, "%s: ntfs", n->r->name);
      return -1;
    }
    memcpy (at->value, a + le16 (a + 0x14), vlen);
    return 0;
  }

  lowest = le64 (a + 0x10);
  highest = le64 (a + 0x18);
  at->alloc = le64 (a + 0x28);
  at->size = le64 (a + 0x30);
  at->init = le64 (a + 0x38);
  if (lowest != 0)
    return UNSURE (n, "%s starts at VCN %" PRIi64 " (an attribute list)",
                   what, lowest);
  /* VCNs, and their byte offsets, must fit in 64 bits. */
  if (highest < lowest || highest >= INT64_MAX >> n->cluster_bits)
    return UNSURE (n, "%s ends at VCN %" PRIi64, what, highest);
  if ((int64_t) at->alloc < 0 || (int64_t) at->size < 0 ||
      (int64_t) at->init < 0 || at->size > at->alloc ||
      at->init > at->size || (at->alloc & (n->cluster_size - 1)))
    return UNSURE (n, "%s has inconsistent sizes", what);
  if (at->flags & (ATTR_COMPRESSION_MASK | ATTR_IS_ENCRYPTED))
    return UNSURE (n, "%s is compressed or encrypted", what);

  vcn = lowest;
  p = a + le16 (a + 0x20);
  while (p < end && *p != 0) {
    unsigned lw = *p & 0x0f, ow = *p >> 4, i;
    int64_t rlen = 0, delta = 0;

    if (lw == 0 || lw > 8 || ow > 8 || p + 1 + lw + ow > end)
      return UNSURE (n, "%s has a corrupt runlist", what);
    for (i = 0; i < lw; ++i)
      rlen |= (int64_t) ((uint64_t) p[1 + i] << (8 * i));
    if (lw < 8 && (p[lw] & 0x80))
      rlen |= (int64_t) (~(uint64_t) 0 << (8 * lw));
    if (ow) {
      for (i = 0; i < ow; ++i)
        delta |= (int64_t) ((uint64_t) p[1 + lw + i] << (8 * i));
      if (ow < 8 && (p[lw + ow] & 0x80))
        delta |= (int64_t) (~(uint64_t) 0 << (8 * ow));
    }
    p += 1 + lw + ow;
    if (rlen <= 0 || rlen > highest - vcn + 1)
      return UNSURE (n, "%s has a corrupt runlist", what);
    if (at->nruns == cap) {
      struct run *nr;

      cap = cap ? cap * 2 : 8;
      nr = realloc (at->runs, cap * sizeof *nr);
      if (nr == NULL) {
        perrorf (n->h, "%s: ntfs", n->r->name);
        return -1;
      }
      at->runs = nr;
    }
    at->runs[at->nruns].vcn = vcn;
    at->runs[at->nruns].len = rlen;
    if (ow) {
      if ((delta > 0 && lcn > INT64_MAX - delta) ||
          (delta < 0 && lcn < INT64_MIN - delta))
        return UNSURE (n, "%s has a corrupt runlist", what);
      lcn += delta;
      if (lcn < 0 || (uint64_t) lcn > n->nr_clusters ||
          (uint64_t) rlen > n->nr_clusters - lcn)
        return UNSURE (n, "%s has a run beyond the volume", what);
      at->runs[at->nruns].lcn = lcn;
    }
    else
      at->runs[at->nruns].lcn = -1;
    at->nruns++;
    vcn += rlen;
  }
  if (vcn != highest + 1)
    return UNSURE (n, "%s's runlist does not end at its highest VCN", what);
  if ((uint64_t) vcn << n->cluster_bits >> n->cluster_bits != (uint64_t) vcn ||
      (uint64_t) vcn << n->cluster_bits < at->alloc)
    return UNSURE (n, "%s's runlist is shorter than its allocation "
                   "(an attribute list?)", what);
  return 0;
}

/* Read [off, off+count) of an attribute's value (within its size). */
static int
read_attr (struct ntfs *n, const struct attr *at, unsigned char *buf,
           size_t count, uint64_t off, const char *what)
{
  size_t i = 0;

  if (off > at->size || count > at->size - off)
    return UNSURE (n, "%s: read beyond its size", what);
  if (at->resident) {
    memcpy (buf, at->value + off, count);
    return 0;
  }
  while (count > 0) {
    uint64_t vcn = off >> n->cluster_bits, in = off & (n->cluster_size - 1);
    const struct run *run = NULL;
    size_t lo = 0, hi = at->nruns, take;
    uint64_t avail;

    /* Beyond the initialized size, the value is zeros. */
    if (off >= at->init) {
      memset (buf + i, 0, count);
      return 0;
    }
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;

      if ((uint64_t) at->runs[mid].vcn + at->runs[mid].len <= vcn)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < at->nruns && (uint64_t) at->runs[lo].vcn <= vcn)
      run = &at->runs[lo];
    if (run == NULL)
      return UNSURE (n, "%s: VCN %" PRIu64 " is not mapped", what, vcn);
    avail = ((uint64_t) (run->vcn + run->len - vcn) << n->cluster_bits) - in;
    take = count;
    if (take > avail)
      take = avail;
    if (take > at->init - off)
      take = at->init - off;
    if (run->lcn < 0)
      memset (buf + i, 0, take);
    else {
      uint64_t pos = ((uint64_t) (run->lcn + (vcn - run->vcn))
                      << n->cluster_bits) + in;

      if (pos > n->r->size || take > n->r->size - pos)
        return UNSURE (n, "%s: data beyond the end of the device", what);
      if (gk_reader_pread (n->h, n->r, buf + i, take, pos) == -1)
        return -1;
    }
    i += take;
    off += take;
    count -= take;
  }
  return 0;
}

/* MFT record no, through $MFT's runlist, fixed up and checked. */
static int
read_record (struct ntfs *n, const struct attr *from, uint64_t no,
             unsigned char *rec, const char *what)
{
  int ret;

  if (no >= from->init >> n->rec_bits)
    return UNSURE (n, "%s: record %" PRIu64 " is beyond the MFT", what, no);
  ret = read_attr (n, from, rec, n->rec_size, no << n->rec_bits, what);
  if (ret != 0)
    return ret;
  if (!fixup (rec, n->rec_size))
    return UNSURE (n, "%s: record %" PRIu64 " has a bad update sequence "
                   "(torn write)", what, no);
  if (!record_ok (n, rec))
    return UNSURE (n, "%s: record %" PRIu64 " is corrupt", what, no);
  return 0;
}

/* The zero bits in an attribute's value, and 0, or -1/unsure. */
static int
count_zero_bits (struct ntfs *n, const struct attr *at, uint64_t *zeros,
                 const char *what)
{
  CLEANUP_FREE unsigned char *buf = malloc (CHUNK);
  uint64_t off, ones = 0;
  int ret;

  if (buf == NULL) {
    perrorf (n->h, "%s: ntfs", n->r->name);
    return -1;
  }
  /* A bitmap has one bit per cluster or record, each at least 256
   * bytes: anything near the device's size is corrupt (and would take
   * long to count, its holes being zeros).
   */
  if (at->size > n->r->size / 64 + CHUNK)
    return UNSURE (n, "%s is larger than the device can need", what);
  for (off = 0; off < at->size; off += CHUNK) {
    size_t len = at->size - off < CHUNK ? at->size - off : CHUNK, i = 0;

    ret = read_attr (n, at, buf, len, off, what);
    if (ret != 0)
      return ret;
    for (; i + 8 <= len; i += 8) {
      uint64_t w;

      memcpy (&w, buf + i, 8);
      ones += __builtin_popcountll (w);
    }
    for (; i < len; ++i)
      ones += __builtin_popcount (buf[i]);
  }
  *zeros = at->size * 8 - ones;
  return 0;
}

/* A record's unnamed attribute of this type, opened; unsure if there is
 * none or the record has an attribute list (not followed here).
 */
static int
record_attr (struct ntfs *n, const unsigned char *rec, uint32_t type,
             struct attr *at, const char *what)
{
  const unsigned char *a;

  if (find_attr (rec, AT_ATTRIBUTE_LIST))
    return UNSURE (n, "%s has an attribute list", what);
  a = find_attr (rec, type);
  if (a == NULL)
    return UNSURE (n, "%s is missing", what);
  return open_attr (n, a, at, what);
}

static int
ntfs_statvfs (struct ntfs *n, struct gk_statvfs *st)
{
  unsigned char b[512];
  CLEANUP_FREE unsigned char *rec = NULL, *mirr = NULL;
  struct attr mftmirr = { 0 }, bitmap = { 0 }, mftbmp = { 0 };
  const unsigned char *a;
  uint32_t spc, mirror_records, i;
  int8_t c;
  int64_t sectors, zone, zone_end;
  uint64_t free_clusters, free_records, in_records;
  int ret = -1;

  /* ntfs_boot_sector_is_ntfs */
  if (n->r->size < 512)
    return UNSURE (n, "device too small for a boot sector");
  if (gk_reader_pread (n->h, n->r, b, 512, 0) == -1)
    return -1;
  if (memcmp (b + 3, "NTFS    ", 8) != 0)
    return UNSURE (n, "no NTFS signature");
  n->sector_size = le16 (b + 0x0b);
  if (n->sector_size < 256 || n->sector_size > 4096 ||
      (n->sector_size & (n->sector_size - 1)))
    return UNSURE (n, "%" PRIu32 " bytes per sector", n->sector_size);
  spc = b[0x0d];
  if (spc > 128) {
    if (spc < 240 || spc > 253)
      return UNSURE (n, "sectors per cluster code 0x%x", spc);
    spc = 1u << (256 - spc);
  }
  if (spc == 0 || (spc & (spc - 1)))
    return UNSURE (n, "%" PRIu32 " sectors per cluster", spc);
  n->cluster_size = n->sector_size * spc;
  if (n->cluster_size > NTFS_MAX_CLUSTER)
    return UNSURE (n, "cluster size %" PRIu32, n->cluster_size);
  if (le16 (b + 0x0e) || le16 (b + 0x11) || le16 (b + 0x13) ||
      le16 (b + 0x16) || le32 (b + 0x20) || b[0x10])
    return UNSURE (n, "reserved boot sector fields are not zero");
  n->cluster_bits = log2u (n->cluster_size);
  c = (int8_t) b[0x40];
  if (c < 0) {
    if (c < -31 || c > -9)
      return UNSURE (n, "clusters per MFT record %d", c);
    n->rec_bits = -c;
  }
  else {
    if (c == 0 || c > 0x40 || (c & (c - 1)))
      return UNSURE (n, "clusters per MFT record %d", c);
    n->rec_bits = n->cluster_bits + log2u (c);
  }
  /* The update sequence cannot protect records smaller than a block or
   * larger than its array can describe.
   */
  if (n->rec_bits < 9 || n->rec_bits > 16)
    return UNSURE (n, "MFT record size 2^%" PRIu32, n->rec_bits);
  n->rec_size = 1u << n->rec_bits;
  c = (int8_t) b[0x44];
  if (!(c >= -31 && c <= -9) &&
      !(c > 0 && c <= 0x40 && (c & (c - 1)) == 0))
    return UNSURE (n, "clusters per index record %d", c);
  n->mft_lcn = le64 (b + 0x30);
  n->mftmirr_lcn = le64 (b + 0x38);
  if (n->mft_lcn <= 0 || n->mftmirr_lcn <= 0 || n->mft_lcn == n->mftmirr_lcn)
    return UNSURE (n, "invalid location of $MFT or $MFTMirr");

  /* ntfs_boot_sector_parse: ntfs-3g seeks to the last sector, which
   * fails beyond the end of the device.
   */
  sectors = le64 (b + 0x28);
  if (sectors <= 0)
    return UNSURE (n, "volume size is %" PRIi64 " sectors", sectors);
  if ((uint64_t) (sectors - 1) > n->r->size / n->sector_size)
    return UNSURE (n, "volume (%" PRIi64 " sectors) larger than the device",
                   sectors);
  n->nr_clusters = (uint64_t) sectors >> log2u (spc);
  if ((uint64_t) n->mft_lcn > n->nr_clusters ||
      (uint64_t) n->mftmirr_lcn > n->nr_clusters)
    return UNSURE (n, "$MFT or $MFTMirr beyond the volume");
  /* ntfs_volume_startup: the MFT zone must fit in the volume. */
  zone = n->nr_clusters >> 3;
  zone_end = n->mft_lcn + zone;
  while (zone_end >= (int64_t) n->nr_clusters) {
    zone >>= 1;
    if (zone == 0)
      return UNSURE (n, "no room for the MFT zone");
    zone_end = n->mft_lcn + zone;
  }

  /* ntfs_mft_load: record 0, read straight from mft_lcn. */
  rec = malloc (n->rec_size);
  mirr = malloc (n->rec_size);
  if (rec == NULL || mirr == NULL) {
    perrorf (n->h, "%s: ntfs", n->r->name);
    return -1;
  }
  if (n->r->size < n->rec_size ||
      (uint64_t) n->mft_lcn > (n->r->size - n->rec_size) >> n->cluster_bits)
    return UNSURE (n, "$MFT beyond the end of the device");
  if (gk_reader_pread (n->h, n->r, rec, n->rec_size,
                       (uint64_t) n->mft_lcn << n->cluster_bits) == -1)
    return -1;
  if (!fixup (rec, n->rec_size))
    return UNSURE (n, "$MFT record 0 has a bad update sequence");
  if (!record_ok (n, rec))
    return UNSURE (n, "$MFT record 0 is corrupt");
  ret = record_attr (n, rec, AT_DATA, &n->mft, "$MFT/$DATA");
  if (ret != 0)
    goto out;
  ret = GK_NATIVE_UNSURE;
  if (n->mft.resident) {
    UNSURE (n, "$MFT/$DATA is resident");
    goto out;
  }
  if (n->mft.nruns == 0 || n->mft.runs[0].lcn != n->mft_lcn) {
    UNSURE (n, "$MFT/$DATA does not start at mft_lcn");
    goto out;
  }
  /* ntfs_mft_load: the runlist must end with the allocation. */
  if ((uint64_t) (n->mft.runs[n->mft.nruns - 1].vcn +
                  n->mft.runs[n->mft.nruns - 1].len) !=
      n->mft.alloc >> n->cluster_bits) {
    UNSURE (n, "$MFT/$DATA's runlist does not match its allocation");
    goto out;
  }
  a = find_attr (rec, AT_BITMAP);
  if (a == NULL) {
    UNSURE (n, "$MFT/$BITMAP is missing");
    goto out;
  }
  ret = open_attr (n, a, &mftbmp, "$MFT/$BITMAP");
  if (ret != 0)
    goto out;

  /* ntfs_mftmirr_load and ntfs_device_mount: $MFTMirr's $DATA must start
   * at mftmirr_lcn, and its first records must be those of $MFT.
   */
  ret = read_record (n, &n->mft, FILE_MFTMIRR, rec, "$MFTMirr");
  if (ret != 0)
    goto out;
  ret = record_attr (n, rec, AT_DATA, &mftmirr, "$MFTMirr/$DATA");
  if (ret != 0)
    goto out;
  ret = GK_NATIVE_UNSURE;
  if (mftmirr.resident || mftmirr.nruns == 0 ||
      mftmirr.runs[0].lcn != n->mftmirr_lcn) {
    UNSURE (n, "$MFTMirr/$DATA does not start at mftmirr_lcn");
    goto out;
  }
  mirror_records = n->cluster_size <= 4 * n->rec_size ? 4
    : n->cluster_size / n->rec_size;
  if (mirror_records > mftmirr.init >> n->rec_bits)
    mirror_records = mftmirr.init >> n->rec_bits;
  for (i = 0; i < mirror_records && i < FILE_FIRST_USER; ++i) {
    uint32_t used;

    ret = read_record (n, &n->mft, i, rec, "$MFT");
    if (ret != 0)
      goto out;
    ret = read_record (n, &mftmirr, i, mirr, "$MFTMirr");
    if (ret != 0)
      goto out;
    ret = GK_NATIVE_UNSURE;
    used = le32 (rec + 0x18);
    if (used <= MFT_HEADER_SIZE || used > n->rec_size ||
        memcmp (rec, mirr, used) != 0) {
      UNSURE (n, "$MFTMirr does not match $MFT (record %" PRIu32 ")", i);
      goto out;
    }
  }

  /* $Volume must hold a resident $VOLUME_INFORMATION. */
  ret = read_record (n, &n->mft, FILE_VOLUME, rec, "$Volume");
  if (ret != 0)
    goto out;
  ret = GK_NATIVE_UNSURE;
  if (!(le16 (rec + 0x16) & MFT_RECORD_IN_USE)) {
    UNSURE (n, "$Volume is not in use");
    goto out;
  }
  a = find_attr (rec, AT_VOLUME_INFORMATION);
  if (a == NULL || a[8]) {
    UNSURE (n, "no resident $VOLUME_INFORMATION in $Volume");
    goto out;
  }

  /* $Bitmap: one bit per cluster. */
  ret = read_record (n, &n->mft, FILE_BITMAP, rec, "$Bitmap");
  if (ret != 0)
    goto out;
  ret = GK_NATIVE_UNSURE;
  if (!(le16 (rec + 0x16) & MFT_RECORD_IN_USE) || le64 (rec + 0x20) != 0) {
    UNSURE (n, "$Bitmap is not an in-use base record");
    goto out;
  }
  ret = record_attr (n, rec, AT_DATA, &bitmap, "$Bitmap/$DATA");
  if (ret != 0)
    goto out;
  if (bitmap.size == 0) {
    ret = UNSURE (n, "$Bitmap is empty");
    goto out;
  }
  if (mftbmp.size == 0) {
    ret = UNSURE (n, "$MFT/$BITMAP is empty");
    goto out;
  }
  ret = count_zero_bits (n, &bitmap, &free_clusters, "$Bitmap/$DATA");
  if (ret != 0)
    goto out;
  ret = count_zero_bits (n, &mftbmp, &free_records, "$MFT/$BITMAP");
  if (ret != 0)
    goto out;
  free_records += (mftbmp.alloc - mftbmp.size) * 8;

  /* ntfs_fuse_statfs: free clusters as MFT records. */
  if (n->cluster_bits >= n->rec_bits)
    in_records = free_clusters << (n->cluster_bits - n->rec_bits);
  else
    in_records = free_clusters >> (n->rec_bits - n->cluster_bits);

  st->bsize = st->frsize = n->cluster_size;
  st->blocks = n->nr_clusters;
  st->bfree = st->bavail = free_clusters;
  st->files = (mftbmp.alloc << 3) + in_records;
  st->ffree = st->favail = in_records + free_records;
  st->fsid = 0;
  st->flag = RO_MOUNT_FLAGS;
  st->namemax = NTFS_MAX_NAME_LEN;
  ret = 0;
 out:
  attr_free (&mftmirr);
  attr_free (&bitmap);
  attr_free (&mftbmp);
  return ret;
}

int
gk_native_ntfs_statvfs (gk_h *h, const struct gk_reader *r,
                        struct gk_statvfs *st, char **why_rtn)
{
  struct ntfs n = { .h = h, .r = r, .why = why_rtn };
  int ret;

  ret = ntfs_statvfs (&n, st);
  attr_free (&n.mft);
  return ret;
}
