/* libguestkit native engine: what a device holds, and the dispatch to
 * each filesystem's statvfs (see fs.h).
 *
 * The probe looks for the signatures blkid looks for, at the same
 * offsets, and names them as blkid does.  A device on which it finds
 * the signatures of two different things is "unsure" (blkid itself then
 * refuses to choose, and the appliance's answer is the one to show).
 * Signatures of things the native engine does not read (iso9660, jfs,
 * f2fs, ...) are recognised only to say "unsure", so that a filesystem
 * the appliance could mount is never dropped as "unknown".
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>

#include "fs.h"

#define MAX_PROBE (65536 + 4096)

/* ext2/3/4 feature bits, as blkid tells the three apart. */
#define EXT3_FEATURE_COMPAT_HAS_JOURNAL      0x0004
#define EXT3_FEATURE_INCOMPAT_JOURNAL_DEV    0x0008
#define EXT2_FEATURE_RO_COMPAT_SUPP          0x0007 /* sparse, large, btree */
#define EXT2_FEATURE_INCOMPAT_SUPP           0x0012 /* filetype, meta_bg */
#define EXT3_FEATURE_INCOMPAT_SUPP           0x0016 /* + recover */
#define EXT2_FLAGS_TEST_FILESYS              0x0004

static uint16_t le16 (const unsigned char *p) { return p[0] | p[1] << 8; }
static uint32_t
le32 (const unsigned char *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}

/* Read up to MAX_PROBE bytes from the start (less for a small device). */
static int
read_head (gk_h *h, const struct gk_reader *r, unsigned char *buf,
           size_t *len)
{
  *len = r->size < MAX_PROBE ? r->size : MAX_PROBE;
  memset (buf, 0, MAX_PROBE);
  return gk_reader_pread (h, r, buf, *len, 0);
}

static bool
at (const unsigned char *buf, size_t len, size_t off, const char *magic,
    size_t mlen)
{
  return off + mlen <= len && memcmp (buf + off, magic, mlen) == 0;
}

static const char *
ext_type (const unsigned char *sb)
{
  uint32_t compat = le32 (sb + 92), incompat = le32 (sb + 96);
  uint32_t ro_compat = le32 (sb + 100), flags = le32 (sb + 352);

  if (incompat & EXT3_FEATURE_INCOMPAT_JOURNAL_DEV)
    return "jbd";
  /* blkid: ext4dev only with the test flag; then ext4 for anything ext3
   * does not support, ext3 with a journal, else ext2.
   */
  if (flags & EXT2_FLAGS_TEST_FILESYS)
    return "ext4dev";
  if ((ro_compat & ~EXT2_FEATURE_RO_COMPAT_SUPP) ||
      (incompat & ~EXT3_FEATURE_INCOMPAT_SUPP))
    return "ext4";
  if (compat & EXT3_FEATURE_COMPAT_HAS_JOURNAL)
    return "ext3";
  if (incompat & ~EXT2_FEATURE_INCOMPAT_SUPP)
    return "ext4";  /* needs_recovery without a journal: as blkid */
  return "ext2";
}

/* A FAT boot sector, with the checks blkid's vfat probe makes before it
 * believes the media byte and the geometry.
 */
static bool
is_vfat (const unsigned char *b, size_t len)
{
  unsigned sector_size, cluster_size;

  if (len < 512)
    return false;
  if (!(at (b, len, 54, "FAT12   ", 8) || at (b, len, 54, "FAT16   ", 8) ||
        at (b, len, 54, "FAT     ", 8) || at (b, len, 82, "FAT32   ", 8) ||
        at (b, len, 3, "MSWIN", 5) || at (b, len, 3, "MSDOS", 5) ||
        at (b, len, 3, "mkfs.fat", 8) || at (b, len, 3, "mkdosfs", 7)))
    return false;
  if (b[21] < 0xf8 && b[21] != 0xf0)       /* media byte */
    return false;
  sector_size = le16 (b + 11);
  if (sector_size < 512 || sector_size > 4096 ||
      (sector_size & (sector_size - 1)))
    return false;
  cluster_size = b[13];
  if (cluster_size == 0 || (cluster_size & (cluster_size - 1)))
    return false;
  if (le16 (b + 14) == 0 || b[16] == 0)    /* reserved sectors, FATs */
    return false;
  return true;
}

struct sig { const char *type; bool native; };

int
gk_native_fs_probe (gk_h *h, const struct gk_reader *r,
                    const char **type_rtn, char **why_rtn)
{
  CLEANUP_FREE unsigned char *b = malloc (MAX_PROBE);
  const char *found[8];
  size_t len, n = 0, i;
  uint64_t end;

  if (b == NULL) {
    perrorf (h, "%s: probe", r->name);
    return -1;
  }
  if (read_head (h, r, b, &len) == -1)
    return -1;

#define FOUND(t) do { if (n < 8) found[n++] = (t); } while (0)
  /* Containers and things that are not filesystems. */
  if (at (b, len, 0, "LUKS\xba\xbe", 6))
    FOUND ("crypto_LUKS");
  for (i = 0; i < 4; ++i)
    if (at (b, len, i * 512, "LABELONE", 8) &&
        at (b, len, i * 512 + 24, "LVM2 001", 8))
      FOUND ("LVM2_member");
  if ((len >= 4 && le32 (b) == 0xa92b4efc) ||
      (len >= 4100 && le32 (b + 4096) == 0xa92b4efc))
    FOUND ("linux_raid_member");
  for (i = 4096; i <= 65536; i *= 2)
    if (at (b, len, i - 10, "SWAPSPACE2", 10) ||
        at (b, len, i - 10, "SWAP-SPACE", 10))
      FOUND ("swap");
    else if (at (b, len, i - 10, "S1SUSPEND", 9) ||
             at (b, len, i - 10, "S2SUSPEND", 9) ||
             at (b, len, i - 10, "ULSUSPEND", 9) ||
             at (b, len, i - 10, "LINHIB0001", 10))
      FOUND ("swsuspend");

  /* The filesystems the native engine reads. */
  if (len >= 1024 + 1024 && le16 (b + 1024 + 56) == 0xEF53)
    FOUND (ext_type (b + 1024));
  if (at (b, len, 0, "XFSB", 4))
    FOUND ("xfs");
  if (at (b, len, 65536 + 64, "_BHRfS_M", 8))
    FOUND ("btrfs");
  if (at (b, len, 3, "NTFS    ", 8))
    FOUND ("ntfs");
  else if (at (b, len, 3, "EXFAT   ", 8))
    FOUND ("exfat");
  else if (at (b, len, 3, "-FVE-FS-", 8))
    FOUND ("BitLocker");
  else if (is_vfat (b, len))
    FOUND ("vfat");

  /* Others, recognised only so as not to call them "unknown". */
  if (at (b, len, 32769, "CD001", 5))
    FOUND ("iso9660");
  if (at (b, len, 32769, "BEA01", 5) || at (b, len, 32769, "NSR02", 5) ||
      at (b, len, 32769, "NSR03", 5))
    FOUND ("udf");
  if (at (b, len, 0, "hsqs", 4) || at (b, len, 0, "sqsh", 4))
    FOUND ("squashfs");
  if (at (b, len, 32768, "JFS1", 4))
    FOUND ("jfs");
  if (at (b, len, 65536 + 52, "ReIsEr", 6) || at (b, len, 8192 + 52, "ReIsEr", 6))
    FOUND ("reiserfs");
  if (len >= 1028 && le32 (b + 1024) == 0xF2F52010)
    FOUND ("f2fs");
  if (len >= 1028 && le32 (b + 1024) == 0xE0F5E1E2)
    FOUND ("erofs");
  if (at (b, len, 1024, "H+", 2) || at (b, len, 1024, "HX", 2))
    FOUND ("hfsplus");
  if (len >= 1032 && le16 (b + 1024 + 6) == 0x3434)
    FOUND ("nilfs2");
  if (at (b, len, 4096 + 24, "\xc6\x85\x73\xf6\x4e\x1a\x45\xca", 8))
    FOUND ("bcache");
  if (at (b, len, 0, "-rom1fs-", 8))
    FOUND ("romfs");
  if (len >= 4 && le32 (b) == 0x28cd3d45)
    FOUND ("cramfs");

  /* Signatures at the end: md 0.90/1.0 superblocks. */
  if (r->size >= 131072) {
    unsigned char m[4];

    end = (r->size & ~(uint64_t) 65535) - 65536;
    if (gk_reader_pread (h, r, m, 4, end) == -1)
      return -1;
    if (le32 (m) == 0xa92b4efc)
      FOUND ("linux_raid_member");
    end = ((r->size - 8192) & ~(uint64_t) 4095);
    if (gk_reader_pread (h, r, m, 4, end) == -1)
      return -1;
    if (le32 (m) == 0xa92b4efc)
      FOUND ("linux_raid_member");
  }
#undef FOUND

  if (n == 0) {
    *type_rtn = "";
    return 0;
  }
  for (i = 1; i < n; ++i)
    if (strcmp (found[i], found[0]) != 0)
      return gk_int_native_unsure (h, why_rtn, "%s: signatures of both %s "
                                   "and %s", r->name, found[0], found[i]);
  *type_rtn = found[0];
  return 0;
}

int
gk_native_fs_statvfs (gk_h *h, const struct gk_reader *r, const char *type,
                      struct gk_statvfs *st, char **why_rtn)
{
  memset (st, 0, sizeof *st);
  if (strcmp (type, "ext2") == 0 || strcmp (type, "ext3") == 0 ||
      strcmp (type, "ext4") == 0)
    return gk_native_ext_statvfs (h, r, st, why_rtn);
  if (strcmp (type, "xfs") == 0)
    return gk_native_xfs_statvfs (h, r, st, why_rtn);
  if (strcmp (type, "btrfs") == 0)
    return gk_native_btrfs_statvfs (h, r, st, why_rtn);
  if (strcmp (type, "vfat") == 0)
    return gk_native_vfat_statvfs (h, r, st, why_rtn);
  if (strcmp (type, "ntfs") == 0)
    return gk_native_ntfs_statvfs (h, r, st, why_rtn);
  return gk_int_native_unsure (h, why_rtn, "%s: no native reader for %s",
                               r->name, type);
}
