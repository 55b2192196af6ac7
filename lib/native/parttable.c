/* libguestkit native engine: MBR and GPT partition tables (see parttable.h).
 *
 * The aim is the partitions Linux would create (block/partitions/efi.c
 * and msdos.c), because the appliance's device names are Linux's: GPT is
 * read only behind a protective (or hybrid) MBR, logical partitions are
 * numbered from 5 in EBR chain order, an extended partition shows as a
 * 1 KiB device.  What Linux would read with yet another parser (BSD,
 * Solaris, Minix and UnixWare slices inside MBR partitions, Apple maps)
 * is "unsure": the appliance handles it.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <errno.h>
#include <inttypes.h>
#include <zlib.h>

#include "parttable.h"

/* Linux's limit on partitions per disk (DISK_MAX_PARTS). */
#define MAX_PARTITIONS 256
/* EBRs followed in one extended partition before giving up. */
#define MAX_EBRS 256
/* The largest GPT entry array read (the spec's minimum is 16 KiB). */
#define MAX_GPT_ARRAY (4 * 1024 * 1024)

DEFINE_VECTOR_TYPE (partition_vector, struct gk_partition);

static inline uint16_t
le16 (const uint8_t *p)
{
  return p[0] | p[1] << 8;
}

static inline uint32_t
le32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
    (uint32_t) p[3] << 24;
}

static inline uint64_t
le64 (const uint8_t *p)
{
  return le32 (p) | (uint64_t) le32 (p + 4) << 32;
}

/* Say why we are unsure (debug line and *why_rtn). */
static int __attribute__ ((format (printf, 3, 4)))
unsure (gk_h *h, char **why_rtn, const char *fs, ...)
{
  va_list args;
  char *why;

  va_start (args, fs);
  if (vasprintf (&why, fs, args) == -1)
    why = NULL;
  va_end (args);
  debug (h, "native: partitions: unsure: %s", why ? why : fs);
  if (why_rtn)
    *why_rtn = why;
  else
    free (why);
  return GK_NATIVE_UNSURE;
}

void
gk_native_guid_to_string (const uint8_t g[16], char out[37])
{
  snprintf (out, 37,
            "%08" PRIX32 "-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
            le32 (g), le16 (g + 4), le16 (g + 6), g[8], g[9],
            g[10], g[11], g[12], g[13], g[14], g[15]);
}

static void
put_utf8 (char **p, uint32_t c)
{
  char *s = *p;

  if (c < 0x80)
    *s++ = c;
  else if (c < 0x800) {
    *s++ = 0xc0 | (c >> 6);
    *s++ = 0x80 | (c & 0x3f);
  }
  else if (c < 0x10000) {
    *s++ = 0xe0 | (c >> 12);
    *s++ = 0x80 | ((c >> 6) & 0x3f);
    *s++ = 0x80 | (c & 0x3f);
  }
  else {
    *s++ = 0xf0 | (c >> 18);
    *s++ = 0x80 | ((c >> 12) & 0x3f);
    *s++ = 0x80 | ((c >> 6) & 0x3f);
    *s++ = 0x80 | (c & 0x3f);
  }
  *p = s;
}

/* The GPT entry name: 36 UTF-16LE code units, NUL-terminated when
 * shorter.  Unpaired surrogates become U+FFFD.
 */
static char *
utf16le_to_utf8 (const uint8_t *in, size_t units)
{
  char *out = malloc (units * 3 + 1);  /* a pair (2 units) takes 4 bytes */
  char *p = out;
  size_t i;

  if (out == NULL)
    return NULL;
  for (i = 0; i < units; i++) {
    uint32_t c = le16 (in + 2*i);

    if (c == 0)
      break;
    if (c >= 0xd800 && c < 0xdc00 && i+1 < units) {
      uint32_t lo = le16 (in + 2*i + 2);
      if (lo >= 0xdc00 && lo < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
      else
        c = 0xfffd;
    }
    else if (c >= 0xd800 && c < 0xe000)
      c = 0xfffd;
    put_utf8 (&p, c);
  }
  *p = '\0';
  return out;
}

static void
free_partition (struct gk_partition *p)
{
  gk_reader_close (&p->reader);
  free (p->reader_name);
  free (p->name);
}

void
gk_native_free_partitions (struct gk_partition *parts, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    free_partition (&parts[i]);
  free (parts);
}

/* Add *p (its number, start, size and type filled in) with a reader of
 * reader_size bytes.  *p's name is owned by the vector from here on.
 */
static int
add_partition (gk_h *h, partition_vector *v, const struct gk_reader *disk,
               struct gk_partition *p, uint64_t reader_size, char **why_rtn)
{
  if (p->start > disk->size || p->size > disk->size - p->start) {
    free (p->name);
    return unsure (h, why_rtn, "%s: partition %d (%" PRIu64 " bytes at %"
                   PRIu64 ") goes beyond the end of the disk (%" PRIu64
                   " bytes)", disk->name, p->number, p->size, p->start,
                   disk->size);
  }
  if (v->len >= MAX_PARTITIONS || p->number > MAX_PARTITIONS - 1) {
    free (p->name);
    return unsure (h, why_rtn, "%s: more partitions than Linux creates (%d)",
                   disk->name, MAX_PARTITIONS - 1);
  }
  if (asprintf (&p->reader_name, "%s partition %d", disk->name,
                p->number) == -1) {
    perrorf (h, "asprintf");
    free (p->name);
    return -1;
  }
  if (gk_reader_slice (h, &p->reader, disk, p->start, reader_size,
                       p->reader_name) == -1) {
    free (p->reader_name);
    free (p->name);
    return -1;
  }
  if (partition_vector_append (v, *p) == -1) {
    perrorf (h, "realloc");
    free_partition (p);
    return -1;
  }
  debug (h, "native: %s: partition %d: start %" PRIu64 " size %" PRIu64
         " type %s%s%02x%s%s", disk->name, p->number, p->start, p->size,
         p->gpt ? p->type_guid : "", p->gpt ? "" : "0x",
         p->gpt ? 0 : p->mbr_type, p->name ? " name " : "",
         p->name ? p->name : "");
  return 0;
}

/*----------------------------------------------------------------------
 * GPT
 */

/* Read and check the GPT header at lba and its entry array.  1 and the
 * array in *entries_rtn (malloc'd) when valid; 0 when not, with the
 * reason in *bad (static string); -1 on an I/O error.
 */
static int
gpt_load (gk_h *h, const struct gk_reader *disk, unsigned ss, uint64_t lba,
          uint8_t *hdr, uint8_t **entries_rtn, const char **bad)
{
  uint64_t last_lba = disk->size / ss - 1;
  uint32_t hsize, crc, nent, esize;
  uint64_t array_lba, array_size;
  uint8_t *entries;

  *entries_rtn = NULL;
  if (disk->size / ss < 3 || lba > last_lba) {
    *bad = "the disk is too small for it";
    return 0;
  }
  if (gk_reader_pread (h, disk, hdr, ss, lba * ss) == -1)
    return -1;
  if (memcmp (hdr, "EFI PART", 8) != 0) {
    *bad = "no \"EFI PART\" signature";
    return 0;
  }
  hsize = le32 (hdr + 12);
  if (hsize < 92 || hsize > ss) {
    *bad = "bad header size";
    return 0;
  }
  crc = le32 (hdr + 16);
  memset (hdr + 16, 0, 4);
  if (crc32 (0, hdr, hsize) != crc) {
    *bad = "bad header CRC";
    return 0;
  }
  if (le64 (hdr + 24) != lba) {
    *bad = "the header's own LBA is wrong";
    return 0;
  }
  if (le64 (hdr + 40) > le64 (hdr + 48) || le64 (hdr + 48) > last_lba) {
    *bad = "bad usable LBA range";
    return 0;
  }
  array_lba = le64 (hdr + 72);
  nent = le32 (hdr + 80);
  esize = le32 (hdr + 84);
  if (esize < 128 || esize > 4096 || esize % 128 != 0) {
    *bad = "bad partition entry size";
    return 0;
  }
  array_size = (uint64_t) nent * esize;   /* < 2^44: no overflow */
  if (array_size > MAX_GPT_ARRAY) {
    *bad = "partition entry array too large";
    return 0;
  }
  if (array_lba > last_lba ||
      array_size > disk->size - array_lba * ss) {
    *bad = "partition entry array beyond the end of the disk";
    return 0;
  }
  entries = malloc (array_size ? array_size : 1);
  if (entries == NULL) {
    perrorf (h, "malloc");
    return -1;
  }
  if (gk_reader_pread (h, disk, entries, array_size, array_lba * ss) == -1) {
    free (entries);
    return -1;
  }
  if (crc32 (0, entries, array_size) != le32 (hdr + 88)) {
    free (entries);
    *bad = "bad partition entry array CRC";
    return 0;
  }
  *entries_rtn = entries;
  return 1;
}

/* Find a valid GPT with sector size ss: the primary header, else the
 * backup at the last LBA.  1, 0 (neither valid: *bad_primary and
 * *bad_backup say why) or -1.
 */
static int
gpt_find (gk_h *h, const struct gk_reader *disk, unsigned ss, uint8_t *hdr,
          uint8_t **entries_rtn, const char **bad_primary,
          const char **bad_backup)
{
  uint64_t last_lba;
  int r;

  r = gpt_load (h, disk, ss, 1, hdr, entries_rtn, bad_primary);
  if (r != 0)
    return r;
  if (disk->size / ss < 3) {
    *bad_backup = *bad_primary;
    return 0;
  }
  last_lba = disk->size / ss - 1;
  r = gpt_load (h, disk, ss, last_lba, hdr, entries_rtn, bad_backup);
  if (r == 1)
    debug (h, "native: %s: primary GPT header (%u-byte sectors) is invalid "
           "(%s): using the backup header at LBA %" PRIu64,
           disk->name, ss, *bad_primary, last_lba);
  return r;
}

static int
read_gpt (gk_h *h, const struct gk_reader *disk, unsigned sector_size,
          bool as_linux, partition_vector *v, char **why_rtn)
{
  static const uint8_t zero_guid[16];
  const unsigned sizes[] = { 512, 4096 };
  CLEANUP_FREE uint8_t *hdr = malloc (4096);
  CLEANUP_FREE uint8_t *entries = NULL;
  const char *bad[2][2] = { { "not tried", "not tried" },
                            { "not tried", "not tried" } };
  unsigned ss = 0;
  uint32_t nent, esize, i;
  uint64_t first_usable, last_usable;
  size_t k;
  int r;

  if (hdr == NULL) {
    perrorf (h, "malloc");
    return -1;
  }
  /* Linux reads the primary header only, with the device's own sector
   * size: the backup is used only with "gpt" on its command line, and a
   * protective MBR without a valid GPT gives no partitions at all (the
   * msdos parser stops at the 0xee entry).
   */
  if (as_linux) {
    const char *why = "?";

    ss = sector_size ? sector_size : 512;
    r = gpt_load (h, disk, ss, 1, hdr, &entries, &why);
    if (r == -1)
      return -1;
    if (r == 0) {
      debug (h, "native: %s: primary GPT header is invalid (%s): Linux "
             "then shows no partitions", disk->name, why);
      return 0;
    }
  }
  for (k = 0; !as_linux && k < sizeof sizes / sizeof sizes[0]; k++) {
    if (sector_size != 0 && sizes[k] != sector_size)
      continue;
    r = gpt_find (h, disk, sizes[k], hdr, &entries, &bad[k][0], &bad[k][1]);
    if (r == -1)
      return -1;
    if (r == 1) {
      ss = sizes[k];
      break;
    }
    debug (h, "native: %s: no valid GPT with %u-byte sectors: primary: %s; "
           "backup: %s", disk->name, sizes[k], bad[k][0], bad[k][1]);
  }
  if (ss == 0) {
    if (sector_size == 0)
      error (h, "%s: protective MBR but no valid GPT header (512-byte "
             "sectors: primary: %s, backup: %s; 4096-byte sectors: primary: "
             "%s, backup: %s)", disk->name, bad[0][0], bad[0][1], bad[1][0],
             bad[1][1]);
    else
      error (h, "%s: protective MBR but no valid GPT header with %u-byte "
             "sectors (primary: %s, backup: %s)", disk->name, sector_size,
             bad[sector_size == 512 ? 0 : 1][0],
             bad[sector_size == 512 ? 0 : 1][1]);
    return -1;
  }

  first_usable = le64 (hdr + 40);
  last_usable = le64 (hdr + 48);
  nent = le32 (hdr + 80);
  esize = le32 (hdr + 84);
  for (i = 0; i < nent; i++) {
    const uint8_t *e = entries + (size_t) i * esize;
    struct gk_partition p = { .gpt = true };
    uint64_t first = le64 (e + 32), last = le64 (e + 40);

    if (memcmp (e, zero_guid, 16) == 0)
      continue;
    p.number = i + 1;
    if (first > last || first < first_usable || last > last_usable)
      return unsure (h, why_rtn, "%s: GPT partition %d (LBA %" PRIu64 "-%"
                     PRIu64 ") is outside the usable LBAs %" PRIu64 "-%"
                     PRIu64, disk->name, p.number, first, last,
                     first_usable, last_usable);
    p.start = first * ss;
    p.size = (last - first + 1) * ss;
    gk_native_guid_to_string (e, p.type_guid);
    gk_native_guid_to_string (e + 16, p.part_guid);
    p.name = utf16le_to_utf8 (e + 56, 36);
    if (p.name == NULL) {
      perrorf (h, "malloc");
      return -1;
    }
    r = add_partition (h, v, disk, &p, p.size, why_rtn);
    if (r != 0)
      return r;
  }
  debug (h, "native: %s: GPT with %u-byte sectors, %zu partitions",
         disk->name, ss, v->len);
  return 0;
}

/*----------------------------------------------------------------------
 * MBR
 */

struct mbr_entry {
  uint8_t boot, type;
  uint32_t start, count;
};

static void
mbr_entries (const uint8_t *sector, struct mbr_entry e[4])
{
  size_t i;

  for (i = 0; i < 4; i++) {
    const uint8_t *p = sector + 446 + 16*i;
    e[i].boot = p[0];
    e[i].type = p[4];
    e[i].start = le32 (p + 8);
    e[i].count = le32 (p + 12);
  }
}

static bool
is_extended (uint8_t type)
{
  return type == 0x05 || type == 0x0f || type == 0x85;
}

/* Follow the EBR chain of the extended partition at first (bytes). */
static int
parse_extended (gk_h *h, const struct gk_reader *disk, unsigned ss,
                uint64_t first, uint64_t first_size, partition_vector *v,
                int *next_number, char **why_rtn)
{
  uint64_t visited[MAX_EBRS];
  size_t nvisited = 0, i, j;
  uint64_t this = first, this_size = first_size;
  uint8_t sector[512];
  struct mbr_entry e[4];
  int r;

  for (;;) {
    for (j = 0; j < nvisited; j++) {
      if (visited[j] == this) {
        error (h, "%s: loop in the chain of extended boot records (EBR at "
               "byte %" PRIu64 " is linked twice)", disk->name, this);
        return -1;
      }
    }
    if (nvisited == MAX_EBRS) {
      error (h, "%s: more than %d extended boot records", disk->name,
             MAX_EBRS);
      return -1;
    }
    visited[nvisited++] = this;
    if (this > disk->size || disk->size - this < 512)
      return unsure (h, why_rtn, "%s: extended boot record at byte %" PRIu64
                     " is beyond the end of the disk", disk->name, this);
    if (gk_reader_pread (h, disk, sector, 512, this) == -1)
      return -1;
    if (sector[510] != 0x55 || sector[511] != 0xaa)
      return 0;                 /* Linux stops there too */
    mbr_entries (sector, e);

    /* The data partitions: usually the first entry only.  Entries 3 and
     * 4 are taken only when they fit (they may hold garbage).
     */
    for (i = 0; i < 4; i++) {
      struct gk_partition p = { .gpt = false };
      uint64_t offs = (uint64_t) e[i].start * ss;
      uint64_t size = (uint64_t) e[i].count * ss;

      if (e[i].count == 0 || is_extended (e[i].type))
        continue;
      if (i >= 2 &&
          (offs + size > this_size || this + offs + size > first + first_size))
        continue;
      p.number = (*next_number)++;
      p.start = this + offs;
      p.size = size;
      p.mbr_type = e[i].type;
      r = add_partition (h, v, disk, &p, size, why_rtn);
      if (r != 0)
        return r;
    }

    /* The link to the next EBR, relative to the extended partition. */
    for (i = 0; i < 4; i++)
      if (e[i].count != 0 && is_extended (e[i].type))
        break;
    if (i == 4)
      return 0;
    this = first + (uint64_t) e[i].start * ss;
    this_size = (uint64_t) e[i].count * ss;
  }
}

static int
read_mbr (gk_h *h, const struct gk_reader *disk, unsigned ss,
          const uint8_t *sector, partition_vector *v, char **why_rtn)
{
  struct mbr_entry e[4];
  int next_number = 5;
  size_t i;
  int r;

  mbr_entries (sector, e);

  /* A FAT or NTFS boot sector also ends in 55 AA: like Linux, take the
   * sector as a partition table only if every boot flag is 0 or 0x80.
   */
  for (i = 0; i < 4; i++) {
    if (e[i].boot != 0 && e[i].boot != 0x80) {
      debug (h, "native: %s: boot sector without a partition table "
             "(boot flag 0x%02x)", disk->name, e[i].boot);
      return 0;
    }
  }

  for (i = 0; i < 4; i++) {
    struct gk_partition p = { .gpt = false };
    uint8_t t = e[i].type;

    if (e[i].count == 0)
      continue;
    switch (t) {
    case 0xa5: case 0xa6: case 0xa9: case 0xb7:
      return unsure (h, why_rtn, "%s: partition %zu holds a BSD disklabel "
                     "(type 0x%02x)", disk->name, i+1, t);
    case 0x63: case 0x81: case 0xbf:
      return unsure (h, why_rtn, "%s: partition %zu has type 0x%02x "
                     "(UnixWare, Minix or Solaris slices)", disk->name,
                     i+1, t);
    }
    p.number = i + 1;
    p.start = (uint64_t) e[i].start * ss;
    p.size = (uint64_t) e[i].count * ss;
    p.mbr_type = t;
    p.extended = is_extended (t);
    /* Linux exposes an extended partition as 2 sectors of 512 bytes,
     * or one sector when they are larger.
     */
    r = add_partition (h, v, disk, &p,
                       p.extended && p.size > (ss > 1024 ? ss : 1024)
                       ? (ss > 1024 ? ss : 1024) : p.size, why_rtn);
    if (r != 0)
      return r;
    if (p.extended) {
      r = parse_extended (h, disk, ss, p.start, p.size, v, &next_number,
                          why_rtn);
      if (r != 0)
        return r;
    }
    else if (t == 0x82) {
      /* 0x82 is Linux swap, or a Solaris x86 slice table (VTOC with
       * magic 0x600DDEEE in the partition's second sector).
       */
      uint8_t vtoc[512];

      if (p.size >= 2 * 512 &&
          gk_reader_pread (h, disk, vtoc, 512, p.start + 512) == 0 &&
          le32 (vtoc + 12) == 0x600DDEEE)
        return unsure (h, why_rtn, "%s: partition %zu holds Solaris x86 "
                       "slices", disk->name, i+1);
    }
  }
  debug (h, "native: %s: MBR with %zu partitions", disk->name, v->len);
  return 0;
}

static int
compare_numbers (const void *a, const void *b)
{
  const struct gk_partition *pa = a, *pb = b;

  return pa->number - pb->number;
}

int
gk_native_partitions (gk_h *h, const struct gk_reader *disk,
                      unsigned sector_size, struct gk_partition **parts_rtn,
                      size_t *n_rtn, char **why_rtn)
{
  return gk_native_partitions_flags (h, disk, sector_size, 0, parts_rtn,
                                     n_rtn, why_rtn);
}

int
gk_native_partitions_flags (gk_h *h, const struct gk_reader *disk,
                            unsigned sector_size, unsigned flags,
                            struct gk_partition **parts_rtn, size_t *n_rtn,
                            char **why_rtn)
{
  const bool as_linux = flags & GK_NATIVE_PARTS_AS_LINUX;
  partition_vector v = empty_vector;
  uint8_t sector[1024];
  struct mbr_entry e[4];
  bool protective = false;
  size_t i;
  int r;

  *parts_rtn = NULL;
  *n_rtn = 0;
  if (why_rtn)
    *why_rtn = NULL;
  if (sector_size != 0 && sector_size != 512 && sector_size != 4096) {
    error (h, "%s: unsupported sector size %u", disk->name, sector_size);
    return -1;
  }
  if (disk->size < 512) {
    debug (h, "native: %s: smaller than a sector: no partition table",
           disk->name);
    return 0;
  }
  if (gk_reader_pread (h, disk, sector, disk->size >= 1024 ? 1024 : 512,
                       0) == -1)
    return -1;
  if (disk->size >= 1024 && memcmp (sector, "ER", 2) == 0 &&
      memcmp (sector + 512, "PM", 2) == 0)
    return unsure (h, why_rtn, "%s: Apple partition map", disk->name);

  if (sector[510] != 0x55 || sector[511] != 0xaa) {
    if (disk->size >= 1024 && memcmp (sector + 512, "EFI PART", 8) == 0)
      return unsure (h, why_rtn, "%s: GPT header without a protective MBR",
                     disk->name);
    debug (h, "native: %s: no partition table", disk->name);
    return 0;
  }

  mbr_entries (sector, e);
  for (i = 0; i < 4; i++)
    if (e[i].type == 0xee && e[i].count != 0)
      protective = true;
  /* A hybrid MBR (0xee beside other partitions): GPT wins, as in Linux. */
  if (protective)
    r = read_gpt (h, disk, sector_size, as_linux, &v, why_rtn);
  else
    r = read_mbr (h, disk, sector_size ? sector_size : 512, sector, &v,
                  why_rtn);
  if (r != 0) {
    gk_native_free_partitions (v.ptr, v.len);
    return r;
  }
  if (v.len > 0)
    qsort (v.ptr, v.len, sizeof v.ptr[0], compare_numbers);
  *parts_rtn = v.ptr;
  *n_rtn = v.len;
  return 0;
}
