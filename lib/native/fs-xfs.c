/* libguestkit native engine: xfs usage as statvfs(2) reports it (fs.h).
 *
 * What the appliance's kernel (Linux 6.1) reports after a read-only
 * mount, and where each number comes from (fs/xfs/xfs_super.c
 * xfs_fs_statfs, xfs_mount.c xfs_mountfs, libxfs/xfs_ag_resv.c):
 *
 *   bsize = frsize = sb_blocksize
 *   blocks = sb_dblocks - sb_logblocks (internal log; we only do those)
 *   bfree = bavail = fdblocks - (set_aside + allocbt_blks), at least 0
 *     fdblocks: the in-core free block counter.  After a clean unmount
 *       (an unmount record at the head of the log) the mount trusts the
 *       superblock's sb_fdblocks, sb_icount and sb_ifree as they are.
 *       A dirty log is replayed and the counters are then summed again
 *       from the AG headers: we do not replay logs, so that is "unsure".
 *     set_aside = 8 blocks per AG (AGFL refill + a bmap btree split).
 *     allocbt_blks = the non-root blocks of the free space btrees
 *       (agf_btreeblks, less the rmap btree's share) of every AG whose
 *       AGF the mount read.  A read-only mount makes no reserve pool and
 *       keeps no per-AG reservation, but it makes them for a moment
 *       around log recovery (xfs_fs_reserve_ag_blocks), and that reads
 *       the AGF of every AG when the filesystem has a finobt, reflink or
 *       an rmap btree (a reservation is asked).  Without any of them no
 *       AGF is read and nothing is subtracted.
 *   files = max(min(icount + (bfree << inopblog), 2^56 - 1, maxicount),
 *               sb_icount); maxicount from sb_imax_pct (0 = no limit)
 *   ffree = favail = files - (icount - ifree), at least 0
 *   namemax = 255; flag = what the read-only mount gives (ro, relatime)
 *   fsid: the kernel derives it from the device number, so it is 0 here
 *     (the test ignores it for xfs).
 *
 * Everything that could make the kernel do something else is "unsure":
 * a superblock its verifier would reject (bad CRC, bad geometry, unknown
 * feature bits, needsrepair), a block size over the page size (the mount
 * fails), a realtime section (statfs may report it), an external log, a
 * log we cannot prove clean, counters the mount would find insane and
 * recompute, AGF headers that look wrong, and a filesystem so full that
 * the temporary per-AG reservations could fail (which changes which AGFs
 * are read).
 */
#include <config.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

#define SB_MAGIC   0x58465342u  /* "XFSB" */
#define AGF_MAGIC  0x58414746u  /* "XAGF" */
#define LOG_MAGIC  0xFEEDBABEu  /* a log record header's first word */
#define BB         512          /* the log's basic block */

/* sb_versionnum */
#define V_NUMBITS      0x000f
#define V_SHAREDBIT    0x0200
#define V_LOGV2BIT     0x0400
#define V_EXTFLGBIT    0x1000
#define V_DIRV2BIT     0x2000
#define V_MOREBITSBIT  0x8000
/* sb_features2 */
#define V2_LAZYSBCOUNT 0x0002
#define V2_ATTR2       0x0008
#define V2_PROJID32    0x0080
#define V2_CRC         0x0100
#define V2_FTYPE       0x0200
#define V2_OKBITS (V2_LAZYSBCOUNT | V2_ATTR2 | V2_PROJID32 | V2_FTYPE)
/* v5 feature words: the bits Linux 6.1 knows */
#define RO_FINOBT      0x1
#define RO_RMAPBT      0x2
#define RO_REFLINK     0x4
#define RO_INOBTCNT    0x8
#define RO_ALL         0xf
#define IN_SPINODES    0x02
#define IN_META_UUID   0x04
#define IN_NEEDSREPAIR 0x10
#define IN_ALL         0x3f
#define LOGIN_ALL      0x1

/* The appliance's page size: a larger block size does not mount. */
#define PAGE_SIZE_BYTES 4096

static inline uint16_t be16 (const unsigned char *p)
{ return (uint16_t) (p[0] << 8 | p[1]); }
static inline uint32_t be32 (const unsigned char *p)
{ return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 |
    (uint32_t) p[2] << 8 | p[3]; }
static inline uint64_t be64 (const unsigned char *p)
{ return (uint64_t) be32 (p) << 32 | be32 (p + 4); }
static inline uint32_t le32 (const unsigned char *p)
{ return (uint32_t) p[3] << 24 | (uint32_t) p[2] << 16 |
    (uint32_t) p[1] << 8 | p[0]; }

/* CRC-32C (Castagnoli), as v5 metadata stores it: over the whole
 * buffer with the 4-byte CRC field taken as zero.
 */
static uint32_t crc32c_skip (const unsigned char *buf, size_t len,
                             size_t crc_off);

/* Whether the CRC stored (little-endian) at crc_off is right.  A fuzzer
 * cannot fix CRCs up: a fuzzing build takes them all as right, so that
 * it reaches the code behind them.
 */
static bool
crc_ok (const unsigned char *buf, size_t len, size_t crc_off)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  (void) buf; (void) len; (void) crc_off;
  return true;
#else
  return crc32c_skip (buf, len, crc_off) == le32 (buf + crc_off);
#endif
}

static uint32_t
crc32c_skip (const unsigned char *buf, size_t len, size_t crc_off)
{
  static uint32_t table[256];
  static bool init;
  uint32_t crc = 0xffffffff;
  size_t i;

  if (!init) {
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? (c >> 1) ^ 0x82f63b78 : c >> 1;
      table[n] = c;
    }
    init = true;
  }
  for (i = 0; i < len; ++i) {
    unsigned char b = (i >= crc_off && i < crc_off + 4) ? 0 : buf[i];
    crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
  }
  return crc ^ 0xffffffff;
}

struct xfs_geo {
  uint32_t blocksize, agblocks, agcount, logblocks, inoalignmt;
  uint32_t ro_compat, incompat;
  uint64_t dblocks, logstart, icount, ifree, fdblocks;
  uint16_t sectsize, inodesize, inopblock, versionnum;
  uint8_t blocklog, agblklog, inopblog, imax_pct;
  bool v5, logv2;
  unsigned char uuid[16];        /* sb_uuid: the log carries it */
  unsigned char meta_uuid[16];   /* what AG headers carry */
};

/* Blocks in AG agno (the last one may be short). */
static uint64_t
ag_len (const struct xfs_geo *g, uint32_t agno)
{
  uint64_t start = (uint64_t) agno * g->agblocks;
  uint64_t left = g->dblocks - start;
  return left < g->agblocks ? left : g->agblocks;
}

/* Read and check the primary superblock as the kernel's verifier and
 * mount do.  0, -1 (read error) or GK_NATIVE_UNSURE.
 */
static int
read_sb (gk_h *h, const struct gk_reader *r, struct xfs_geo *g,
         char **why_rtn)
{
  unsigned char sb[512];
  uint32_t features2, compat, log_incompat, sb_agcount_calc;
  uint16_t sectsize;
  uint8_t sectlog, inodelog;

  if (r->size < sizeof sb)
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: device too small",
                                 r->name);
  if (gk_reader_pread (h, r, sb, sizeof sb, 0) == -1)
    return -1;
  if (be32 (sb) != SB_MAGIC)
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: bad superblock magic",
                                 r->name);

  memset (g, 0, sizeof *g);
  g->blocksize = be32 (sb + 4);
  g->dblocks = be64 (sb + 8);
  memcpy (g->uuid, sb + 32, 16);
  memcpy (g->meta_uuid, sb + 32, 16);
  g->logstart = be64 (sb + 48);
  g->agblocks = be32 (sb + 84);
  g->agcount = be32 (sb + 88);
  g->logblocks = be32 (sb + 96);
  g->versionnum = be16 (sb + 100);
  sectsize = be16 (sb + 102);
  g->inodesize = be16 (sb + 104);
  g->inopblock = be16 (sb + 106);
  g->blocklog = sb[120];
  sectlog = sb[121];
  inodelog = sb[122];
  g->inopblog = sb[123];
  g->agblklog = sb[124];
  g->imax_pct = sb[127];
  g->icount = be64 (sb + 128);
  g->ifree = be64 (sb + 136);
  g->fdblocks = be64 (sb + 144);
  g->inoalignmt = be32 (sb + 180);
  features2 = be32 (sb + 200);
  g->sectsize = sectsize;

  /* Versions and feature bits (xfs_sb_good_version and the feature
   * checks of xfs_validate_sb_read / xfs_finish_flags).
   */
  switch (g->versionnum & V_NUMBITS) {
  case 4:
    if ((g->versionnum & V_SHAREDBIT) ||
        ((g->versionnum & V_MOREBITSBIT) && (features2 & ~V2_OKBITS)) ||
        !(g->versionnum & V_DIRV2BIT) || !(g->versionnum & V_EXTFLGBIT))
      return gk_int_native_unsure (h, why_rtn,
                                   "%s: xfs: v4 feature bits 0x%x/0x%x",
                                   r->name, g->versionnum, features2);
    break;
  case 5:
    g->v5 = true;
    if ((g->versionnum & V_SHAREDBIT) || (features2 & ~(V2_OKBITS | V2_CRC)))
      return gk_int_native_unsure (h, why_rtn,
                                   "%s: xfs: v5 feature bits 0x%x/0x%x",
                                   r->name, g->versionnum, features2);
    break;
  default:
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: superblock version %u",
                                 r->name, g->versionnum & V_NUMBITS);
  }
  g->logv2 = g->v5 || (g->versionnum & V_LOGV2BIT);

  /* The sector first: the CRC covers a whole sector. */
  if (sectlog < 9 || sectlog > 15 || sectsize != (1u << sectlog))
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: bad sector size %u",
                                 r->name, sectsize);

  if (g->v5) {
    CLEANUP_FREE unsigned char *sec = NULL;

    if (r->size < sectsize)
      return gk_int_native_unsure (h, why_rtn, "%s: xfs: device too small",
                                   r->name);
    sec = malloc (sectsize);
    if (sec == NULL) {
      perrorf (h, "malloc");
      return -1;
    }
    if (gk_reader_pread (h, r, sec, sectsize, 0) == -1)
      return -1;
    if (!crc_ok (sec, sectsize, 224))
      return gk_int_native_unsure (h, why_rtn, "%s: xfs: superblock CRC "
                                   "mismatch", r->name);

    compat = be32 (sb + 208);
    g->ro_compat = be32 (sb + 212);
    g->incompat = be32 (sb + 216);
    log_incompat = be32 (sb + 220);
    /* Unknown bits: an unknown ro_compat bit still mounts read-only,
     * but we would not know what it changes.
     */
    if (compat != 0 || (g->ro_compat & ~RO_ALL) ||
        (g->incompat & ~IN_ALL) || (log_incompat & ~LOGIN_ALL))
      return gk_int_native_unsure (h, why_rtn,
                                   "%s: xfs: unknown feature bits "
                                   "(compat 0x%x, ro_compat 0x%x, "
                                   "incompat 0x%x, log_incompat 0x%x)",
                                   r->name, compat, g->ro_compat,
                                   g->incompat, log_incompat);
    if (g->incompat & IN_NEEDSREPAIR)
      return gk_int_native_unsure (h, why_rtn, "%s: xfs: needs repair",
                                   r->name);
    /* V5 filesystems need lazy counters; the kernel insists too. */
    if (!(features2 & V2_LAZYSBCOUNT))
      return gk_int_native_unsure (h, why_rtn, "%s: xfs: v5 without "
                                   "lazy counters", r->name);
    if (g->incompat & IN_META_UUID)
      memcpy (g->meta_uuid, sb + 248, 16);
  }

  /* Geometry (xfs_validate_sb_common). */
  if (g->blocklog < 9 || g->blocklog > 16 ||
      g->blocksize != (1u << g->blocklog) ||
      (g->v5 && g->blocksize < 1024))
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: bad block size %u",
                                 r->name, g->blocksize);
  /* (mkfs never makes a sector larger than a block; the AGF, one
   * sector in, then lies within the smallest AG.)
   */
  if (sectsize > g->blocksize)
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: sector size %u is "
                                 "over the block size", r->name, sectsize);
  if (g->blocksize > PAGE_SIZE_BYTES)
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: block size %u is over "
                                 "the page size: the kernel cannot mount it",
                                 r->name, g->blocksize);
  if (inodelog < 8 || inodelog > 11 || g->inodesize != (1u << inodelog) ||
      g->inodesize > g->blocksize ||
      g->inopblock != g->blocksize / g->inodesize ||
      g->inopblog != g->blocklog - inodelog)
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: bad inode size %u",
                                 r->name, g->inodesize);
  if (g->agblocks == 0 || g->agcount == 0 ||
      ((uint64_t) g->agblocks << g->blocklog) < (1ull << 24) ||
      ((uint64_t) g->agblocks << g->blocklog) > (1ull << 40) ||
      g->agblklog > 32 ||
      g->agblocks > (1ull << g->agblklog) ||
      (g->agblklog > 0 && g->agblocks <= (1ull << (g->agblklog - 1))))
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: bad AG size %u",
                                 r->name, g->agblocks);
  if (g->dblocks == 0 ||
      g->dblocks > (uint64_t) g->agcount * g->agblocks ||
      g->dblocks < (uint64_t) (g->agcount - 1) * g->agblocks + 64)
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: %" PRIu64 " blocks "
                                 "do not fit %u AGs of %u",
                                 r->name, g->dblocks, g->agcount, g->agblocks);
  sb_agcount_calc = (uint32_t) ((g->dblocks + g->agblocks - 1) / g->agblocks);
  if (sb_agcount_calc != g->agcount)
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: bad AG count %u",
                                 r->name, g->agcount);
  if (g->imax_pct > 100 || sb[126] /* sb_inprogress */ != 0 ||
      sb[179] /* sb_shared_vn */ != 0)
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: bad superblock "
                                 "(imax_pct, inprogress or shared_vn)",
                                 r->name);

  /* A realtime section: statfs reports it for realtime directories. */
  if (be64 (sb + 16) != 0 || be64 (sb + 24) != 0 || be32 (sb + 92) != 0)
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: realtime section",
                                 r->name);
  if (g->logstart == 0)
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: external log",
                                 r->name);
  if (g->logblocks < 64 || g->logblocks > 1024 * 1024 ||
      ((uint64_t) g->logblocks << g->blocklog) >
      2ull * 1024 * 1024 * 1024 - 10 * 1024 * 1024)
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: bad log size %u",
                                 r->name, g->logblocks);

  /* The mount reads the last block of the data section first. */
  if (g->dblocks > (r->size >> g->blocklog))
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: the device (%" PRIu64
                                 " bytes) is smaller than the filesystem",
                                 r->name, r->size);
  return 0;
}

/* ---- the log ---------------------------------------------------------- */

struct xlog {
  const struct gk_reader *r;
  uint64_t off;                 /* byte offset of the log */
  int64_t n;                    /* basic blocks */
};

/* The cycle number of basic block blk (a header carries it in its
 * second word).
 */
static int
log_cycle (gk_h *h, const struct xlog *l, int64_t blk, uint32_t *cycle)
{
  unsigned char w[8];

  if (gk_reader_pread (h, l->r, w, sizeof w, l->off + (uint64_t) blk * BB)
      == -1)
    return -1;
  *cycle = be32 (w) == LOG_MAGIC ? be32 (w + 4) : be32 (w);
  return 0;
}

/* Does any block in [start, start+count) carry cycle "bad"?  Reads in
 * chunks.  1 yes, 0 no, -1 error.
 */
static int
log_range_has_cycle (gk_h *h, const struct xlog *l, int64_t start,
                     int64_t count, uint32_t bad)
{
  enum { CHUNK = 128 };
  CLEANUP_FREE unsigned char *buf = malloc (CHUNK * BB);

  if (buf == NULL) {
    perrorf (h, "malloc");
    return -1;
  }
  while (count > 0) {
    int64_t k = count < CHUNK ? count : CHUNK;
    if (gk_reader_pread (h, l->r, buf, k * BB,
                         l->off + (uint64_t) start * BB) == -1)
      return -1;
    for (int64_t i = 0; i < k; ++i) {
      const unsigned char *p = buf + i * BB;
      uint32_t c = be32 (p) == LOG_MAGIC ? be32 (p + 4) : be32 (p);
      if (c == bad)
        return 1;
    }
    start += k;
    count -= k;
  }
  return 0;
}

/* The kernel's binary search (xlog_find_cycle_start): the first block
 * after first_blk whose cycle is "cycle", given that end_blk has it.
 */
static int
log_find_cycle_start (gk_h *h, const struct xlog *l, int64_t first_blk,
                      int64_t *end_blk, uint32_t cycle)
{
  int64_t end = *end_blk, mid = (first_blk + end) / 2;
  int guard = 0;

  while (mid != first_blk && mid != end) {
    uint32_t c;
    if (++guard > 80)           /* cannot happen: log2 of 2^37 blocks */
      break;
    if (log_cycle (h, l, mid, &c) == -1)
      return -1;
    if (c == cycle)
      end = mid;
    else
      first_blk = mid;
    mid = (first_blk + end) / 2;
  }
  *end_blk = end;
  return 0;
}

/* Whether the mount would find the log clean: 1 clean, 0 not (or not
 * provably: *why set), -1 read error.  We follow xlog_find_head and
 * xlog_find_tail, but where the kernel would move the head back over
 * torn or out-of-order writes we just say "not provably clean": a
 * cleanly unmounted log has none.
 */
static int
log_is_clean (gk_h *h, const struct gk_reader *r, const struct xfs_geo *g,
              const char **why)
{
  struct xlog l = { .r = r };
  uint64_t agno = g->logstart >> g->agblklog;
  uint64_t agbno = g->logstart & ((1ull << g->agblklog) - 1);
  /* How far back the kernel looks for out-of-order iclog writes, and
   * for the last record header.
   */
  int64_t total_shift = g->logv2 ? (8 << 18) / BB : (8 << 15) / BB;
  int64_t rec_shift = g->logv2 ? (1 << 18) / BB : (1 << 15) / BB;
  int64_t head, win, rec, hblks;
  uint32_t first, last, stop;
  unsigned char hdr[BB], op[BB];
  uint32_t h_len, h_size, h_version;
  int t;

  if (agno >= g->agcount || agbno + g->logblocks > ag_len (g, agno)) {
    *why = "the log is outside the data section";
    return 0;
  }
  l.off = ((agno * g->agblocks) + agbno) << g->blocklog;
  l.n = (int64_t) g->logblocks << (g->blocklog - 9);

  if (log_cycle (h, &l, 0, &first) == -1)
    return -1;
  if (first == 0) {
    *why = "the log is zeroed";
    return 0;
  }
  if (log_cycle (h, &l, l.n - 1, &last) == -1)
    return -1;

  if (last == 0) {
    /* Never wrapped (xlog_find_zeroed): the head is the first zeroed
     * block; blocks just before it must all have been written.
     */
    head = l.n - 1;
    if (log_find_cycle_start (h, &l, 0, &head, 0) == -1)
      return -1;
    win = head < total_shift ? head : total_shift;
    t = log_range_has_cycle (h, &l, head - win, win, 0);
    if (t == -1)
      return -1;
    if (t) {
      *why = "the log has holes before its head";
      return 0;
    }
  }
  else {
    win = l.n < total_shift ? l.n : total_shift;
    if (first == last) {
      /* Written all the way round in one cycle: the head is at the end. */
      head = l.n;
      stop = last - 1;
    }
    else {
      head = l.n - 1;
      stop = last;
      if (log_find_cycle_start (h, &l, 0, &head, last) == -1)
        return -1;
    }
    if (head >= win)
      t = log_range_has_cycle (h, &l, head - win, win, stop);
    else {
      t = log_range_has_cycle (h, &l, l.n - (win - head), win - head,
                               stop - 1);
      if (t == 0)
        t = log_range_has_cycle (h, &l, 0, head, stop);
    }
    if (t == -1)
      return -1;
    if (t) {
      *why = "the log has out-of-order writes before its head";
      return 0;
    }
  }
  if (head == l.n)
    head = 0;

  /* The last record header before the head (searching backwards, round
   * the end of the log): its first word is the magic number, which no
   * data block has (their first words are cycle numbers).
   */
  rec = -1;
  /* (a record: up to 8 header blocks and 256 KiB of data) */
  for (int64_t i = 1; i <= rec_shift + 8 && i <= l.n; ++i) {
    int64_t b = (head - i + l.n) % l.n;
    unsigned char w[4];
    if (gk_reader_pread (h, r, w, 4, l.off + (uint64_t) b * BB) == -1)
      return -1;
    if (be32 (w) == LOG_MAGIC) {
      rec = b;
      break;
    }
  }
  if (rec == -1) {
    *why = "no log record before the head";
    return 0;
  }
  if (gk_reader_pread (h, r, hdr, BB, l.off + (uint64_t) rec * BB) == -1)
    return -1;
  h_version = be32 (hdr + 8);
  h_len = be32 (hdr + 12);
  h_size = be32 (hdr + 320);
  if (h_len > 256 * 1024 || (h_version & ~3u) != 0 || h_version == 0) {
    *why = "a bad log record header";
    return 0;
  }
  hblks = 1;
  if (g->logv2 && (h_version & 2) && h_size > 32768) {
    if (h_size > 256 * 1024) {
      *why = "a bad log record header";
      return 0;
    }
    hblks = (h_size + 32767) / 32768;
  }
  /* The log must belong to this filesystem (xlog_header_check_mount). */
  {
    static const unsigned char nul[16];
    if (memcmp (hdr + 304, nul, 16) != 0 &&
        memcmp (hdr + 304, g->uuid, 16) != 0) {
      *why = "the log's UUID is not the filesystem's";
      return 0;
    }
  }

  /* xlog_check_unmount_rec: the record ends exactly at the head, holds
   * one operation, and that operation is the unmount record.
   */
  if ((rec + hblks + (h_len + BB - 1) / BB) % l.n != head ||
      be32 (hdr + 40) != 1) {
    *why = "the last log record is not an unmount record";
    return 0;
  }
  if (gk_reader_pread (h, r, op, BB,
                       l.off + (uint64_t) ((rec + hblks) % l.n) * BB) == -1)
    return -1;
  /* xlog_op_header: tid, len, clientid, flags */
  if (!(op[9] & 0x20)) {
    *why = "the last log record is not an unmount record";
    return 0;
  }
  return 1;
}

/* ---- AG headers ------------------------------------------------------- */

/* Blocks a btree of len records can need, with the given minimum
 * records per leaf and per node (xfs_btree_calc_size).
 */
static uint64_t
btree_size (uint64_t leaf_min, uint64_t node_min, uint64_t len)
{
  uint64_t per, total = 0;
  int levels = 0;

  if (leaf_min < 2)
    leaf_min = 2;
  if (node_min < 2)
    node_min = 2;
  per = leaf_min;
  while (len > 1 && levels++ < 64) {
    len = (len + per - 1) / per;
    per = node_min;
    total += len;
  }
  return total;
}

/* Read the AGFs the mount reads and add up what statfs subtracts.
 * *allocbt_rtn: the free space btrees' non-root blocks; *resv_rtn: an
 * upper bound of the per-AG reservations the mount makes for a moment.
 */
static int
read_agfs (gk_h *h, const struct gk_reader *r, const struct xfs_geo *g,
           uint64_t *allocbt_rtn, uint64_t *resv_rtn, char **why_rtn)
{
  CLEANUP_FREE unsigned char *agf = malloc (g->sectsize);
  uint64_t hdr = g->v5 ? 56 : 16;     /* short btree block header */
  uint64_t blen = g->blocksize - hdr;
  /* The agfl holds this many block numbers. */
  uint64_t agfl_size = g->v5 ? (g->sectsize - 36) / 4 : g->sectsize / 4;
  uint64_t allocbt = 0, resv = 0;

  if (agf == NULL) {
    perrorf (h, "malloc");
    return -1;
  }
  for (uint32_t agno = 0; agno < g->agcount; ++agno) {
    uint64_t len = ag_len (g, agno), eff = len;
    uint64_t finobt_ask = 0;
    bool read_agf;
    uint32_t btreeblks, rmapblks, freeblks, flcount;
    int64_t a;

    if (agno == (g->logstart >> g->agblklog))
      eff -= g->logblocks;      /* xfs_ag_contains_log */

    if (g->ro_compat & RO_FINOBT)
      finobt_ask = btree_size (blen / 16 / 2, blen / 8 / 2,
                               eff * g->inopblock / 64);
    read_agf = finobt_ask > 0 ||
      (g->ro_compat & (RO_REFLINK | RO_RMAPBT));
    /* A bound of what xfs_ag_resv_init asks (used for the ENOSPC
     * check): finobt, refcount btree (12-byte records), rmap btree
     * (24-byte records, 44-byte node entries, or 1% of the AG).
     */
    resv += finobt_ask;
    if (g->ro_compat & RO_REFLINK)
      resv += btree_size (blen / 12 / 2, blen / 8 / 2, eff);
    if (g->ro_compat & RO_RMAPBT) {
      uint64_t rm = btree_size (blen / 24 / 2, blen / 44 / 2, eff);
      resv += rm > eff / 100 ? rm : eff / 100;
    }
    if (!read_agf)
      continue;

    if (gk_reader_pread (h, r, agf, g->sectsize,
                         ((uint64_t) agno * g->agblocks << g->blocklog) +
                         g->sectsize) == -1)
      return -1;
    freeblks = be32 (agf + 52);
    flcount = be32 (agf + 48);
    btreeblks = be32 (agf + 60);
    rmapblks = be32 (agf + 80);
    if (be32 (agf) != AGF_MAGIC || be32 (agf + 4) != 1 ||
        be32 (agf + 8) != agno || be32 (agf + 12) != len ||
        freeblks > len || flcount > agfl_size || btreeblks > len ||
        be32 (agf + 40) >= agfl_size || be32 (agf + 44) >= agfl_size)
      return gk_int_native_unsure (h, why_rtn, "%s: xfs: AG %u: bad AGF",
                                   r->name, agno);
    if (g->v5 &&
        (!crc_ok (agf, g->sectsize, 216) ||
         memcmp (agf + 64, g->meta_uuid, 16) != 0))
      return gk_int_native_unsure (h, why_rtn, "%s: xfs: AG %u: AGF CRC "
                                   "or UUID mismatch", r->name, agno);

    /* xfs_alloc_read_agf: the rmap btree's blocks (less its root) are
     * in agf_btreeblks but reserved separately.
     */
    a = btreeblks;
    if (g->ro_compat & RO_RMAPBT) {
      if (rmapblks == 0 || rmapblks - 1 > btreeblks)
        return gk_int_native_unsure (h, why_rtn, "%s: xfs: AG %u: bad "
                                     "rmap btree block count", r->name, agno);
      a -= (int64_t) rmapblks - 1;
    }
    if (a > 0)
      allocbt += a;
  }
  *allocbt_rtn = allocbt;
  *resv_rtn = resv;
  return 0;
}

int
gk_native_xfs_statvfs (gk_h *h, const struct gk_reader *r,
                      struct gk_statvfs *st, char **why_rtn)
{
  struct xfs_geo g;
  const char *why = NULL;
  uint64_t allocbt = 0, resv = 0, set_aside, unavail, bfree, files, used;
  uint64_t maxicount = 0, maxinos, margin;
  int64_t ffree;
  int ret;

  ret = read_sb (h, r, &g, why_rtn);
  if (ret != 0)
    return ret;

  ret = log_is_clean (h, r, &g, &why);
  if (ret == -1)
    return -1;
  if (ret == 0)
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: the log is not "
                                 "provably clean (%s): the mount may "
                                 "replay it", r->name, why);

  /* xfs_check_summary_counts: counters that are obviously wrong are
   * recomputed from the AG headers.  The largest inode count the kernel
   * allows (xfs_icount_range) is a little under every AG's inodes;
   * between that and our bound we cannot tell, so we stay well below.
   */
  margin = 2 * (uint64_t) (g.inoalignmt ? g.inoalignmt : 1) +
    2 * (64 / g.inopblock + 1) + 8;
  maxinos = 0;
  for (uint32_t agno = 0; agno < g.agcount; ++agno) {
    uint64_t len = ag_len (&g, agno);
    if (len > margin)
      maxinos += (len - margin) << g.inopblog;
  }
  if (g.fdblocks > g.dblocks || g.ifree > g.icount || g.icount < 64 ||
      g.icount > maxinos)
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: the superblock "
                                 "counters are insane: the mount would "
                                 "recompute them", r->name);

  ret = read_agfs (h, r, &g, &allocbt, &resv, why_rtn);
  if (ret != 0)
    return ret;

  /* xfs_alloc_set_aside: 4 blocks to refill each AGFL + 4 for a bmap
   * btree split, per AG.
   */
  set_aside = (uint64_t) g.agcount * 8;
  unavail = set_aside + allocbt;
  /* The temporary reservations must all succeed, or the kernel skips
   * reading some AGFs: stay clear of a nearly full filesystem.
   */
  if (g.fdblocks < unavail + 2 * resv + 64)
    return gk_int_native_unsure (h, why_rtn, "%s: xfs: nearly full: the "
                                 "mount's per-AG reservations could fail",
                                 r->name);

  bfree = g.fdblocks - unavail;

  /* xfs_ialloc_setup_geometry: inodes are allocated in chunks of at
   * least 64 inodes, at most imax_pct% of the blocks.
   */
  if (g.imax_pct) {
    uint64_t ialloc_inos = g.inopblock > 64 ? g.inopblock : 64;
    uint64_t ialloc_blks = ialloc_inos >> g.inopblog;
    if (ialloc_blks) {
      uint64_t ic = g.dblocks * g.imax_pct / 100 / ialloc_blks;
      maxicount = (ic * ialloc_blks) << g.inopblog;
    }
  }

  files = g.icount + (bfree << g.inopblog);
  if (files > (1ull << 56) - 1)
    files = (1ull << 56) - 1;
  if (maxicount && files > maxicount)
    files = maxicount;
  if (files < g.icount)
    files = g.icount;
  used = g.icount - g.ifree;
  ffree = (int64_t) files - (int64_t) used;
  if (ffree < 0)
    ffree = 0;

  st->bsize = g.blocksize;
  st->frsize = g.blocksize;
  st->blocks = g.dblocks - g.logblocks;
  st->bfree = bfree;
  st->bavail = bfree;
  st->files = files;
  st->ffree = ffree;
  st->favail = ffree;
  /* The kernel's fsid is the device number: not ours to know. */
  st->fsid = 0;
  st->flag = 4097;              /* ST_RDONLY | ST_RELATIME */
  st->namemax = 255;
  return 0;
}
