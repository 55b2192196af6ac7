/* libguestkit native engine: vfat usage as statvfs(2) reports it (fs.h).
 *
 * What the appliance's kernel (6.1, fs/fat) says after "mount -o ro":
 *
 *   bsize = frsize   the cluster size (logical sector size * sectors per
 *                    cluster)
 *   blocks           max_cluster - 2: the data clusters, as the mount
 *                    computed them (see below: clamped by the FAT size)
 *   bfree = bavail   the FAT entries in [2, max_cluster) that are 0.
 *                    The kernel counts them by scanning the FAT at the
 *                    first statfs: it would only believe the FAT32 FSINFO
 *                    free count with the "usefree" mount option, which
 *                    the appliance does not give; so FSINFO's number is
 *                    never used here either.
 *   files, ffree     0 (FAT has no inode table)
 *   namemax          FAT_LFN_LEN (255) * NLS_MAX_CHARSET_SIZE (6) = 1530
 *                    for vfat (long names in UTF-8 can take 6 bytes per
 *                    UTF-16 unit in the kernel's reckoning)
 *   fsid             derived from the device number: 0 here
 *
 * The FAT type is the kernel's, not the label's: FAT32 when the 16-bit
 * FAT size field is 0 (and the 32-bit one is not), else FAT12 when the
 * cluster count (before the clamp to the FAT's size) is at most 4084,
 * else FAT16.  The mount's checks on the boot sector (fat_read_bpb and
 * fat_fill_super) are repeated, and a volume the kernel would refuse, or
 * whose FAT it could not read, is "unsure" (the appliance decides).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>
#include <inttypes.h>

#include "fs.h"

#define FAT_START_ENT 2
#define MAX_FAT12     0xFF4
#define MAX_FAT16     0xFFF4
#define MAX_FAT32     0x0FFFFFF6
#define BAD_FAT32     0x0FFFFFF7 /* this and above end a chain (kernel) */
#define FAT_LFN_LEN   255
#define NLS_MAX_CHARSET_SIZE 6

/* statvfs f_flag of a read-only mount in the appliance: ST_RDONLY and
 * ST_RELATIME (mount(8)'s default).
 */
#define RO_MOUNT_FLAGS (1 | 4096)

#define WINDOW 65536             /* bytes of the FAT read at a time */

static uint16_t le16 (const unsigned char *p) { return p[0] | p[1] << 8; }
static uint32_t
le32 (const unsigned char *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}

static bool is_pow2 (uint32_t x) { return x != 0 && (x & (x - 1)) == 0; }

/* Reading FAT entries through a window of the first FAT. */
struct fat {
  const struct gk_reader *r;
  unsigned bits;                 /* 12, 16, 32 */
  uint64_t start, end;           /* bytes of the first FAT that may be read */
  unsigned char *buf;
  uint64_t buf_off;              /* offset of buf[0]; buf_len valid bytes */
  size_t buf_len;
};

/* Entry e (the caller checked that its bytes lie in [start, end)). */
static int
fat_entry (gk_h *h, struct fat *f, uint32_t e, uint32_t *val)
{
  uint64_t off;
  size_t width = f->bits == 12 ? 2 : f->bits / 8;
  const unsigned char *p;

  if (f->bits == 12)
    off = f->start + e + e / 2;
  else
    off = f->start + (uint64_t) e * width;
  if (off < f->buf_off || off + width > f->buf_off + f->buf_len) {
    uint64_t n = f->end - off;

    if (n > WINDOW)
      n = WINDOW;
    if (n < width)               /* cannot happen: checked by the caller */
      return -1;
    if (gk_reader_pread (h, f->r, f->buf, n, off) == -1)
      return -1;
    f->buf_off = off;
    f->buf_len = n;
  }
  p = f->buf + (off - f->buf_off);
  switch (f->bits) {
  case 12:
    /* Two entries share three bytes: the odd one takes the high
     * nibble of the first byte and the whole second byte.
     */
    *val = e & 1 ? (p[0] >> 4) | (p[1] << 4) : p[0] | ((p[1] & 0x0f) << 8);
    break;
  case 16:
    *val = le16 (p);
    break;
  default:
    *val = le32 (p) & 0x0fffffff; /* the top four bits are reserved */
  }
  return 0;
}

int
gk_native_vfat_statvfs (gk_h *h, const struct gk_reader *r,
                        struct gk_statvfs *st, char **why_rtn)
{
  unsigned char b[512];
  CLEANUP_FREE unsigned char *window = NULL;
  uint32_t sector_size, spc, reserved, fats, dir_entries, sectors16;
  uint32_t fat_length16, total_sect, fat32_length, root_cluster;
  uint32_t info_sector, total_sectors, total_clusters, fat_clusters;
  uint32_t max_cluster, max_fat, bits, e, v, nfree;
  uint64_t fat_length, data_start, fat_bytes, need_end;
  bool fat32;
  struct fat f;

  /* fat_read_bpb: the kernel reads 512 bytes first. */
  if (r->size < 512)
    return gk_int_native_unsure (h, why_rtn, "%s: vfat: device too small "
                                 "for a boot sector", r->name);
  if (gk_reader_pread (h, r, b, 512, 0) == -1)
    return -1;
  sector_size = le16 (b + 11);
  spc = b[13];
  reserved = le16 (b + 14);
  fats = b[16];
  dir_entries = le16 (b + 17);
  sectors16 = le16 (b + 19);
  fat_length16 = le16 (b + 22);
  total_sect = le32 (b + 32);
  fat32_length = le32 (b + 36);
  root_cluster = le32 (b + 44);
  info_sector = le16 (b + 48);

  if (reserved == 0)
    return gk_int_native_unsure (h, why_rtn, "%s: vfat: no reserved sectors",
                                 r->name);
  if (fats == 0)
    return gk_int_native_unsure (h, why_rtn, "%s: vfat: no FAT", r->name);
  if (b[21] < 0xf8 && b[21] != 0xf0)
    return gk_int_native_unsure (h, why_rtn, "%s: vfat: invalid media byte "
                                 "0x%02x", r->name, b[21]);
  if (!is_pow2 (sector_size) || sector_size < 512 || sector_size > 4096)
    return gk_int_native_unsure (h, why_rtn, "%s: vfat: logical sector size "
                                 "%" PRIu32, r->name, sector_size);
  if (!is_pow2 (spc))
    return gk_int_native_unsure (h, why_rtn, "%s: vfat: %" PRIu32 " sectors "
                                 "per cluster", r->name, spc);
  if (fat_length16 == 0 && fat32_length == 0)
    return gk_int_native_unsure (h, why_rtn, "%s: vfat: FAT size is 0",
                                 r->name);
  /* The kernel then reads the boot sector again in logical sectors. */
  if (sector_size > r->size)
    return gk_int_native_unsure (h, why_rtn, "%s: vfat: device smaller than "
                                 "one logical sector", r->name);

  /* FAT32 is told by the 16-bit FAT size alone. */
  fat32 = fat_length16 == 0;
  fat_length = fat32 ? fat32_length : fat_length16;
  if (fat32) {
    /* The mount reads the FSINFO sector (sector 1 when the field is 0)
     * and fails if it cannot; what it holds does not matter here.
     */
    if (info_sector == 0)
      info_sector = 1;
    if ((uint64_t) (info_sector + 1) * sector_size > r->size)
      return gk_int_native_unsure (h, why_rtn, "%s: vfat: FSINFO sector %"
                                   PRIu32 " is beyond the end", r->name,
                                   info_sector);
  }

  if (dir_entries & (sector_size / 32 - 1))
    return gk_int_native_unsure (h, why_rtn, "%s: vfat: %" PRIu32 " root "
                                 "directory entries is not a whole number of "
                                 "sectors", r->name, dir_entries);
  data_start = reserved + (uint64_t) fats * fat_length +
    dir_entries * 32 / sector_size;
  total_sectors = sectors16 ? sectors16 : total_sect;
  if (data_start > total_sectors)
    return gk_int_native_unsure (h, why_rtn, "%s: vfat: data area starts "
                                 "beyond the last sector", r->name);
  total_clusters = (total_sectors - data_start) / spc;

  if (fat32)
    bits = 32;
  else
    bits = total_clusters > MAX_FAT12 ? 16 : 12;

  /* The cluster count is clamped to what the FAT can describe, in the
   * kernel's arithmetic: the entry count is truncated to 32 bits, and the
   * "- 2" wraps when the FAT holds fewer than two entries (then no
   * clamp).
   */
  if (bits == 12)
    fat_clusters = (uint32_t) (fat_length * sector_size * 8 / 12);
  else
    fat_clusters = (uint32_t) ((sector_size * 8 / bits) * fat_length);
  if (total_clusters > (uint32_t) (fat_clusters - FAT_START_ENT))
    total_clusters = fat_clusters - FAT_START_ENT;
  max_fat = bits == 32 ? MAX_FAT32 : bits == 16 ? MAX_FAT16 : MAX_FAT12;
  if (total_clusters > max_fat)
    return gk_int_native_unsure (h, why_rtn, "%s: vfat: too many clusters "
                                 "(%" PRIu32 ")", r->name, total_clusters);
  max_cluster = total_clusters + FAT_START_ENT;

  /* The entries [0, max_cluster) of the first FAT, in whole logical
   * sectors, must be on the device, or the kernel's statfs fails.
   */
  fat_bytes = bits == 12 ? ((uint64_t) max_cluster * 3 + 1) / 2
    : (uint64_t) max_cluster * (bits / 8);
  need_end = (uint64_t) reserved * sector_size + fat_bytes;
  need_end = (need_end + sector_size - 1) / sector_size * sector_size;
  if (need_end > r->size)
    return gk_int_native_unsure (h, why_rtn, "%s: vfat: the FAT is beyond "
                                 "the end of the device", r->name);

  window = malloc (WINDOW);
  if (window == NULL) {
    perrorf (h, "%s: vfat", r->name);
    return -1;
  }
  f.r = r;
  f.bits = bits;
  f.start = (uint64_t) reserved * sector_size;
  f.end = need_end;
  f.buf = window;
  f.buf_off = 0;
  f.buf_len = 0;

  /* The mount reads the FAT32 root directory's cluster chain to size it,
   * and fails on a bad one: a start outside [2, max_cluster), a free
   * entry or an out-of-range one in the chain, or a loop (the kernel
   * gives up after 4 GiB worth of clusters; a chain longer than the
   * number of clusters loops, so stopping there is the same verdict).
   */
  if (fat32 && root_cluster != 0) {
    uint64_t steps = 0;

    e = root_cluster;
    for (;;) {
      if (e < FAT_START_ENT || e >= max_cluster)
        return gk_int_native_unsure (h, why_rtn, "%s: vfat: invalid cluster "
                                     "%" PRIu32 " in the root directory",
                                     r->name, e);
      if (++steps > max_cluster)
        return gk_int_native_unsure (h, why_rtn, "%s: vfat: the root "
                                     "directory's cluster chain loops",
                                     r->name);
      if (fat_entry (h, &f, e, &v) == -1)
        return -1;
      if (v >= BAD_FAT32)
        break;
      if (v == 0)
        return gk_int_native_unsure (h, why_rtn, "%s: vfat: the root "
                                     "directory's cluster chain reaches a "
                                     "free cluster", r->name);
      e = v;
    }
  }

  /* statfs: count the free entries. */
  nfree = 0;
  for (e = FAT_START_ENT; e < max_cluster; ++e) {
    if (fat_entry (h, &f, e, &v) == -1)
      return -1;
    if (v == 0)
      nfree++;
  }

  st->bsize = st->frsize = (int64_t) sector_size * spc;
  st->blocks = max_cluster - FAT_START_ENT;
  st->bfree = st->bavail = nfree;
  st->files = st->ffree = st->favail = 0;
  st->fsid = 0;                  /* from the device number: not ours */
  st->flag = RO_MOUNT_FLAGS;
  st->namemax = FAT_LFN_LEN * NLS_MAX_CHARSET_SIZE;
  return 0;
}
