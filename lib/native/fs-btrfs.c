/* libguestkit native engine: btrfs usage as statvfs(2) reports it, and
 * the subvolumes the appliance's list-filesystems shows (fs.h).
 *
 * What statfs returns after a mount is computed by the kernel (Debian
 * 12's 6.1, fs/btrfs/super.c: btrfs_statfs) from in-memory state built
 * at mount time from on-disk metadata only, so it can be reproduced:
 *
 *  - the "space infos": per block group type (DATA, METADATA, SYSTEM,
 *    or DATA|METADATA for mixed block groups), the sum of each block
 *    group's length and used bytes, each times its profile's number of
 *    copies (2 for DUP).  Block groups are the chunks of the chunk tree,
 *    their "used" is in the BLOCK_GROUP_ITEMs of the extent tree;
 *  - the device's total_bytes and bytes_used (its DEV_ITEM in the chunk
 *    tree), for the space not yet allocated to chunks;
 *  - the size of the global block reserve, which the mount computes
 *    (btrfs_update_global_block_rsv) from the bytes_used of the extent,
 *    checksum and free space trees' ROOT_ITEMs, but at least 16 nodes per
 *    item for 1 + those trees + 10 items, and at most 512 MiB.
 *
 * We read the superblock (checksummed), bootstrap the logical->physical
 * map from its sys_chunk_array, read the chunk tree, the root tree, and
 * look up one BLOCK_GROUP_ITEM per chunk in the extent tree.  Every tree
 * block is checked as the kernel checks it before using it (checksum,
 * bytenr, fsid, level, generation against its parent's pointer, item
 * bounds, key order); a DUP block with a bad first copy is read from its
 * second copy, as the kernel does.
 *
 * Handled: one device, block groups single or DUP (one profile per type),
 * crc32c checksums.  "Unsure" (the appliance decides): several devices,
 * other RAID profiles, other checksum types, a log tree to replay, a
 * balance to resume, the block group tree, zoned and extent-tree-v2
 * filesystems, unknown feature flags, a default subvolume other than the
 * top level, and anything inconsistent.
 *
 * Subvolumes: as `btrfs subvolume list` on the mounted top level, in the
 * order of subvolume IDs: each ROOT_BACKREF of the root tree names a
 * subvolume, its parent subvolume, and the directory (in the parent's
 * tree) holding it, whose path is found by walking INODE_REF items up to
 * the parent's root directory.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>
#include <inttypes.h>

#include "fs.h"

#define SUPER_OFFSET        65536
#define SUPER_SIZE          4096
#define SYS_CHUNK_ARRAY_MAX 2048
#define HEADER_SIZE         101     /* struct btrfs_header */
#define ITEM_SIZE           25      /* struct btrfs_item: key, offset, size */
#define KEY_PTR_SIZE        33      /* struct btrfs_key_ptr */
#define KEY_SIZE            17      /* struct btrfs_disk_key */
#define CHUNK_SIZE          48      /* struct btrfs_chunk without stripes */
#define STRIPE_SIZE         32      /* struct btrfs_stripe */
#define MAX_LEVEL           8
#define STRIPE_LEN          65536   /* BTRFS_STRIPE_LEN */
#define MAX_TREE_READS      (1 << 20)

/* Key types. */
#define INODE_REF_KEY        12
#define DIR_ITEM_KEY         84
#define ROOT_ITEM_KEY        132
#define ROOT_BACKREF_KEY     144
#define BLOCK_GROUP_ITEM_KEY 192
#define DEV_ITEM_KEY         216
#define CHUNK_ITEM_KEY       228
#define TEMPORARY_ITEM_KEY   248

/* Object IDs. */
#define ROOT_TREE_OBJECTID        1
#define EXTENT_TREE_OBJECTID      2
#define CHUNK_TREE_OBJECTID       3
#define FS_TREE_OBJECTID          5
#define ROOT_TREE_DIR_OBJECTID    6
#define CSUM_TREE_OBJECTID        7
#define FREE_SPACE_TREE_OBJECTID  10
#define DEV_ITEMS_OBJECTID        1
#define FIRST_FREE_OBJECTID       256
#define FIRST_CHUNK_TREE_OBJECTID 256
#define LAST_FREE_OBJECTID        UINT64_C(0xffffffffffffff00) /* -256 */
#define BALANCE_OBJECTID          UINT64_C(0xfffffffffffffffc) /* -4 */

/* Block group flags. */
#define BG_DATA     0x1
#define BG_SYSTEM   0x2
#define BG_METADATA 0x4
#define BG_TYPE_MASK 0x7
#define BG_DUP      0x20
#define BG_PROFILE_MASK UINT64_C(0x7f8)   /* RAID0 .. RAID1C4 */

/* Superblock feature flags the 6.1 kernel knows.  Of the incompat ones
 * we accept those that do not change the layout we read (compression,
 * inline refs, ...); RAID56 and RAID1C34 only name profiles we refuse
 * anyway; zoned (1 << 12) and extent-tree-v2 (1 << 13) are unsure.
 */
#define INCOMPAT_MIXED_GROUPS   (1 << 2)
#define INCOMPAT_METADATA_UUID  (1 << 10)
#define INCOMPAT_OK             0xfff     /* bits 0 .. 11 */
#define COMPAT_RO_FREE_SPACE_TREE (1 << 0)
#define COMPAT_RO_OK            0x7       /* FST, FST_VALID, verity */
#define SUPER_FLAG_WRITTEN      UINT64_C(1)

/* A fuzzer cannot forge checksums: let it reach what they protect. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define IGNORE_CSUM 1
#else
#define IGNORE_CSUM 0
#endif

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
static uint32_t
be32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* crc32c (Castagnoli), as btrfs checksums its superblock and tree blocks
 * with it.  Bitwise: metadata is small and this keeps no table.
 */
static uint32_t
crc32c (const unsigned char *p, size_t n)
{
  uint32_t crc = 0xffffffff;
  size_t i;
  int k;

  for (i = 0; i < n; ++i) {
    crc ^= p[i];
    for (k = 0; k < 8; ++k)
      crc = (crc >> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return ~crc;
}

struct key {
  uint64_t objectid;
  uint8_t type;
  uint64_t offset;
};

static void
get_key (struct key *k, const unsigned char *p)
{
  k->objectid = le64 (p);
  k->type = p[8];
  k->offset = le64 (p + 9);
}

static int
key_cmp (const struct key *a, const struct key *b)
{
  if (a->objectid != b->objectid)
    return a->objectid < b->objectid ? -1 : 1;
  if (a->type != b->type)
    return a->type < b->type ? -1 : 1;
  if (a->offset != b->offset)
    return a->offset < b->offset ? -1 : 1;
  return 0;
}

/* A chunk: logical range -> one or two physical copies (single, DUP). */
struct chunk {
  uint64_t logical, length, type;
  unsigned nstripes;
  uint64_t phys[2];
};

/* Where a tree's root is. */
struct root {
  bool found;
  uint64_t bytenr, generation, bytes_used;
  unsigned level;
};

struct btrfs {
  gk_h *h;
  const struct gk_reader *r;
  char **why;
  unsigned char sb[SUPER_SIZE];
  uint32_t sectorsize, nodesize;
  uint64_t devid, total_bytes, generation;
  uint64_t incompat, compat_ro;
  const unsigned char *meta_fsid;   /* what tree block headers carry */
  struct chunk *chunks;
  size_t nchunks;
  uint64_t reads;
  /* From the chunk tree. */
  unsigned ndevs;
  uint64_t dev_total, dev_used;
};

#define UNSURE(b, fmt, ...)                                             \
  gk_int_native_unsure ((b)->h, (b)->why, "%s: btrfs: " fmt,            \
                        (b)->r->name, ##__VA_ARGS__)

static bool
is_pow2 (uint64_t x)
{
  return x != 0 && (x & (x - 1)) == 0;
}

/* Read and check the primary superblock: the only one the kernel's
 * mount reads (btrfs_read_dev_super), with its btrfs_validate_super
 * checks that matter here.
 */
static int
read_super (struct btrfs *b)
{
  const unsigned char *sb = b->sb;
  uint64_t flags, root, chunk_root;
  uint32_t sys_size;

  if (b->r->size < SUPER_OFFSET + SUPER_SIZE)
    return UNSURE (b, "the device is too small (%" PRIu64 " bytes)",
                   b->r->size);
  if (gk_reader_pread (b->h, b->r, b->sb, SUPER_SIZE, SUPER_OFFSET) == -1)
    return -1;
  if (memcmp (sb + 0x40, "_BHRfS_M", 8) != 0)
    return UNSURE (b, "no superblock magic");
  if (le16 (sb + 0xc4) != 0)
    return UNSURE (b, "checksum type %u is not crc32c", le16 (sb + 0xc4));
  if (crc32c (sb + 32, SUPER_SIZE - 32) != le32 (sb) && !IGNORE_CSUM)
    return UNSURE (b, "bad superblock checksum");
  if (le64 (sb + 0x30) != SUPER_OFFSET)
    return UNSURE (b, "superblock bytenr %" PRIu64, le64 (sb + 0x30));

  flags = le64 (sb + 0x38);
  if (flags & ~SUPER_FLAG_WRITTEN)
    return UNSURE (b, "superblock flags 0x%" PRIx64, flags);
  b->incompat = le64 (sb + 0xbc);
  b->compat_ro = le64 (sb + 0xb4);
  if (b->incompat & ~(uint64_t) INCOMPAT_OK)
    return UNSURE (b, "incompat features 0x%" PRIx64 " not handled",
                   b->incompat & ~(uint64_t) INCOMPAT_OK);
  if (b->compat_ro & ~(uint64_t) COMPAT_RO_OK)
    return UNSURE (b, "compat_ro features 0x%" PRIx64 " not handled "
                   "(block group tree?)",
                   b->compat_ro & ~(uint64_t) COMPAT_RO_OK);
  b->meta_fsid = (b->incompat & INCOMPAT_METADATA_UUID) ? sb + 0x23b : sb + 0x20;

  if (le64 (sb + 0x88) != 1)
    return UNSURE (b, "%" PRIu64 " devices", le64 (sb + 0x88));
  if (le64 (sb + 0x60) != 0)
    return UNSURE (b, "a log tree would be replayed at mount");

  /* The kernel (x86_64, 4 KiB pages) mounts only sectorsize 4096. */
  b->sectorsize = le32 (sb + 0x90);
  b->nodesize = le32 (sb + 0x94);
  if (b->sectorsize != 4096)
    return UNSURE (b, "sectorsize %" PRIu32, b->sectorsize);
  if (!is_pow2 (b->nodesize) || b->nodesize < b->sectorsize ||
      b->nodesize > 65536)
    return UNSURE (b, "nodesize %" PRIu32, b->nodesize);
  if ((b->incompat & INCOMPAT_MIXED_GROUPS) && b->nodesize != b->sectorsize)
    return UNSURE (b, "mixed block groups with nodesize %" PRIu32,
                   b->nodesize);

  root = le64 (sb + 0x50);
  chunk_root = le64 (sb + 0x58);
  if (root % b->sectorsize || chunk_root % b->sectorsize)
    return UNSURE (b, "unaligned root (%" PRIu64 ") or chunk root (%" PRIu64
                   ")", root, chunk_root);
  if (sb[0xc6] >= MAX_LEVEL || sb[0xc7] >= MAX_LEVEL)
    return UNSURE (b, "root level %u, chunk root level %u",
                   sb[0xc6], sb[0xc7]);
  sys_size = le32 (sb + 0xa0);
  if (sys_size > SYS_CHUNK_ARRAY_MAX || sys_size < KEY_SIZE + CHUNK_SIZE)
    return UNSURE (b, "sys_chunk_array_size %" PRIu32, sys_size);

  b->generation = le64 (sb + 0x48);
  b->total_bytes = le64 (sb + 0x70);
  b->devid = le64 (sb + 0xc9);
  if (b->total_bytes == 0 || b->total_bytes % b->sectorsize)
    return UNSURE (b, "total_bytes %" PRIu64, b->total_bytes);
  /* The device item's fsid must be this filesystem's. */
  if (memcmp (sb + 0xc9 + 82, b->meta_fsid, 16) != 0)
    return UNSURE (b, "the device item's fsid is not the filesystem's");
  return 0;
}

/* Parse a chunk item (at p, size bytes) and add it to the map.  The same
 * chunk may come twice (the sys_chunk_array, then the chunk tree).
 */
static int
add_chunk (struct btrfs *b, uint64_t logical, const unsigned char *p,
           size_t size)
{
  struct chunk c, *n;
  uint64_t profile;
  unsigned num_stripes, i;
  size_t j;

  if (size < CHUNK_SIZE)
    return UNSURE (b, "chunk item at %" PRIu64 " too short", logical);
  num_stripes = le16 (p + 44);
  if (num_stripes == 0 || size != CHUNK_SIZE + (size_t) num_stripes * STRIPE_SIZE)
    return UNSURE (b, "chunk at %" PRIu64 ": %u stripes in %zu bytes",
                   logical, num_stripes, size);
  c.logical = logical;
  c.length = le64 (p);
  c.type = le64 (p + 24);
  if (c.length == 0 || c.length % b->sectorsize || logical % b->sectorsize ||
      logical + c.length < logical)
    return UNSURE (b, "chunk at %" PRIu64 " of length %" PRIu64,
                   logical, c.length);
  if (le64 (p + 16) != STRIPE_LEN)
    return UNSURE (b, "chunk at %" PRIu64 ": stripe_len %" PRIu64,
                   logical, le64 (p + 16));
  switch (c.type & BG_TYPE_MASK) {
  case BG_DATA: case BG_SYSTEM: case BG_METADATA: case BG_DATA|BG_METADATA:
    break;
  default:
    return UNSURE (b, "chunk at %" PRIu64 ": type 0x%" PRIx64,
                   logical, c.type);
  }
  profile = c.type & ~(uint64_t) BG_TYPE_MASK;
  if (profile == 0)
    c.nstripes = 1;
  else if (profile == BG_DUP)
    c.nstripes = 2;
  else
    return UNSURE (b, "chunk at %" PRIu64 ": profile 0x%" PRIx64
                   " not handled", logical, profile);
  if (num_stripes != c.nstripes)
    return UNSURE (b, "chunk at %" PRIu64 ": %u stripes", logical,
                   num_stripes);
  for (i = 0; i < c.nstripes; ++i) {
    const unsigned char *s = p + CHUNK_SIZE + i * STRIPE_SIZE;

    if (le64 (s) != b->devid)
      return UNSURE (b, "chunk at %" PRIu64 " on device %" PRIu64,
                     logical, le64 (s));
    c.phys[i] = le64 (s + 8);
    if (c.phys[i] % b->sectorsize || c.phys[i] + c.length < c.phys[i])
      return UNSURE (b, "chunk at %" PRIu64 ": stripe at %" PRIu64,
                     logical, c.phys[i]);
  }

  for (j = 0; j < b->nchunks; ++j) {
    const struct chunk *o = &b->chunks[j];

    if (o->logical == c.logical && o->length == c.length &&
        o->type == c.type && o->nstripes == c.nstripes &&
        memcmp (o->phys, c.phys, c.nstripes * sizeof c.phys[0]) == 0)
      return 0;
    if (c.logical < o->logical + o->length && o->logical < c.logical + c.length)
      return UNSURE (b, "chunks at %" PRIu64 " and %" PRIu64 " overlap",
                     o->logical, c.logical);
  }
  if (b->nchunks >= 1000000)
    return UNSURE (b, "too many chunks");
  n = realloc (b->chunks, (b->nchunks + 1) * sizeof *n);
  if (n == NULL) {
    perrorf (b->h, "realloc");
    return -1;
  }
  b->chunks = n;
  b->chunks[b->nchunks++] = c;
  return 0;
}

static int
read_sys_chunk_array (struct btrfs *b)
{
  const unsigned char *a = b->sb + 0x32b;
  uint32_t size = le32 (b->sb + 0xa0), off = 0;
  struct key k;
  int ret;

  while (off < size) {
    size_t len;

    if (size - off < KEY_SIZE + CHUNK_SIZE)
      return UNSURE (b, "sys_chunk_array truncated");
    get_key (&k, a + off);
    if (k.type != CHUNK_ITEM_KEY || k.objectid != FIRST_CHUNK_TREE_OBJECTID)
      return UNSURE (b, "sys_chunk_array: key type %u", k.type);
    len = CHUNK_SIZE + (size_t) le16 (a + off + KEY_SIZE + 44) * STRIPE_SIZE;
    if (len > size - off - KEY_SIZE)
      return UNSURE (b, "sys_chunk_array truncated");
    if (!(le64 (a + off + KEY_SIZE + 24) & BG_SYSTEM))
      return UNSURE (b, "sys_chunk_array: a chunk that is not SYSTEM");
    ret = add_chunk (b, k.offset, a + off + KEY_SIZE, len);
    if (ret != 0)
      return ret;
    off += KEY_SIZE + len;
  }
  return 0;
}

/* Read the tree block at logical bytenr into buf and check it as the
 * kernel does before it uses it (btrfs_validate_extent_buffer and the
 * tree checker's bounds): a copy that fails is tried on the other copy
 * of a DUP chunk.  gen is the generation the parent (or superblock)
 * expects.
 */
static int
read_block (struct btrfs *b, unsigned char *buf, uint64_t bytenr,
            unsigned level, uint64_t gen)
{
  const struct chunk *c = NULL;
  const char *bad = NULL;
  size_t i;
  unsigned s;

  if (++b->reads > MAX_TREE_READS)
    return UNSURE (b, "more than %d tree blocks", MAX_TREE_READS);
  if (bytenr % b->sectorsize)
    return UNSURE (b, "unaligned tree block %" PRIu64, bytenr);
  for (i = 0; i < b->nchunks; ++i)
    if (bytenr >= b->chunks[i].logical &&
        bytenr - b->chunks[i].logical < b->chunks[i].length) {
      c = &b->chunks[i];
      break;
    }
  if (c == NULL || c->length - (bytenr - c->logical) < b->nodesize)
    return UNSURE (b, "tree block %" PRIu64 " is in no chunk", bytenr);
  if (c->type & BG_DATA && !(c->type & BG_METADATA))
    return UNSURE (b, "tree block %" PRIu64 " is in a data chunk", bytenr);

  for (s = 0; s < c->nstripes; ++s) {
    uint64_t phys = c->phys[s] + (bytenr - c->logical);
    uint32_t nritems;
    unsigned j;

    if (phys > b->r->size || b->r->size - phys < b->nodesize) {
      bad = "beyond the end of the device";
      continue;
    }
    if (gk_reader_pread (b->h, b->r, buf, b->nodesize, phys) == -1)
      return -1;
    if (crc32c (buf + 32, b->nodesize - 32) != le32 (buf) && !IGNORE_CSUM) {
      bad = "bad checksum";
      continue;
    }
    if (le64 (buf + 0x30) != bytenr) {
      bad = "wrong bytenr";
      continue;
    }
    if (memcmp (buf + 0x20, b->meta_fsid, 16) != 0) {
      bad = "wrong fsid";
      continue;
    }
    if (buf[0x64] != level) {
      bad = "wrong level";
      continue;
    }
    if (gen != 0 && le64 (buf + 0x50) != gen) {
      bad = "wrong generation";
      continue;
    }
    nritems = le32 (buf + 0x60);
    if (level > 0) {
      if (nritems == 0 ||
          nritems > (b->nodesize - HEADER_SIZE) / KEY_PTR_SIZE) {
        bad = "bad number of pointers";
        continue;
      }
    }
    else {
      uint32_t data_start = nritems * ITEM_SIZE;

      if (nritems > (b->nodesize - HEADER_SIZE) / ITEM_SIZE) {
        bad = "bad number of items";
        continue;
      }
      /* Item data lies after the item headers, within the block. */
      for (j = 0; j < nritems; ++j) {
        const unsigned char *it = buf + HEADER_SIZE + j * ITEM_SIZE;
        uint32_t off = le32 (it + KEY_SIZE), sz = le32 (it + KEY_SIZE + 4);

        if (off < data_start || off > b->nodesize - HEADER_SIZE ||
            sz > b->nodesize - HEADER_SIZE - off)
          break;
      }
      if (j < nritems) {
        bad = "item out of bounds";
        continue;
      }
    }
    /* Keys strictly increasing. */
    {
      size_t stride = level > 0 ? KEY_PTR_SIZE : ITEM_SIZE;
      struct key prev, k;

      for (j = 0; j < nritems; ++j) {
        get_key (&k, buf + HEADER_SIZE + j * stride);
        if (j > 0 && key_cmp (&prev, &k) >= 0)
          break;
        prev = k;
      }
      if (j < nritems) {
        bad = "keys out of order";
        continue;
      }
    }
    return 0;
  }
  return UNSURE (b, "tree block %" PRIu64 ": %s", bytenr, bad);
}

/* Walk a tree's items in key order from the first item >= min, calling
 * cb for each until it returns non-zero (1: stop, -1 / unsure: fail).
 * Termination on corrupt trees: levels strictly decrease going down,
 * every child's first key must be its parent's key for it, and the items
 * met must be strictly increasing over the whole walk, so no block is
 * walked twice; the number of blocks read is bounded too.
 */
typedef int (*item_cb) (struct btrfs *b, const struct key *k,
                        const unsigned char *data, uint32_t size,
                        void *opaque);

struct walk {
  struct key min;
  item_cb cb;
  void *opaque;
  bool have_last;
  struct key last;
};

static int
walk_block (struct btrfs *b, struct walk *w, uint64_t bytenr, unsigned level,
            uint64_t gen, const struct key *parent_key)
{
  CLEANUP_FREE unsigned char *buf = malloc (b->nodesize);
  uint32_t nritems, i, start = 0;
  struct key k;
  int ret;

  if (buf == NULL) {
    perrorf (b->h, "malloc");
    return -1;
  }
  ret = read_block (b, buf, bytenr, level, gen);
  if (ret != 0)
    return ret;
  nritems = le32 (buf + 0x60);

  if (parent_key != NULL) {
    if (nritems == 0)
      return UNSURE (b, "empty tree block %" PRIu64, bytenr);
    get_key (&k, buf + HEADER_SIZE);
    if (key_cmp (&k, parent_key) != 0)
      return UNSURE (b, "tree block %" PRIu64 ": first key does not match "
                     "its parent's", bytenr);
  }

  if (level == 0) {
    for (i = 0; i < nritems; ++i) {
      const unsigned char *it = buf + HEADER_SIZE + i * ITEM_SIZE;

      get_key (&k, it);
      if (key_cmp (&k, &w->min) < 0)
        continue;
      if (w->have_last && key_cmp (&w->last, &k) >= 0)
        return UNSURE (b, "tree block %" PRIu64 ": keys out of order "
                       "across blocks", bytenr);
      w->have_last = true;
      w->last = k;
      ret = w->cb (b, &k, buf + HEADER_SIZE + le32 (it + KEY_SIZE),
                   le32 (it + KEY_SIZE + 4), w->opaque);
      if (ret != 0)
        return ret;
    }
    return 0;
  }

  /* The child holding min: the last whose key is <= min. */
  for (i = 1; i < nritems; ++i) {
    get_key (&k, buf + HEADER_SIZE + i * KEY_PTR_SIZE);
    if (key_cmp (&k, &w->min) > 0)
      break;
    start = i;
  }
  for (i = start; i < nritems; ++i) {
    const unsigned char *p = buf + HEADER_SIZE + i * KEY_PTR_SIZE;

    get_key (&k, p);
    ret = walk_block (b, w, le64 (p + KEY_SIZE), level - 1,
                      le64 (p + KEY_SIZE + 8), &k);
    if (ret != 0)
      return ret;
  }
  return 0;
}

static int
walk_tree (struct btrfs *b, const struct root *root, const struct key *min,
           item_cb cb, void *opaque)
{
  struct walk w = { .cb = cb, .opaque = opaque };
  int ret;

  if (min)
    w.min = *min;
  ret = walk_block (b, &w, root->bytenr, root->level, root->generation, NULL);
  return ret == 1 ? 0 : ret;
}

/* The chunk tree: every chunk, and the device item. */
static int
chunk_tree_cb (struct btrfs *b, const struct key *k, const unsigned char *d,
               uint32_t size, void *opaque)
{
  if (k->type == CHUNK_ITEM_KEY) {
    if (k->objectid != FIRST_CHUNK_TREE_OBJECTID)
      return UNSURE (b, "chunk item with objectid %" PRIu64, k->objectid);
    return add_chunk (b, k->offset, d, size);
  }
  if (k->type == DEV_ITEM_KEY) {
    if (size < 98)
      return UNSURE (b, "device item too short");
    b->ndevs++;
    if (k->objectid != DEV_ITEMS_OBJECTID || k->offset != b->devid ||
        le64 (d) != b->devid)
      return UNSURE (b, "device item for device %" PRIu64, k->offset);
    b->dev_total = le64 (d + 8);
    b->dev_used = le64 (d + 16);
  }
  return 0;
}

static int
read_chunk_tree (struct btrfs *b)
{
  struct root root = {
    .found = true,
    .bytenr = le64 (b->sb + 0x58),
    .level = b->sb[0xc7],
    .generation = le64 (b->sb + 0xa4),
  };
  int ret;

  ret = walk_tree (b, &root, NULL, chunk_tree_cb, NULL);
  if (ret != 0)
    return ret;
  if (b->ndevs != 1)
    return UNSURE (b, "%u device items", b->ndevs);
  /* Mount checks: the device holds what the superblock says, and the
   * filesystem is no smaller than its device.
   */
  if (b->dev_total > b->r->size)
    return UNSURE (b, "device total_bytes %" PRIu64 " beyond the device's "
                   "%" PRIu64 " bytes", b->dev_total, b->r->size);
  if (b->dev_used > b->dev_total)
    return UNSURE (b, "device bytes_used %" PRIu64 " > total_bytes %" PRIu64,
                   b->dev_used, b->dev_total);
  /* One device: the filesystem is that device (the kernel refuses
   * less; more would be inconsistent too).
   */
  if (b->total_bytes != b->dev_total)
    return UNSURE (b, "superblock total_bytes %" PRIu64 " is not the "
                   "device's %" PRIu64, b->total_bytes, b->dev_total);
  for (size_t i = 0; i < b->nchunks; ++i)
    for (unsigned s = 0; s < b->chunks[i].nstripes; ++s)
      if (b->chunks[i].phys[s] + b->chunks[i].length > b->dev_total)
        return UNSURE (b, "chunk at %" PRIu64 " beyond the device",
                       b->chunks[i].logical);
  return 0;
}

/* Root item fields: bytenr, generation, bytes_used, level. */
static int
parse_root_item (struct btrfs *b, const struct key *k, const unsigned char *d,
                 uint32_t size, struct root *root)
{
  if (size < 239)
    return UNSURE (b, "root item %" PRIu64 " too short", k->objectid);
  root->found = true;
  root->generation = le64 (d + 160);
  root->bytenr = le64 (d + 176);
  root->bytes_used = le64 (d + 192);
  root->level = d[238];
  if (root->level >= MAX_LEVEL)
    return UNSURE (b, "root %" PRIu64 ": level %u", k->objectid, root->level);
  return 0;
}

/* What the root tree tells: the global trees, the default subvolume,
 * and the subvolumes' back references.
 */
struct backref {
  uint64_t id, parent, dirid;
  char *name;
};

struct root_tree {
  struct root extent, csum, fst, fs;
  uint64_t default_subvol;
  bool want_refs;
  struct backref *refs;
  size_t nrefs;
};

static void
free_root_tree (struct root_tree *rt)
{
  size_t i;

  for (i = 0; i < rt->nrefs; ++i)
    free (rt->refs[i].name);
  free (rt->refs);
}

/* A name of a directory entry or subvolume as the tools print it. */
static int
check_name (struct btrfs *b, const unsigned char *name, size_t len)
{
  size_t i;

  if (len == 0 || len > 255)
    return UNSURE (b, "a name of %zu bytes", len);
  for (i = 0; i < len; ++i)
    if (name[i] == '/' || name[i] == '\0' || name[i] == '\n')
      return UNSURE (b, "a name with a '/', NUL or newline");
  if ((len == 1 && name[0] == '.') || (len == 2 && memcmp (name, "..", 2) == 0))
    return UNSURE (b, "a name '.' or '..'");
  return 0;
}

static int
root_tree_cb (struct btrfs *b, const struct key *k, const unsigned char *d,
              uint32_t size, void *opaque)
{
  struct root_tree *rt = opaque;

  if (k->type == ROOT_ITEM_KEY) {
    switch (k->objectid) {
    case EXTENT_TREE_OBJECTID:
      return parse_root_item (b, k, d, size, &rt->extent);
    case CSUM_TREE_OBJECTID:
      return parse_root_item (b, k, d, size, &rt->csum);
    case FREE_SPACE_TREE_OBJECTID:
      return parse_root_item (b, k, d, size, &rt->fst);
    case FS_TREE_OBJECTID:
      return parse_root_item (b, k, d, size, &rt->fs);
    }
    return 0;
  }
  if (k->objectid == BALANCE_OBJECTID && k->type == TEMPORARY_ITEM_KEY)
    return UNSURE (b, "a balance is in progress");
  if (k->objectid == ROOT_TREE_DIR_OBJECTID && k->type == DIR_ITEM_KEY) {
    /* The "default" entry names the subvolume mounted by default. */
    uint16_t data_len, name_len;

    if (size < 30)
      return UNSURE (b, "root tree dir item too short");
    data_len = le16 (d + 25);
    name_len = le16 (d + 27);
    if ((size_t) 30 + data_len + name_len != size)
      return UNSURE (b, "root tree dir item of bad size");
    if (name_len == 7 && memcmp (d + 30, "default", 7) == 0)
      rt->default_subvol = le64 (d);
    return 0;
  }
  if (k->type == ROOT_BACKREF_KEY && rt->want_refs &&
      k->objectid >= FIRST_FREE_OBJECTID && k->objectid <= LAST_FREE_OBJECTID) {
    struct backref *n;
    uint16_t name_len;
    int ret;

    if (size < 18)
      return UNSURE (b, "root backref too short");
    name_len = le16 (d + 16);
    if ((size_t) 18 + name_len != size)
      return UNSURE (b, "root backref of bad size");
    ret = check_name (b, d + 18, name_len);
    if (ret != 0)
      return ret;
    if (rt->nrefs >= 1000000)
      return UNSURE (b, "too many subvolumes");
    n = realloc (rt->refs, (rt->nrefs + 1) * sizeof *n);
    if (n == NULL) {
      perrorf (b->h, "realloc");
      return -1;
    }
    rt->refs = n;
    n = &rt->refs[rt->nrefs];
    n->id = k->objectid;
    n->parent = k->offset;
    n->dirid = le64 (d);
    n->name = strndup ((const char *) d + 18, name_len);
    if (n->name == NULL) {
      perrorf (b->h, "strndup");
      return -1;
    }
    rt->nrefs++;
  }
  return 0;
}

/* The root tree's root, from the superblock. */
static struct root
root_tree_root (const struct btrfs *b)
{
  return (struct root) {
    .found = true,
    .bytenr = le64 (b->sb + 0x50),
    .level = b->sb[0xc6],
    .generation = b->generation,
  };
}

static int
read_root_tree (struct btrfs *b, struct root_tree *rt)
{
  struct root root = root_tree_root (b);
  int ret;

  rt->default_subvol = FS_TREE_OBJECTID;
  ret = walk_tree (b, &root, NULL, root_tree_cb, rt);
  if (ret != 0)
    return ret;
  if (!rt->extent.found || !rt->fs.found)
    return UNSURE (b, "no extent tree or no top-level subvolume");
  if (!rt->csum.found)
    return UNSURE (b, "no checksum tree");
  if ((b->compat_ro & COMPAT_RO_FREE_SPACE_TREE) && !rt->fst.found)
    return UNSURE (b, "no free space tree");
  return 0;
}

/* Open: superblock, chunk map, chunk tree, root tree. */
static int
open_btrfs (struct btrfs *b, gk_h *h, const struct gk_reader *r,
            char **why_rtn, struct root_tree *rt)
{
  int ret;

  memset (b, 0, sizeof *b);
  b->h = h;
  b->r = r;
  b->why = why_rtn;
  ret = read_super (b);
  if (ret == 0)
    ret = read_sys_chunk_array (b);
  if (ret == 0)
    ret = read_chunk_tree (b);
  if (ret == 0)
    ret = read_root_tree (b, rt);
  return ret;
}

/* Find a subvolume's root item (the first with its objectid). */
struct root_lookup {
  uint64_t id;
  struct root root;
};

static int
root_item_cb (struct btrfs *b, const struct key *k, const unsigned char *d,
              uint32_t size, void *opaque)
{
  struct root_lookup *l = opaque;

  if (k->objectid != l->id || k->type != ROOT_ITEM_KEY)
    return 1;
  int ret = parse_root_item (b, k, d, size, &l->root);

  return ret != 0 ? ret : 1;
}

/* Look up the block group item of a chunk in the extent tree. */
struct bg_lookup {
  const struct chunk *c;
  bool found;
  uint64_t used, flags;
};

static int
bg_cb (struct btrfs *b, const struct key *k, const unsigned char *d,
       uint32_t size, void *opaque)
{
  struct bg_lookup *l = opaque;

  if (k->objectid != l->c->logical || k->type != BLOCK_GROUP_ITEM_KEY ||
      k->offset != l->c->length)
    return 1;
  if (size != 24)
    return UNSURE (b, "block group item of %" PRIu32 " bytes", size);
  l->found = true;
  l->used = le64 (d);
  l->flags = le64 (d + 16);
  return 1;
}

/* A space info: one per block group type. */
struct space {
  uint64_t disk_total, disk_used;
  uint64_t profiles;          /* the profile bits met, BG_DUP or 1 for single */
};

static int
add_u64 (struct btrfs *b, uint64_t *sum, uint64_t x)
{
  if (__builtin_add_overflow (*sum, x, sum))
    return UNSURE (b, "space accounting overflows");
  return 0;
}

int
gk_native_btrfs_statvfs (gk_h *h, const struct gk_reader *r,
                         struct gk_statvfs *st, char **why_rtn)
{
  struct btrfs bb, *b = &bb;
  struct root_tree rt = { 0 };
  struct space space[8] = { { 0 } };
  uint64_t total_used = 0, total_free_data = 0, factor = 1;
  uint64_t rsv, min_items, delayed_items, avail, min_stripe, blocks, bfree, bavail, used;
  uint32_t fsid0, fsid1;
  unsigned bits = 12;                    /* log2 of sectorsize 4096 */
  size_t i;
  int ret, t;

  ret = open_btrfs (b, h, r, why_rtn, &rt);
  if (ret != 0)
    goto out;

  /* The space infos, from every chunk's block group. */
  for (i = 0; i < b->nchunks; ++i) {
    const struct chunk *c = &b->chunks[i];
    struct key min = { c->logical, BLOCK_GROUP_ITEM_KEY, c->length };
    struct bg_lookup l = { .c = c };
    uint64_t copies = c->nstripes, len, use;

    ret = walk_tree (b, &rt.extent, &min, bg_cb, &l);
    if (ret != 0)
      goto out;
    if (!l.found) {
      ret = UNSURE (b, "chunk at %" PRIu64 " has no block group item",
                    c->logical);
      goto out;
    }
    if (l.flags != c->type || l.used > c->length) {
      ret = UNSURE (b, "block group at %" PRIu64 " does not match its chunk",
                    c->logical);
      goto out;
    }
    t = c->type & BG_TYPE_MASK;
    if (__builtin_mul_overflow (c->length, copies, &len)) {
      ret = UNSURE (b, "chunk at %" PRIu64 " too long", c->logical);
      goto out;
    }
    use = l.used * copies;              /* used <= length */
    if ((ret = add_u64 (b, &space[t].disk_total, len)) != 0 ||
        (ret = add_u64 (b, &space[t].disk_used, use)) != 0)
      goto out;
    space[t].profiles |= (c->type & BG_DUP) ? BG_DUP : 1;
  }

  /* Mixed block groups: all data and metadata share DATA|METADATA ones
   * (the superblock flag says so); we do not handle a mixture.
   */
  if (space[BG_DATA|BG_METADATA].profiles != 0 &&
      (space[BG_DATA].profiles != 0 || space[BG_METADATA].profiles != 0)) {
    ret = UNSURE (b, "mixed and separate block groups");
    goto out;
  }
  if (!(b->incompat & INCOMPAT_MIXED_GROUPS) !=
      !space[BG_DATA|BG_METADATA].profiles) {
    ret = UNSURE (b, "mixed block groups do not match the feature flag");
    goto out;
  }
  for (t = 0; t < 8; ++t) {
    /* Two profiles for one type: the mount marks the unmirrored block
     * groups read-only (btrfs_read_block_groups), which changes the
     * counts: not handled.
     */
    if (space[t].profiles == (BG_DUP | 1)) {
      ret = UNSURE (b, "block groups of type %d with two profiles", t);
      goto out;
    }
    if ((ret = add_u64 (b, &total_used, space[t].disk_used)) != 0)
      goto out;
    if (t & BG_DATA) {
      total_free_data += space[t].disk_total - space[t].disk_used;
      if (space[t].profiles == BG_DUP)
        factor = 2;
    }
  }

  /* The global block reserve, as the mount sizes it
   * (btrfs_update_global_block_rsv, in Debian's 6.1 with the stable
   * backport that added the delayed refs of an unlink): the used bytes
   * of the extent, checksum and free space trees (the root tree's own
   * root item is not on disk: 0), but at least the metadata for
   * inserting 1 + those trees + 6 (an unlink) items, plus the delayed
   * refs of the unlink's 6 items, twice that with the free space tree;
   * at most 512 MiB.  An item's insertion costs 2 * BTRFS_MAX_LEVEL
   * nodes.
   */
  rsv = 0;
  min_items = 1 + 6;
  if ((ret = add_u64 (b, &rsv, rt.extent.bytes_used)) != 0 ||
      (ret = add_u64 (b, &rsv, rt.csum.bytes_used)) != 0)
    goto out;
  min_items += 2;
  delayed_items = 6;
  if (b->compat_ro & COMPAT_RO_FREE_SPACE_TREE) {
    if ((ret = add_u64 (b, &rsv, rt.fst.bytes_used)) != 0)
      goto out;
    min_items++;
    delayed_items *= 2;
  }
  if (rsv < (uint64_t) b->nodesize * MAX_LEVEL * 2 * (min_items + delayed_items))
    rsv = (uint64_t) b->nodesize * MAX_LEVEL * 2 * (min_items + delayed_items);
  if (rsv > 512 * 1024 * 1024)
    rsv = 512 * 1024 * 1024;

  /* The mount opens the default subvolume: it must exist. */
  if (rt.default_subvol != FS_TREE_OBJECTID) {
    struct root_lookup l = { .id = rt.default_subvol };
    struct key min = { rt.default_subvol, ROOT_ITEM_KEY, 0 };

    {
      struct root rtr = root_tree_root (b);

      ret = walk_tree (b, &rtr, &min, root_item_cb, &l);
    }
    if (ret != 0)
      goto out;
    if (!l.root.found) {
      ret = UNSURE (b, "no default subvolume %" PRIu64, rt.default_subvol);
      goto out;
    }
  }

  /* btrfs_statfs. */
  blocks = (b->total_bytes / factor) >> bits;
  used = (total_used / factor) >> bits;
  if (used > blocks) {
    ret = UNSURE (b, "more bytes used than the filesystem has");
    goto out;
  }
  bfree = blocks - used;
  if (bfree >= rsv >> bits)
    bfree -= rsv >> bits;
  else
    bfree = 0;

  /* Unallocated space usable for data (btrfs_calc_avail_data_space),
   * one device: what is free of it, in whole stripes, less 1 MiB kept
   * free, if more than a stripe of the data profile is left.
   */
  min_stripe = (space[BG_DATA].profiles | space[BG_DATA|BG_METADATA].profiles)
    == BG_DUP ? 2 * STRIPE_LEN : STRIPE_LEN;
  avail = (b->dev_total - b->dev_used) / STRIPE_LEN * STRIPE_LEN;
  if (avail <= 1024 * 1024 + min_stripe)
    avail = 0;
  else
    avail -= 1024 * 1024;
  bavail = ((total_free_data / factor) + avail / factor) >> bits;
  /* (The kernel also says 0 when metadata is full and chunks cannot be
   * allocated: never so right after a mount.)
   */

  memset (st, 0, sizeof *st);
  st->bsize = b->sectorsize;
  st->frsize = b->sectorsize;
  st->blocks = blocks;
  st->bfree = bfree;
  st->bavail = bavail;
  st->files = st->ffree = st->favail = 0;
  /* The kernel folds the fsid's four big-endian words and the mounted
   * (default) subvolume's ID into two, which glibc joins.
   */
  fsid0 = be32 (b->sb + 0x20) ^ be32 (b->sb + 0x28);
  fsid1 = be32 (b->sb + 0x24) ^ be32 (b->sb + 0x2c);
  fsid0 ^= (uint32_t) (rt.default_subvol >> 32);
  fsid1 ^= (uint32_t) rt.default_subvol;
  st->fsid = (int64_t) (fsid0 | (uint64_t) fsid1 << 32);
  st->flag = 4097;                      /* ST_RDONLY | ST_RELATIME */
  st->namemax = 255;
  ret = 0;

 out:
  free (b->chunks);
  free_root_tree (&rt);
  return ret;
}

/* The path of directory dirid inside tree root, from its root directory:
 * INODE_REF items up to FIRST_FREE_OBJECTID.  *path_rtn is "" for the
 * root directory itself, else "a/b/" (with the trailing slash).
 */
struct ref_lookup {
  uint64_t ino;
  bool found;
  uint64_t parent;
  char name[256];
};

static int
inode_ref_cb (struct btrfs *b, const struct key *k, const unsigned char *d,
              uint32_t size, void *opaque)
{
  struct ref_lookup *l = opaque;
  uint16_t name_len;
  int ret;

  if (k->objectid != l->ino || k->type != INODE_REF_KEY)
    return 1;
  if (size < 10)
    return UNSURE (b, "inode ref too short");
  name_len = le16 (d + 8);
  /* A directory has one name: one ref. */
  if ((size_t) 10 + name_len != size)
    return UNSURE (b, "directory %" PRIu64 " has several names", l->ino);
  ret = check_name (b, d + 10, name_len);
  if (ret != 0)
    return ret;
  memcpy (l->name, d + 10, name_len);
  l->name[name_len] = '\0';
  l->parent = k->offset;
  l->found = true;
  return 1;
}

static int
dir_path (struct btrfs *b, const struct root *root, uint64_t dirid,
          char **path_rtn)
{
  char *path = strdup (""), *n;
  unsigned depth = 0;
  int ret;

  if (path == NULL) {
    perrorf (b->h, "strdup");
    return -1;
  }
  while (dirid != FIRST_FREE_OBJECTID) {
    struct key min = { dirid, INODE_REF_KEY, 0 };
    struct ref_lookup l = { .ino = dirid };

    if (++depth > 2048) {
      free (path);
      return UNSURE (b, "directory %" PRIu64 " too deep", dirid);
    }
    ret = walk_tree (b, root, &min, inode_ref_cb, &l);
    if (ret == 0 && !l.found)
      ret = UNSURE (b, "no name for directory %" PRIu64, dirid);
    if (ret == 0 && l.parent == dirid)
      ret = UNSURE (b, "directory %" PRIu64 " is its own parent", dirid);
    if (ret == 0 && strlen (path) + strlen (l.name) + 2 > 4096)
      ret = UNSURE (b, "path too long");
    if (ret != 0) {
      free (path);
      return ret;
    }
    if (asprintf (&n, "%s/%s", l.name, path) == -1) {
      perrorf (b->h, "asprintf");
      free (path);
      return -1;
    }
    free (path);
    path = n;
    dirid = l.parent;
  }
  *path_rtn = path;
  return 0;
}

static int
cmp_backref (const void *a, const void *b)
{
  const struct backref *x = a, *y = b;

  return x->id < y->id ? -1 : x->id > y->id;
}

int
gk_native_btrfs_subvolumes (gk_h *h, const struct gk_reader *r,
                            char ***paths_rtn, char **why_rtn)
{
  struct btrfs bb, *b = &bb;
  struct root_tree rt = { .want_refs = true };
  struct root rtr;
  char **paths = NULL;
  size_t i;
  int ret;

  ret = open_btrfs (b, h, r, why_rtn, &rt);
  if (ret != 0)
    goto out;
  /* With another default subvolume, the tools list paths relative to
   * it and leave it out: not handled.
   */
  if (rt.default_subvol != FS_TREE_OBJECTID) {
    ret = UNSURE (b, "the default subvolume is %" PRIu64 ", not the top "
                  "level", rt.default_subvol);
    goto out;
  }
  rtr = root_tree_root (b);

  /* One back reference per subvolume (the root tree's keys are unique
   * and sorted, so two for one ID would be two parents).
   */
  if (rt.nrefs > 0)
    qsort (rt.refs, rt.nrefs, sizeof rt.refs[0], cmp_backref);
  for (i = 1; i < rt.nrefs; ++i)
    if (rt.refs[i].id == rt.refs[i - 1].id) {
      ret = UNSURE (b, "subvolume %" PRIu64 " has two parents", rt.refs[i].id);
      goto out;
    }

  paths = calloc (rt.nrefs + 1, sizeof *paths);
  if (paths == NULL) {
    perrorf (h, "calloc");
    ret = -1;
    goto out;
  }
  for (i = 0; i < rt.nrefs; ++i) {
    /* Its full path: up through the parents to the top level, each
     * level's name prefixed with the path of its directory.
     */
    char *path = strdup (""), *n;
    const struct backref *ref = &rt.refs[i];
    unsigned depth = 0;

    if (path == NULL) {
      perrorf (h, "strdup");
      ret = -1;
      goto out;
    }
    for (;;) {
      struct root_lookup l = { .id = ref->parent };
      struct key min = { ref->parent, ROOT_ITEM_KEY, 0 };
      char *dir = NULL;
      struct backref key, *up;

      if (++depth > 2048) {
        ret = UNSURE (b, "subvolume %" PRIu64 " nested too deep", ref->id);
        break;
      }
      ret = walk_tree (b, &rtr, &min, root_item_cb, &l);
      if (ret == 0 && !l.root.found)
        ret = UNSURE (b, "subvolume %" PRIu64 " has no root item",
                      ref->parent);
      if (ret == 0)
        ret = dir_path (b, &l.root, ref->dirid, &dir);
      if (ret == 0 && strlen (path) + strlen (dir) + strlen (ref->name) + 2 > 4096)
        ret = UNSURE (b, "path too long");
      if (ret != 0) {
        free (dir);
        break;
      }
      if (asprintf (&n, "%s%s%s%s", dir, ref->name, *path ? "/" : "",
                    path) == -1) {
        perrorf (h, "asprintf");
        free (dir);
        ret = -1;
        break;
      }
      free (dir);
      free (path);
      path = n;
      if (ref->parent == FS_TREE_OBJECTID)
        break;
      key.id = ref->parent;
      up = bsearch (&key, rt.refs, rt.nrefs, sizeof rt.refs[0], cmp_backref);
      if (up == NULL) {
        ret = UNSURE (b, "subvolume %" PRIu64 " is not reachable from the "
                      "top level", ref->parent);
        break;
      }
      ref = up;
    }
    if (ret != 0) {
      free (path);
      goto out;
    }
    paths[i] = path;
  }
  /* The default subvolume is the top level (checked), which is not
   * listed: nothing to leave out.
   */

  *paths_rtn = paths;
  paths = NULL;
  ret = 0;

 out:
  if (paths) {
    for (i = 0; i < rt.nrefs; ++i)
      free (paths[i]);
    free (paths);
  }
  free (b->chunks);
  free_root_tree (&rt);
  return ret;
}
