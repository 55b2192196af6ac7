/* libguestkit native engine: ext2/3/4 usage as statvfs(2) reports it
 * (see fs.h).
 *
 * The appliance's kernel (Debian 12's 6.1) has no ext2 or ext3 driver
 * (CONFIG_EXT4_USE_FOR_EXT2): ext4 mounts all three, and its statfs is:
 *
 *   blocks = blocks_count - C2B(overhead)
 *   bfree  = C2B(free clusters - dirty clusters)  (no dirty ones at mount)
 *   bavail = bfree - r_blocks_count - C2B(resv clusters), or 0
 *   files  = inodes_count,  ffree = free inodes,  namemax = 255
 *   fsid   = the UUID folded to 64 bits
 *
 * where, at mount time:
 *
 * - the free cluster and free inode counters are summed from the group
 *   descriptors (the superblock's own counts are overwritten with the
 *   sums, so they are never what statfs shows);
 * - the overhead is recomputed at every mount unless the filesystem is
 *   bigalloc and the superblock records a sane s_overhead_clusters: the
 *   blocks before s_first_data_block, then per group the superblock
 *   backup, its descriptor blocks, the reserved GDT blocks (with a
 *   backup), the inode table and the two bitmaps (a formula: where
 *   flex_bg puts them does not matter), plus the internal journal's
 *   length.  bigalloc instead counts the clusters of each group that
 *   hold metadata, with the kernel's quirks (reserved GDT blocks are not
 *   counted; an inode table that ends on the group's last block is not);
 * - the reserved clusters are 2% of the clusters, at most 4096, and
 *   none without the extents feature.
 *
 * Anything the mount would change (a journal to replay, orphans to clean
 * up), refuse (a checksum or geometry the kernel rejects), or that this
 * parser does not know (unknown features, external journals) is
 * "unsure": the appliance then answers.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <inttypes.h>
#include <stdbool.h>

#include "fs.h"

/* Superblock fields (byte offsets in the 1024-byte superblock). */
#define SB_INODES_COUNT        0
#define SB_BLOCKS_COUNT_LO     4
#define SB_R_BLOCKS_COUNT_LO   8
#define SB_FIRST_DATA_BLOCK   20
#define SB_LOG_BLOCK_SIZE     24
#define SB_LOG_CLUSTER_SIZE   28
#define SB_BLOCKS_PER_GROUP   32
#define SB_CLUSTERS_PER_GROUP 36
#define SB_INODES_PER_GROUP   40
#define SB_MAGIC              56
#define SB_CREATOR_OS         72
#define SB_REV_LEVEL          76
#define SB_FIRST_INO          84
#define SB_INODE_SIZE         88
#define SB_FEATURE_COMPAT     92
#define SB_FEATURE_INCOMPAT   96
#define SB_FEATURE_RO_COMPAT 100
#define SB_UUID              104
#define SB_RESERVED_GDT      206
#define SB_JOURNAL_INUM      224
#define SB_JOURNAL_DEV       228
#define SB_LAST_ORPHAN       232
#define SB_DESC_SIZE         254
#define SB_FIRST_META_BG     260
#define SB_BLOCKS_COUNT_HI   336
#define SB_R_BLOCKS_COUNT_HI 340
#define SB_CHECKSUM_TYPE     373
#define SB_OVERHEAD_CLUSTERS 584
#define SB_BACKUP_BGS        588
#define SB_CHECKSUM_SEED     624
#define SB_ENCODING          636
#define SB_CHECKSUM         1020

#define COMPAT_HAS_JOURNAL       0x0004
#define COMPAT_SPARSE_SUPER2     0x0200

#define RO_COMPAT_SPARSE_SUPER   0x0001
#define RO_COMPAT_LARGE_FILE     0x0002
#define RO_COMPAT_BTREE_DIR      0x0004
#define RO_COMPAT_HUGE_FILE      0x0008
#define RO_COMPAT_GDT_CSUM       0x0010
#define RO_COMPAT_DIR_NLINK      0x0020
#define RO_COMPAT_EXTRA_ISIZE    0x0040
#define RO_COMPAT_QUOTA          0x0100
#define RO_COMPAT_BIGALLOC       0x0200
#define RO_COMPAT_METADATA_CSUM  0x0400
#define RO_COMPAT_READONLY       0x1000
#define RO_COMPAT_PROJECT        0x2000
#define RO_COMPAT_SHARED_BLOCKS  0x4000
#define RO_COMPAT_VERITY         0x8000
#define RO_COMPAT_ORPHAN_PRESENT 0x10000
/* What this parser reads (the kernel's list, less orphan_present: the
 * mount would clean the orphans up and change the counts).
 */
#define RO_COMPAT_KNOWN \
  (RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE | RO_COMPAT_BTREE_DIR | \
   RO_COMPAT_HUGE_FILE | RO_COMPAT_GDT_CSUM | RO_COMPAT_DIR_NLINK | \
   RO_COMPAT_EXTRA_ISIZE | RO_COMPAT_QUOTA | RO_COMPAT_BIGALLOC | \
   RO_COMPAT_METADATA_CSUM | RO_COMPAT_READONLY | RO_COMPAT_PROJECT | \
   RO_COMPAT_SHARED_BLOCKS | RO_COMPAT_VERITY)

#define INCOMPAT_FILETYPE        0x0002
#define INCOMPAT_RECOVER         0x0004
#define INCOMPAT_JOURNAL_DEV     0x0008
#define INCOMPAT_META_BG         0x0010
#define INCOMPAT_EXTENTS         0x0040
#define INCOMPAT_64BIT           0x0080
#define INCOMPAT_MMP             0x0100
#define INCOMPAT_FLEX_BG         0x0200
#define INCOMPAT_EA_INODE        0x0400
#define INCOMPAT_CSUM_SEED       0x2000
#define INCOMPAT_LARGEDIR        0x4000
#define INCOMPAT_INLINE_DATA     0x8000
#define INCOMPAT_ENCRYPT         0x10000
#define INCOMPAT_CASEFOLD        0x20000
/* The kernel's list, less recover (a journal to replay, see above). */
#define INCOMPAT_KNOWN \
  (INCOMPAT_FILETYPE | INCOMPAT_META_BG | INCOMPAT_EXTENTS | \
   INCOMPAT_64BIT | INCOMPAT_MMP | INCOMPAT_FLEX_BG | INCOMPAT_EA_INODE | \
   INCOMPAT_CSUM_SEED | INCOMPAT_LARGEDIR | INCOMPAT_INLINE_DATA | \
   INCOMPAT_ENCRYPT | INCOMPAT_CASEFOLD)

/* Inode fields. */
#define I_MODE          0
#define I_SIZE_LO       4
#define I_LINKS_COUNT  26
#define I_BLOCKS_LO    28
#define I_FLAGS        32
#define I_BLOCK        40
#define I_GENERATION  100
#define I_SIZE_HIGH   108
#define I_CHECKSUM_LO 124
#define I_EXTRA_ISIZE 128
#define I_CHECKSUM_HI 130
#define EXTENTS_FL    0x80000

#define ROOT_INO        2
#define JOURNAL_INO_MAX (1U << 31)

/* jbd2's superblock (big-endian). */
#define JBD2_MAGIC            0xc03b3998U
#define JBD2_SB_V1            3
#define JBD2_SB_V2            4
#define JBD2_COMPAT_CHECKSUM  0x1
#define JBD2_INCOMPAT_CSUM_V2 0x8
#define JBD2_INCOMPAT_CSUM_V3 0x10
#define JBD2_INCOMPAT_KNOWN   0x3f  /* revoke 64bit async csum2 csum3 fc */
#define JBD2_MIN_BLOCKS       1024

/* Beyond this many groups a bigalloc overhead computation (which keeps
 * the position of every group's metadata) is left to the appliance.
 */
#define MAX_BIGALLOC_GROUPS (1U << 22)
/* Descriptor blocks read at once. */
#define GDT_CHUNK 256

static uint16_t le16 (const unsigned char *p) { return p[0] | p[1] << 8; }
static uint32_t
le32 (const unsigned char *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}
static uint32_t
be32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* CRC32C (Castagnoli), as ext4 and jbd2 use it: the raw register,
 * started at ~0 and not inverted at the end.
 */
static uint32_t
crc32c (uint32_t crc, const unsigned char *p, size_t len)
{
  static uint32_t table[256];
  static bool ready;
  size_t i;

  if (!ready) {
    uint32_t n, c, k;

    for (n = 0; n < 256; ++n) {
      c = n;
      for (k = 0; k < 8; ++k)
        c = c & 1 ? (c >> 1) ^ 0x82F63B78U : c >> 1;
      table[n] = c;
    }
    ready = true;
  }
  for (i = 0; i < len; ++i)
    crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

/* What the mount derives from the superblock. */
struct ext {
  gk_h *h;
  const struct gk_reader *r;
  char **why_rtn;
  const unsigned char *sb;
  uint32_t compat, incompat, ro_compat;
  unsigned log_block;            /* block size = 1024 << log_block */
  uint32_t block_size;
  unsigned cluster_bits;         /* log2 of blocks per cluster */
  uint64_t blocks_count;
  uint32_t first_data_block;
  uint32_t blocks_per_group, clusters_per_group, inodes_per_group;
  uint32_t inode_size, desc_size, desc_per_block;
  uint32_t groups, gdb_count, itb_per_group, first_meta_bg, reserved_gdt;
  uint64_t logical_sb_block;     /* the superblock's block number */
};

#define UNSURE(e, ...) \
  gk_int_native_unsure ((e)->h, (e)->why_rtn, __VA_ARGS__)

static int
read_blocks (struct ext *e, void *buf, uint64_t block, uint32_t n)
{
  uint64_t off = block << (10 + e->log_block);
  uint64_t len = (uint64_t) n << (10 + e->log_block);

  /* The geometry checks keep every block below blocks_count, and that
   * below the device's size; check anyway.
   */
  if (block >= e->blocks_count || n > e->blocks_count - block ||
      off > e->r->size || len > e->r->size - off)
    return UNSURE (e, "%s: ext: block %" PRIu64 " is beyond the device",
                   e->r->name, block);
  return gk_reader_pread (e->h, e->r, buf, len, off);
}

/* a is a power of b (b > 1): the sparse_super backup groups. */
static bool
power_of (uint32_t a, uint32_t b)
{
  while (a >= b) {
    if (a == b)
      return true;
    if (a % b != 0)
      return false;
    a /= b;
  }
  return false;
}

/* Does the group hold a superblock backup (ext4_bg_has_super)? */
static bool
has_super (const struct ext *e, uint32_t g)
{
  if (g == 0)
    return true;
  if (e->compat & COMPAT_SPARSE_SUPER2)
    return g == le32 (e->sb + SB_BACKUP_BGS) ||
      g == le32 (e->sb + SB_BACKUP_BGS + 4);
  if (g <= 1 || !(e->ro_compat & RO_COMPAT_SPARSE_SUPER))
    return true;
  if (!(g & 1))
    return false;
  return power_of (g, 3) || power_of (g, 5) || power_of (g, 7);
}

/* Descriptor blocks in the group (ext4_bg_num_gdb). */
static uint32_t
num_gdb (const struct ext *e, uint32_t g)
{
  uint32_t metagroup = g / e->desc_per_block;
  uint32_t first, last;

  if (!(e->incompat & INCOMPAT_META_BG) || metagroup < e->first_meta_bg) {
    if (!has_super (e, g))
      return 0;
    return e->incompat & INCOMPAT_META_BG ? e->first_meta_bg : e->gdb_count;
  }
  /* meta_bg: one descriptor block in the first, second and last group
   * of each metagroup.
   */
  first = metagroup * e->desc_per_block;
  last = first + e->desc_per_block - 1;
  return g == first || g == first + 1 || g == last;
}

/* Where the nr-th descriptor block is (the kernel's descriptor_loc). */
static uint64_t
descriptor_loc (const struct ext *e, uint32_t nr)
{
  uint64_t bg;
  unsigned extra = 0;

  if (!(e->incompat & INCOMPAT_META_BG) || nr < e->first_meta_bg)
    return e->logical_sb_block + nr + 1;
  bg = (uint64_t) e->desc_per_block * nr;
  if (has_super (e, bg))
    extra = 1;
  /* 1 KiB blocks and no block before the first group (bigalloc):
   * group 0's descriptors are after the superblock's block, not in it.
   */
  if (e->block_size == 1024 && nr == 0 && e->first_data_block == 0)
    extra++;
  return extra + bg * e->blocks_per_group + e->first_data_block;
}

/* One group descriptor, as the mount reads it. */
struct desc {
  uint64_t block_bitmap, inode_bitmap, inode_table;
  uint32_t free_clusters, free_inodes;
};

static void
parse_desc (const struct ext *e, const unsigned char *p, struct desc *d)
{
  bool wide = e->desc_size >= 64;

  d->block_bitmap = le32 (p + 0);
  d->inode_bitmap = le32 (p + 4);
  d->inode_table = le32 (p + 8);
  d->free_clusters = le16 (p + 12);
  d->free_inodes = le16 (p + 14);
  if (wide) {
    d->block_bitmap |= (uint64_t) le32 (p + 32) << 32;
    d->inode_bitmap |= (uint64_t) le32 (p + 36) << 32;
    d->inode_table |= (uint64_t) le32 (p + 40) << 32;
    d->free_clusters |= (uint32_t) le16 (p + 44) << 16;
    d->free_inodes |= (uint32_t) le16 (p + 46) << 16;
  }
}

/* The superblock: everything the kernel checks before it trusts the
 * geometry, and the features.
 */
static int
check_super (struct ext *e)
{
  const unsigned char *sb = e->sb;
  const char *name = e->r->name;
  uint32_t rev = le32 (sb + SB_REV_LEVEL), log_cluster;
  uint32_t inodes_per_block;
  uint64_t groups, device_blocks, db_count;

  if (le16 (sb + SB_MAGIC) != 0xEF53)
    return UNSURE (e, "%s: ext: no superblock", name);
  e->compat = le32 (sb + SB_FEATURE_COMPAT);
  e->incompat = le32 (sb + SB_FEATURE_INCOMPAT);
  e->ro_compat = le32 (sb + SB_FEATURE_RO_COMPAT);
  if (rev > 1)
    return UNSURE (e, "%s: ext: revision level %" PRIu32, name, rev);
  if (rev == 0 && (e->compat || e->incompat || e->ro_compat))
    return UNSURE (e, "%s: ext: revision 0 with features", name);
  if (e->incompat & INCOMPAT_JOURNAL_DEV)
    return UNSURE (e, "%s: ext: an external journal device", name);
  if (e->incompat & INCOMPAT_RECOVER)
    return UNSURE (e, "%s: ext: the journal needs recovery (the mount "
                   "replays it)", name);
  if (e->incompat & ~INCOMPAT_KNOWN)
    return UNSURE (e, "%s: ext: unknown incompatible features 0x%" PRIx32,
                   name, e->incompat & ~INCOMPAT_KNOWN);
  if (e->ro_compat & RO_COMPAT_ORPHAN_PRESENT)
    return UNSURE (e, "%s: ext: orphan inodes (the mount cleans them up)",
                   name);
  if (e->ro_compat & ~RO_COMPAT_KNOWN)
    return UNSURE (e, "%s: ext: unknown read-only features 0x%" PRIx32,
                   name, e->ro_compat & ~RO_COMPAT_KNOWN);
  if (le32 (sb + SB_LAST_ORPHAN) != 0)
    return UNSURE (e, "%s: ext: orphan inodes (the mount cleans them up)",
                   name);
  /* Without the Unicode tables for its encoding the kernel refuses a
   * casefolded filesystem; 6.1 knows utf8-12.1 (1) only.
   */
  if ((e->incompat & INCOMPAT_CASEFOLD) && le16 (sb + SB_ENCODING) != 1)
    return UNSURE (e, "%s: ext: casefold encoding %u", name,
                   le16 (sb + SB_ENCODING));
  if (e->ro_compat & RO_COMPAT_METADATA_CSUM) {
    /* The kernel refuses a superblock whose checksum is wrong. */
    if (sb[SB_CHECKSUM_TYPE] != 1)
      return UNSURE (e, "%s: ext: checksum type %u", name,
                     sb[SB_CHECKSUM_TYPE]);
    if (crc32c (~0U, sb, SB_CHECKSUM) != le32 (sb + SB_CHECKSUM))
      return UNSURE (e, "%s: ext: bad superblock checksum", name);
  }

  /* Block and cluster sizes.  The kernel takes up to 64 KiB, but the
   * appliance's (4 KiB pages) cannot mount blocks larger than a page.
   */
  if (le32 (sb + SB_LOG_BLOCK_SIZE) > 2)
    return UNSURE (e, "%s: ext: block size 2^%" PRIu32 " KiB", name,
                   le32 (sb + SB_LOG_BLOCK_SIZE));
  e->log_block = le32 (sb + SB_LOG_BLOCK_SIZE);
  e->block_size = 1024U << e->log_block;
  log_cluster = le32 (sb + SB_LOG_CLUSTER_SIZE);
  e->blocks_per_group = le32 (sb + SB_BLOCKS_PER_GROUP);
  if (e->ro_compat & RO_COMPAT_BIGALLOC) {
    if (log_cluster < e->log_block || log_cluster > 20)
      return UNSURE (e, "%s: ext: cluster size 2^%" PRIu32 " KiB", name,
                     log_cluster);
    e->cluster_bits = log_cluster - e->log_block;
    e->clusters_per_group = le32 (sb + SB_CLUSTERS_PER_GROUP);
    if (e->clusters_per_group == 0 ||
        e->clusters_per_group > e->block_size * 8 ||
        (uint64_t) e->clusters_per_group << e->cluster_bits !=
        e->blocks_per_group)
      return UNSURE (e, "%s: ext: %" PRIu32 " clusters and %" PRIu32
                     " blocks per group", name, e->clusters_per_group,
                     e->blocks_per_group);
  }
  else {
    if (log_cluster != e->log_block)
      return UNSURE (e, "%s: ext: fragment size differs from the block "
                     "size", name);
    e->cluster_bits = 0;
    if (e->blocks_per_group == 0 || e->blocks_per_group > e->block_size * 8)
      return UNSURE (e, "%s: ext: %" PRIu32 " blocks per group", name,
                     e->blocks_per_group);
    e->clusters_per_group = e->blocks_per_group;
  }
  /* mkfs makes groups of whole bytes of bitmap; anything else is
   * corrupt (and the bigalloc overhead counts bytes of bitmap).
   */
  if (e->blocks_per_group % 8 != 0 || e->clusters_per_group % 8 != 0)
    return UNSURE (e, "%s: ext: %" PRIu32 " blocks per group", name,
                   e->blocks_per_group);

  /* Inodes. */
  if (rev == 0)
    e->inode_size = 128;
  else {
    e->inode_size = le16 (sb + SB_INODE_SIZE);
    if (e->inode_size < 128 || e->inode_size > e->block_size ||
        (e->inode_size & (e->inode_size - 1)))
      return UNSURE (e, "%s: ext: inode size %" PRIu32, name, e->inode_size);
    if (le32 (sb + SB_FIRST_INO) < 11)
      return UNSURE (e, "%s: ext: first inode %" PRIu32, name,
                     le32 (sb + SB_FIRST_INO));
  }
  inodes_per_block = e->block_size / e->inode_size;
  e->inodes_per_group = le32 (sb + SB_INODES_PER_GROUP);
  if (e->inodes_per_group < inodes_per_block ||
      e->inodes_per_group > e->block_size * 8)
    return UNSURE (e, "%s: ext: %" PRIu32 " inodes per group", name,
                   e->inodes_per_group);
  e->itb_per_group = (e->inodes_per_group + inodes_per_block - 1) /
    inodes_per_block;

  /* Descriptors: 32 bytes, or s_desc_size with the 64bit feature. */
  if (e->incompat & INCOMPAT_64BIT) {
    e->desc_size = le16 (sb + SB_DESC_SIZE);
    if (e->desc_size < 64 || e->desc_size > 1024 ||
        (e->desc_size & (e->desc_size - 1)))
      return UNSURE (e, "%s: ext: descriptor size %" PRIu32, name,
                     e->desc_size);
  }
  else
    e->desc_size = 32;
  e->desc_per_block = e->block_size / e->desc_size;
  e->reserved_gdt = le16 (sb + SB_RESERVED_GDT);
  if (e->reserved_gdt > e->block_size / 4)
    return UNSURE (e, "%s: ext: %" PRIu32 " reserved GDT blocks", name,
                   e->reserved_gdt);

  /* Geometry. */
  e->blocks_count = le32 (sb + SB_BLOCKS_COUNT_LO);
  if (e->incompat & INCOMPAT_64BIT)
    e->blocks_count |= (uint64_t) le32 (sb + SB_BLOCKS_COUNT_HI) << 32;
  device_blocks = e->r->size >> (10 + e->log_block);
  if (e->blocks_count > device_blocks)
    return UNSURE (e, "%s: ext: %" PRIu64 " blocks on a device of %" PRIu64,
                   name, e->blocks_count, device_blocks);
  e->first_data_block = le32 (sb + SB_FIRST_DATA_BLOCK);
  if (e->first_data_block >= e->blocks_count)
    return UNSURE (e, "%s: ext: first data block %" PRIu32 " beyond the "
                   "end", name, e->first_data_block);
  /* The only layouts mkfs makes: with 1 KiB blocks the superblock's
   * block comes first (except under bigalloc), else group 0 starts at 0.
   */
  if (e->first_data_block !=
      (e->block_size == 1024 && !(e->ro_compat & RO_COMPAT_BIGALLOC)))
    return UNSURE (e, "%s: ext: first data block %" PRIu32, name,
                   e->first_data_block);
  groups = (e->blocks_count - e->first_data_block + e->blocks_per_group - 1) /
    e->blocks_per_group;
  if (groups == 0 || groups > (UINT64_C (1) << 32) - e->desc_per_block)
    return UNSURE (e, "%s: ext: %" PRIu64 " groups", name, groups);
  e->groups = groups;
  if (groups * e->inodes_per_group != le32 (sb + SB_INODES_COUNT))
    return UNSURE (e, "%s: ext: inodes count %" PRIu32 " is not %" PRIu64
                   " groups of %" PRIu32, name, le32 (sb + SB_INODES_COUNT),
                   groups, e->inodes_per_group);
  db_count = (groups + e->desc_per_block - 1) / e->desc_per_block;
  e->gdb_count = db_count;
  e->first_meta_bg = le32 (sb + SB_FIRST_META_BG);
  if ((e->incompat & INCOMPAT_META_BG) && e->first_meta_bg > db_count)
    return UNSURE (e, "%s: ext: first meta_bg %" PRIu32 " beyond %" PRIu64
                   " descriptor blocks", name, e->first_meta_bg, db_count);
  e->logical_sb_block = e->block_size == 1024 ? 1 : 0;

  if ((e->compat & COMPAT_HAS_JOURNAL) &&
      (le32 (sb + SB_JOURNAL_INUM) == 0 || le32 (sb + SB_JOURNAL_DEV) != 0))
    return UNSURE (e, "%s: ext: an external journal", name);
  return 0;
}

/* A descriptor as ext4_check_descriptors checks it: what a read-only
 * mount refuses (bitmaps and inode table outside the group or the
 * filesystem).  Overlaps with the superblock or the descriptors, and bad
 * checksums, are only logged on a read-only mount.
 */
static int
check_desc (struct ext *e, uint32_t g, const struct desc *d)
{
  uint64_t first, last;

  if (e->incompat & INCOMPAT_FLEX_BG)
    first = e->first_data_block;
  else
    first = e->first_data_block + (uint64_t) g * e->blocks_per_group;
  if (g == e->groups - 1 || (e->incompat & INCOMPAT_FLEX_BG))
    last = e->blocks_count - 1;
  else
    last = first + e->blocks_per_group - 1;
  if (d->block_bitmap < first || d->block_bitmap > last ||
      d->inode_bitmap < first || d->inode_bitmap > last ||
      d->inode_table < first || d->inode_table > last ||
      last - d->inode_table < e->itb_per_group - 1)
    return UNSURE (e, "%s: ext: group %" PRIu32 "'s bitmaps or inode table "
                   "are outside the group", e->r->name, g);
  /* The kernel sums these as they are; a group claiming more free
   * clusters or inodes than it has is corrupt: let it decide.
   */
  if (d->free_clusters > e->clusters_per_group ||
      d->free_inodes > e->inodes_per_group)
    return UNSURE (e, "%s: ext: group %" PRIu32 " has more free clusters "
                   "or inodes than it holds", e->r->name, g);
  return 0;
}

/* The clusters of group g that hold metadata, under bigalloc (the
 * kernel's count_overhead): the bitmaps and inode tables of every group
 * that lie in it, its superblock backup and descriptor blocks, as bits
 * of a bitmap of the group's clusters, then the bits set.
 */
struct placed { uint32_t desc; uint8_t what; };

static uint64_t
bigalloc_group_overhead (const struct ext *e, uint32_t g,
                         const struct desc *descs,
                         const struct placed *items, size_t nitems,
                         unsigned char *bits)
{
  uint64_t first = e->first_data_block + (uint64_t) g * e->blocks_per_group;
  uint64_t last = first + e->blocks_per_group - 1, b, count = 0;
  uint32_t s = 0, j, k;
  size_t i, nbytes = e->clusters_per_group / 8;

  memset (bits, 0, nbytes);
#define SET(c) (bits[(c) / 8] |= 1 << ((c) % 8))
  for (i = 0; i < nitems; ++i) {
    const struct desc *d = &descs[items[i].desc];

    switch (items[i].what) {
    case 0:
      SET ((d->block_bitmap - first) >> e->cluster_bits);
      break;
    case 1:
      SET ((d->inode_bitmap - first) >> e->cluster_bits);
      break;
    default:
      /* Counted only when it ends before the group's last block (the
       * kernel compares its end, one past the table, with last).
       */
      b = d->inode_table;
      if (b + e->itb_per_group <= last)
        for (k = 0; k < e->itb_per_group; ++k)
          SET ((b + k - first) >> e->cluster_bits);
    }
  }
  if (has_super (e, g)) {
    SET (0);     /* a cluster number, not a block's: as the kernel does */
    s = 1;
  }
  j = num_gdb (e, g);
  if ((uint64_t) s + j > e->blocks_per_group)
    j = e->blocks_per_group - s;
  for (; j > 0; --j, ++s)
    SET (s >> e->cluster_bits);
#undef SET
  for (i = 0; i < nbytes; ++i)
    count += __builtin_popcount (bits[i]);
  return count;
}

static int
bigalloc_overhead (struct ext *e, const struct desc *descs, uint64_t *rtn)
{
  CLEANUP_FREE uint32_t *start = NULL;
  CLEANUP_FREE struct placed *items = NULL;
  CLEANUP_FREE unsigned char *bits = NULL;
  uint32_t g, i;
  uint8_t w;
  size_t n = 0;
  uint64_t total = 0;

  /* Bucket every bitmap and inode table by the group it starts in. */
  start = calloc ((size_t) e->groups + 1, sizeof *start);
  items = malloc ((size_t) e->groups * 3 * sizeof *items);
  bits = malloc (e->clusters_per_group / 8 + 1);
  if (start == NULL || items == NULL || bits == NULL) {
    perrorf (e->h, "%s: ext", e->r->name);
    return -1;
  }
#define GROUP_OF(b) (((b) - e->first_data_block) / e->blocks_per_group)
  for (i = 0; i < e->groups; ++i) {
    const uint64_t b[3] = { descs[i].block_bitmap, descs[i].inode_bitmap,
                            descs[i].inode_table };

    for (w = 0; w < 3; ++w)
      if (b[w] >= e->first_data_block && GROUP_OF (b[w]) < e->groups)
        start[GROUP_OF (b[w])]++;
  }
  for (g = 0; g < e->groups; ++g) {
    uint32_t c = start[g];

    start[g] = n;
    n += c;
  }
  start[e->groups] = n;
  {
    CLEANUP_FREE uint32_t *fill = malloc ((size_t) e->groups * sizeof *fill);

    if (fill == NULL) {
      perrorf (e->h, "%s: ext", e->r->name);
      return -1;
    }
    memcpy (fill, start, (size_t) e->groups * sizeof *fill);
    for (i = 0; i < e->groups; ++i) {
      const uint64_t b[3] = { descs[i].block_bitmap, descs[i].inode_bitmap,
                              descs[i].inode_table };

      for (w = 0; w < 3; ++w)
        if (b[w] >= e->first_data_block && GROUP_OF (b[w]) < e->groups) {
          struct placed *p = &items[fill[GROUP_OF (b[w])]++];

          p->desc = i;
          p->what = w;
        }
    }
  }
#undef GROUP_OF
  for (g = 0; g < e->groups; ++g)
    total += bigalloc_group_overhead (e, g, descs, &items[start[g]],
                                      start[g + 1] - start[g], bits);
  *rtn = total;
  return 0;
}

/* Read an inode as ext4_iget does for the root and journal inodes,
 * with its checks that fail the mount: the size of its extra part, and
 * its checksum.  The first 128 bytes are all the callers need.
 */
static int
read_inode (struct ext *e, uint32_t ino, const struct desc *group0,
            unsigned char *inode)
{
  CLEANUP_FREE unsigned char *block = NULL;
  const unsigned char *raw;
  uint32_t index = ino - 1, extra = 0;
  uint64_t table, off;
  int ret;

  /* Only group 0's table is at hand: the root and journal inodes are in
   * it unless groups have fewer than 8 inodes.
   */
  if (ino == 0 || index >= e->inodes_per_group)
    return UNSURE (e, "%s: ext: inode %" PRIu32 " is not in group 0",
                   e->r->name, ino);
  table = group0->inode_table;
  off = (uint64_t) index * e->inode_size;
  block = malloc (e->block_size);
  if (block == NULL) {
    perrorf (e->h, "%s: ext", e->r->name);
    return -1;
  }
  ret = read_blocks (e, block, table + off / e->block_size, 1);
  if (ret != 0)
    return ret;
  /* Inodes are a power of two no larger than a block: never split. */
  raw = block + off % e->block_size;
  if (e->inode_size > 128) {
    extra = le16 (raw + I_EXTRA_ISIZE);
    if (128 + extra > e->inode_size || (extra & 3))
      return UNSURE (e, "%s: ext: inode %" PRIu32 ": bad extra_isize %"
                     PRIu32, e->r->name, ino, extra);
  }
  if ((e->ro_compat & RO_COMPAT_METADATA_CSUM) &&
      le32 (e->sb + SB_CREATOR_OS) != 1 /* the Hurd's have none */) {
    static const unsigned char zero[2];
    unsigned char num[4] = { ino, ino >> 8, ino >> 16, ino >> 24 };
    bool wide = e->inode_size > 128 && extra >= 4;
    uint32_t seed, crc, want;

    if (e->incompat & INCOMPAT_CSUM_SEED)
      seed = le32 (e->sb + SB_CHECKSUM_SEED);
    else
      seed = crc32c (~0U, e->sb + SB_UUID, 16);
    crc = crc32c (seed, num, 4);
    crc = crc32c (crc, raw + I_GENERATION, 4);
    /* The whole inode, its two checksum halves read as zeros. */
    crc = crc32c (crc, raw, I_CHECKSUM_LO);
    crc = crc32c (crc, zero, 2);
    crc = crc32c (crc, raw + I_CHECKSUM_LO + 2, 128 - I_CHECKSUM_LO - 2);
    if (e->inode_size > 128) {
      crc = crc32c (crc, raw + 128, I_CHECKSUM_HI - 128);
      off = I_CHECKSUM_HI;
      if (wide) {
        crc = crc32c (crc, zero, 2);
        off += 2;
      }
      crc = crc32c (crc, raw + off, e->inode_size - off);
    }
    want = le16 (raw + I_CHECKSUM_LO);
    if (wide)
      want |= (uint32_t) le16 (raw + I_CHECKSUM_HI) << 16;
    else
      crc &= 0xffff;
    if (crc != want)
      return UNSURE (e, "%s: ext: inode %" PRIu32 ": bad checksum",
                     e->r->name, ino);
  }
  memcpy (inode, raw, 128);
  return 0;
}

/* The physical block of a file's logical block 0: extent tree or
 * direct block (ext4_bmap).  0 when there is none (a hole, an unwritten
 * extent: jbd2 then cannot find its superblock).
 */
static int
first_block (struct ext *e, const unsigned char *inode, uint64_t *rtn)
{
  CLEANUP_FREE unsigned char *node = NULL;
  const unsigned char *h = inode + I_BLOCK;
  unsigned depth, entries, max, level, i;
  size_t room = 60;
  uint64_t b;

  *rtn = 0;
  if (!(le32 (inode + I_FLAGS) & EXTENTS_FL)) {
    *rtn = le32 (inode + I_BLOCK);
    return 0;
  }
  node = malloc (e->block_size);
  if (node == NULL) {
    perrorf (e->h, "%s: ext", e->r->name);
    return -1;
  }
  for (level = 0; ; ++level) {
    const unsigned char *pick;

    if (le16 (h) != 0xF30A)
      return UNSURE (e, "%s: ext: bad extent header in the journal",
                     e->r->name);
    entries = le16 (h + 2);
    max = le16 (h + 4);
    depth = le16 (h + 6);
    if (entries > max || 12 + (size_t) max * 12 > room || depth > 5 ||
        level > 5 || (level > 0 && depth == 5))
      return UNSURE (e, "%s: ext: bad extent header in the journal",
                     e->r->name);
    if (entries == 0)
      return 0;
    /* The last entry that starts at or before logical block 0: the
     * first one, whatever it says (as the kernel's binary search).
     */
    pick = h + 12;
    for (i = 1; i < entries; ++i)
      if (le32 (h + 12 + i * 12) == 0)
        pick = h + 12 + i * 12;
    if (depth == 0) {
      unsigned len = le16 (pick + 4);

      if (le32 (pick) != 0 || len == 0 || len > 32768)
        return 0;   /* a hole, or unwritten */
      *rtn = le32 (pick + 8) | (uint64_t) le16 (pick + 6) << 32;
      return 0;
    }
    b = le32 (pick + 4) | (uint64_t) le16 (pick + 8) << 32;
    if (b >= e->blocks_count)
      return UNSURE (e, "%s: ext: journal extent block beyond the end",
                     e->r->name);
    {
      int ret = read_blocks (e, node, b, 1);

      if (ret != 0)
        return ret;
    }
    if (le16 (node + 6) != depth - 1)
      return UNSURE (e, "%s: ext: bad extent tree depth in the journal",
                     e->r->name);
    h = node;
    room = e->block_size;
  }
}

/* The internal journal's length as jbd2 takes it (j_total_len): the
 * inode's size in blocks, or its superblock's s_maxlen when smaller;
 * with the checks that make the mount fail.
 */
static int
journal_blocks (struct ext *e, const struct desc *group0, uint64_t *rtn)
{
  CLEANUP_FREE unsigned char *jsb = NULL;
  unsigned char inode[128];
  uint32_t ino = le32 (e->sb + SB_JOURNAL_INUM), type, maxlen, first;
  uint32_t incompat;
  uint64_t size, len, b;
  int ret;

  ret = read_inode (e, ino, group0, inode);
  if (ret != 0)
    return ret;
  if ((le16 (inode + I_MODE) & 0xF000) != 0x8000 ||
      le16 (inode + I_LINKS_COUNT) == 0)
    return UNSURE (e, "%s: ext: the journal inode is not a file",
                   e->r->name);
  size = le32 (inode + I_SIZE_LO) | (uint64_t) le32 (inode + I_SIZE_HIGH) << 32;
  len = size >> (10 + e->log_block);
  ret = first_block (e, inode, &b);
  if (ret != 0)
    return ret;
  if (b == 0 || b >= e->blocks_count)
    return UNSURE (e, "%s: ext: cannot locate the journal superblock",
                   e->r->name);
  jsb = malloc (e->block_size);
  if (jsb == NULL) {
    perrorf (e->h, "%s: ext", e->r->name);
    return -1;
  }
  ret = read_blocks (e, jsb, b, 1);
  if (ret != 0)
    return ret;
  type = be32 (jsb + 4);
  maxlen = be32 (jsb + 16);
  first = be32 (jsb + 20);
  if (be32 (jsb) != JBD2_MAGIC || be32 (jsb + 12) != e->block_size ||
      (type != JBD2_SB_V1 && type != JBD2_SB_V2))
    return UNSURE (e, "%s: ext: no valid journal superblock", e->r->name);
  if (maxlen > len)
    return UNSURE (e, "%s: ext: journal file too short", e->r->name);
  len = maxlen;
  if (first == 0 || first >= len || (uint64_t) first + JBD2_MIN_BLOCKS > len + 1)
    return UNSURE (e, "%s: ext: bad journal geometry", e->r->name);
  if (type == JBD2_SB_V2) {
    incompat = be32 (jsb + 40);
    if ((be32 (jsb + 36) & ~JBD2_COMPAT_CHECKSUM) || be32 (jsb + 44) ||
        (incompat & ~JBD2_INCOMPAT_KNOWN))
      return UNSURE (e, "%s: ext: unknown journal features", e->r->name);
    if (incompat & (JBD2_INCOMPAT_CSUM_V2 | JBD2_INCOMPAT_CSUM_V3)) {
      uint32_t want = be32 (jsb + 0xFC);
      uint32_t crc;

      if ((be32 (jsb + 36) & JBD2_COMPAT_CHECKSUM) || jsb[0x50] != 4)
        return UNSURE (e, "%s: ext: bad journal checksum type", e->r->name);
      memset (jsb + 0xFC, 0, 4);
      crc = crc32c (~0U, jsb, 1024);
      if (crc != want)
        return UNSURE (e, "%s: ext: bad journal superblock checksum",
                       e->r->name);
    }
  }
  *rtn = len;
  return 0;
}

int
gk_native_ext_statvfs (gk_h *h, const struct gk_reader *r,
                      struct gk_statvfs *st, char **why_rtn)
{
  unsigned char sb[1024];
  struct ext e = { .h = h, .r = r, .why_rtn = why_rtn, .sb = sb };
  CLEANUP_FREE unsigned char *gdt = NULL;
  CLEANUP_FREE struct desc *descs = NULL;
  struct desc group0 = { 0 };
  uint64_t overhead, free_clusters = 0, free_inodes = 0, r_blocks, resv;
  uint64_t blocks, bfree, sb_overhead;
  uint32_t nr, g = 0, n, i;
  bool bigalloc;
  int ret;

  if (r->size < 2048)
    return UNSURE (&e, "%s: ext: device too small", r->name);
  if (gk_reader_pread (h, r, sb, sizeof sb, 1024) == -1)
    return -1;
  ret = check_super (&e);
  if (ret != 0)
    return ret;
  bigalloc = e.ro_compat & RO_COMPAT_BIGALLOC;

  /* The overhead the superblock records is used only under bigalloc,
   * when it is not larger than the filesystem.
   */
  sb_overhead = le32 (sb + SB_OVERHEAD_CLUSTERS);
  if (sb_overhead > e.blocks_count || !bigalloc)
    sb_overhead = 0;
  if (bigalloc && sb_overhead == 0) {
    if (e.groups > MAX_BIGALLOC_GROUPS)
      return UNSURE (&e, "%s: ext: %" PRIu32 " bigalloc groups", r->name,
                     e.groups);
    descs = malloc ((size_t) e.groups * sizeof *descs);
    if (descs == NULL) {
      perrorf (h, "%s: ext", r->name);
      return -1;
    }
  }

  /* The group descriptors, a chunk of consecutive blocks at a time. */
  gdt = malloc ((size_t) GDT_CHUNK * e.block_size);
  if (gdt == NULL) {
    perrorf (h, "%s: ext", r->name);
    return -1;
  }
  for (nr = 0; nr < e.gdb_count; nr += n) {
    uint64_t loc = descriptor_loc (&e, nr);

    for (n = 1; n < GDT_CHUNK && nr + n < e.gdb_count &&
           descriptor_loc (&e, nr + n) == loc + n; ++n)
      ;
    ret = read_blocks (&e, gdt, loc, n);
    if (ret != 0)
      return ret;
    for (i = 0; i < n * e.desc_per_block && g < e.groups; ++i, ++g) {
      struct desc d;

      parse_desc (&e, gdt + (size_t) i * e.desc_size, &d);
      ret = check_desc (&e, g, &d);
      if (ret != 0)
        return ret;
      free_clusters += d.free_clusters;
      free_inodes += d.free_inodes;
      if (g == 0)
        group0 = d;
      if (descs)
        descs[g] = d;
    }
  }

  /* The root directory: the kernel refuses the mount when it is not a
   * directory with something in it.
   */
  {
    unsigned char inode[128];

    ret = read_inode (&e, ROOT_INO, &group0, inode);
    if (ret != 0)
      return ret;
    if ((le16 (inode + I_MODE) & 0xF000) != 0x4000 ||
        le32 (inode + I_SIZE_LO) == 0 || le32 (inode + I_BLOCKS_LO) == 0 ||
        le16 (inode + I_LINKS_COUNT) == 0)
      return UNSURE (&e, "%s: ext: corrupt root inode", r->name);
  }

  /* The overhead, in clusters. */
  if (sb_overhead)
    overhead = sb_overhead;
  else {
    overhead = (uint64_t) e.first_data_block >> e.cluster_bits;
    if (descs) {
      uint64_t o;

      ret = bigalloc_overhead (&e, descs, &o);
      if (ret != 0)
        return ret;
      overhead += o;
    }
    else
      for (g = 0; g < e.groups; ++g) {
        bool s = has_super (&e, g);

        overhead += s + num_gdb (&e, g) + (s ? e.reserved_gdt : 0) +
          e.itb_per_group + 2;
      }
    if (e.compat & COMPAT_HAS_JOURNAL) {
      uint64_t jblocks = 0;

      ret = journal_blocks (&e, &group0, &jblocks);
      if (ret != 0)
        return ret;
      overhead += (jblocks + (1U << e.cluster_bits) - 1) >> e.cluster_bits;
    }
  }

  if (overhead > e.blocks_count >> e.cluster_bits)
    return UNSURE (&e, "%s: ext: overhead larger than the filesystem",
                   r->name);
  blocks = e.blocks_count - (overhead << e.cluster_bits);
  bfree = free_clusters << e.cluster_bits;
  r_blocks = le32 (sb + SB_R_BLOCKS_COUNT_LO);
  if (e.incompat & INCOMPAT_64BIT)
    r_blocks |= (uint64_t) le32 (sb + SB_R_BLOCKS_COUNT_HI) << 32;
  if (r_blocks > e.blocks_count)
    return UNSURE (&e, "%s: ext: more reserved blocks than blocks", r->name);
  /* Reserved clusters (ext4_calculate_resv_clusters): none without
   * extents, for ext2/3 compatibility.
   */
  resv = 0;
  if (e.incompat & INCOMPAT_EXTENTS) {
    resv = (e.blocks_count >> e.cluster_bits) / 50;
    if (resv > 4096)
      resv = 4096;
  }
  resv <<= e.cluster_bits;

  st->bsize = e.block_size;
  st->frsize = e.block_size;
  st->blocks = blocks;
  st->bfree = bfree;
  st->bavail = bfree < r_blocks + resv ? 0 : bfree - r_blocks - resv;
  st->files = le32 (sb + SB_INODES_COUNT);
  st->ffree = free_inodes;
  st->favail = free_inodes;
  /* The kernel folds the UUID into 64 bits: its two halves, read as
   * little-endian numbers, xored (and glibc's statvfs keeps all 64).
   */
  st->fsid = (int64_t)
    (((uint64_t) le32 (sb + SB_UUID + 4) << 32 | le32 (sb + SB_UUID)) ^
     ((uint64_t) le32 (sb + SB_UUID + 12) << 32 | le32 (sb + SB_UUID + 8)));
  st->flag = 4096 | 1;    /* ST_RELATIME | ST_RDONLY: mount -o ro */
  st->namemax = 255;
  return 0;
}
