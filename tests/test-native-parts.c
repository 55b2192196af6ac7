/* Unit tests for the native engine's partition tables and LVM2 readers,
 * over disks built in memory.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <zlib.h>
#include <check.h>

#include "run-suite.h"

#include "internal.h"
#include "native/reader.h"
#include "native/parttable.h"
#include "native/lvm2.h"

#define MiB (1024 * 1024)

static gk_h *
quiet_handle (void)
{
  gk_h *h = gk_create ();

  ck_assert_ptr_nonnull (h);
  gk_set_error_handler (h, NULL, NULL);
  return h;
}

static void
put16 (uint8_t *p, uint16_t v)
{
  p[0] = v;
  p[1] = v >> 8;
}

static void
put32 (uint8_t *p, uint32_t v)
{
  put16 (p, v);
  put16 (p + 2, v >> 16);
}

static void
put64 (uint8_t *p, uint64_t v)
{
  put32 (p, v);
  put32 (p + 4, v >> 32);
}

static void
mbr_entry (uint8_t *sector, int slot, uint8_t type, uint32_t start,
           uint32_t count)
{
  uint8_t *e = sector + 446 + 16 * slot;

  e[4] = type;
  put32 (e + 8, start);
  put32 (e + 12, count);
  sector[510] = 0x55;
  sector[511] = 0xaa;
}

/* Run gk_native_partitions and return its result.  The partitions'
 * readers read through the disk's: it outlives them.
 */
static struct gk_reader test_disk;

static int
parts_of (gk_h *h, const uint8_t *disk, size_t size, unsigned ss,
          struct gk_partition **parts, size_t *n, char **why)
{
  gk_reader_from_memory (&test_disk, disk, size, "test.img");
  return gk_native_partitions (h, &test_disk, ss, parts, n, why);
}

START_TEST (test_mbr_primaries)
{
  gk_h *h = quiet_handle ();
  uint8_t *disk = calloc (1, 8 * MiB);
  struct gk_partition *p;
  size_t n;
  char buf[4];

  mbr_entry (disk, 0, 0x83, 2048, 2048);
  mbr_entry (disk, 1, 0x82, 4096, 2048);
  mbr_entry (disk, 2, 0x07, 6144, 2048);
  mbr_entry (disk, 3, 0x0c, 8192, 8192);
  memcpy (disk + 6144 * 512, "ntfs", 4);
  ck_assert_int_eq (parts_of (h, disk, 8 * MiB, 0, &p, &n, NULL), 0);
  ck_assert_uint_eq (n, 4);
  ck_assert_int_eq (p[0].number, 1);
  ck_assert_int_eq (p[3].number, 4);
  ck_assert_uint_eq (p[1].start, 4096 * 512);
  ck_assert_uint_eq (p[3].size, 8192 * 512);
  ck_assert_uint_eq (p[2].mbr_type, 0x07);
  ck_assert (!p[0].gpt);
  ck_assert_ptr_null (p[0].name);
  ck_assert_int_eq (gk_reader_pread (h, &p[2].reader, buf, 4, 0), 0);
  ck_assert (memcmp (buf, "ntfs", 4) == 0);
  /* A partition's reader stops at its end. */
  ck_assert_int_eq (gk_reader_pread (h, &p[2].reader, buf, 4,
                                     2048 * 512 - 2), -1);
  gk_native_free_partitions (p, n);

  /* Past the end of the disk: unsure. */
  {
    char *why = NULL;
    mbr_entry (disk, 3, 0x83, 8192, 100000);
    ck_assert_int_eq (parts_of (h, disk, 8 * MiB, 0, &p, &n, &why),
                      GK_NATIVE_UNSURE);
    ck_assert_ptr_nonnull (strstr (why, "beyond the end"));
    free (why);
  }
  /* A BSD disklabel partition: unsure. */
  {
    char *why = NULL;
    mbr_entry (disk, 3, 0xa5, 8192, 8192);
    ck_assert_int_eq (parts_of (h, disk, 8 * MiB, 0, &p, &n, &why),
                      GK_NATIVE_UNSURE);
    ck_assert_ptr_nonnull (strstr (why, "BSD"));
    free (why);
  }
  /* A FAT boot sector (boot flags are not 0/0x80), no table: nothing. */
  memset (disk, 0, 512);
  disk[446] = 0x12;
  disk[510] = 0x55; disk[511] = 0xaa;
  ck_assert_int_eq (parts_of (h, disk, 8 * MiB, 0, &p, &n, NULL), 0);
  ck_assert_uint_eq (n, 0);
  ck_assert_ptr_null (p);
  /* Zeroes: no table. */
  memset (disk, 0, 512);
  ck_assert_int_eq (parts_of (h, disk, 8 * MiB, 0, &p, &n, NULL), 0);
  ck_assert_uint_eq (n, 0);
  /* Tiny disks. */
  ck_assert_int_eq (parts_of (h, disk, 100, 0, &p, &n, NULL), 0);
  ck_assert_uint_eq (n, 0);
  free (disk);
  gk_close (h);
}
END_TEST

START_TEST (test_mbr_logicals)
{
  gk_h *h = quiet_handle ();
  uint8_t *disk = calloc (1, 16 * MiB);
  const uint32_t ext = 8192, ext_len = 16 * 2048 - 8192;
  struct gk_partition *p;
  size_t n;

  mbr_entry (disk, 0, 0x83, 2048, 4096);
  mbr_entry (disk, 1, 0x0f, ext, ext_len);
  /* EBR 1 at the start of the extended partition, then 2 and 3. */
  mbr_entry (disk + ext * 512, 0, 0x83, 2048, 2048);
  mbr_entry (disk + ext * 512, 1, 0x05, 4096, 4096);
  mbr_entry (disk + (ext + 4096) * 512, 0, 0x82, 2048, 2048);
  mbr_entry (disk + (ext + 4096) * 512, 1, 0x05, 8192, 4096);
  mbr_entry (disk + (ext + 8192) * 512, 0, 0x8e, 2048, 2048);
  ck_assert_int_eq (parts_of (h, disk, 16 * MiB, 0, &p, &n, NULL), 0);
  ck_assert_uint_eq (n, 5);
  ck_assert_int_eq (p[0].number, 1);
  ck_assert_int_eq (p[1].number, 2);
  ck_assert (p[1].extended);
  ck_assert_uint_eq (p[1].size, (uint64_t) ext_len * 512);
  ck_assert_uint_eq (p[1].reader.size, 1024);   /* as Linux shows it */
  ck_assert_int_eq (p[2].number, 5);
  ck_assert_uint_eq (p[2].start, (uint64_t) (ext + 2048) * 512);
  ck_assert_int_eq (p[3].number, 6);
  ck_assert_uint_eq (p[3].start, (uint64_t) (ext + 4096 + 2048) * 512);
  ck_assert_uint_eq (p[3].mbr_type, 0x82);
  ck_assert_int_eq (p[4].number, 7);
  ck_assert_uint_eq (p[4].start, (uint64_t) (ext + 8192 + 2048) * 512);
  ck_assert_uint_eq (p[4].size, 2048 * 512);
  gk_native_free_partitions (p, n);

  /* EBR 3 links back to EBR 1: an error, at once. */
  mbr_entry (disk + (ext + 8192) * 512, 1, 0x05, 0, 4096);
  ck_assert_int_eq (parts_of (h, disk, 16 * MiB, 0, &p, &n, NULL), -1);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "loop"));
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "test.img"));
  /* An EBR linking to itself. */
  mbr_entry (disk + ext * 512, 1, 0x05, 0, 4096);
  ck_assert_int_eq (parts_of (h, disk, 16 * MiB, 0, &p, &n, NULL), -1);
  /* An EBR past the end of the disk: unsure. */
  {
    char *why = NULL;
    mbr_entry (disk + ext * 512, 1, 0x05, 0x7fffffff, 4096);
    ck_assert_int_eq (parts_of (h, disk, 16 * MiB, 0, &p, &n, &why),
                      GK_NATIVE_UNSURE);
    free (why);
  }
  free (disk);
  gk_close (h);
}
END_TEST

/* GPT type GUIDs as on disk. */
static const uint8_t linux_fs_guid[16] = {
  0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
  0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4
};

/* Write one GPT header (at lba, its entries at entries_lba). */
static void
gpt_header (uint8_t *disk, unsigned ss, uint64_t lba, uint64_t alt,
            uint64_t entries_lba, uint64_t last_lba, uint32_t nent)
{
  uint8_t *hd = disk + lba * ss;

  memset (hd, 0, ss);
  memcpy (hd, "EFI PART", 8);
  put32 (hd + 8, 0x10000);
  put32 (hd + 12, 92);
  put64 (hd + 24, lba);
  put64 (hd + 32, alt);
  put64 (hd + 40, 34);
  put64 (hd + 48, last_lba - 33);
  memset (hd + 56, 0x11, 16);
  put64 (hd + 72, entries_lba);
  put32 (hd + 80, nent);
  put32 (hd + 84, 128);
  put32 (hd + 88, crc32 (0, disk + entries_lba * ss, nent * 128));
  put32 (hd + 16, crc32 (0, hd, 92));
}

static void
gpt_fix_header_crc (uint8_t *disk, unsigned ss, uint64_t lba)
{
  uint8_t *hd = disk + lba * ss;

  put32 (hd + 16, 0);
  put32 (hd + 16, crc32 (0, hd, 92));
}

/* A GPT disk: protective MBR, entries 1 and 3 used. */
static uint8_t *
make_gpt (size_t size, unsigned ss)
{
  uint8_t *disk = calloc (1, size);
  uint64_t last = size / ss - 1;
  uint64_t backup_entries = last - 16384 / ss;
  uint8_t e[128 * 128] = { 0 };
  /* "été" in UTF-16LE and a name of 36 units with no NUL. */
  static const uint8_t name1[] = { 0xe9, 0, 't', 0, 0xe9, 0 };
  size_t i;

  mbr_entry (disk, 0, 0xee, 1, size / ss - 1 > 0xffffffff ? 0xffffffff
             : size / ss - 1);
  memcpy (e, linux_fs_guid, 16);
  memset (e + 16, 0xab, 16);
  put64 (e + 32, MiB / ss);
  put64 (e + 40, 2 * MiB / ss - 1);
  memcpy (e + 56, name1, sizeof name1);
  memcpy (e + 256, linux_fs_guid, 16);
  memset (e + 256 + 16, 0xcd, 16);
  put64 (e + 256 + 32, 2 * MiB / ss);
  put64 (e + 256 + 40, 3 * MiB / ss - 1);
  for (i = 0; i < 36; i++)
    put16 (e + 256 + 56 + 2*i, 'a' + i % 26);
  memcpy (disk + 2 * ss, e, sizeof e);
  memcpy (disk + backup_entries * ss, e, sizeof e);
  gpt_header (disk, ss, 1, last, 2, last, 128);
  gpt_header (disk, ss, last, 1, backup_entries, last, 128);
  memcpy (disk + MiB, "part one", 8);
  return disk;
}

static void
check_gpt (gk_h *h, const uint8_t *disk, size_t size, unsigned ss,
           unsigned ask)
{
  struct gk_partition *p;
  size_t n;
  char buf[8];

  ck_assert_int_eq (parts_of (h, disk, size, ask, &p, &n, NULL), 0);
  ck_assert_uint_eq (n, 2);
  ck_assert (p[0].gpt);
  ck_assert_int_eq (p[0].number, 1);
  ck_assert_int_eq (p[1].number, 3);
  ck_assert_uint_eq (p[0].start, MiB);
  ck_assert_uint_eq (p[0].size, MiB);
  ck_assert_uint_eq (p[1].start, 2 * MiB);
  ck_assert_str_eq (p[0].type_guid, "0FC63DAF-8483-4772-8E79-3D69D8477DE4");
  ck_assert_str_eq (p[0].part_guid, "ABABABAB-ABAB-ABAB-ABAB-ABABABABABAB");
  ck_assert_str_eq (p[0].name, "\xc3\xa9t\xc3\xa9");
  ck_assert_str_eq (p[1].name, "abcdefghijklmnopqrstuvwxyzabcdefghij");
  ck_assert_int_eq (gk_reader_pread (h, &p[0].reader, buf, 8, 0), 0);
  ck_assert (memcmp (buf, "part one", 8) == 0);
  gk_native_free_partitions (p, n);
  (void) ss;
}

START_TEST (test_gpt)
{
  gk_h *h = quiet_handle ();
  const size_t size = 8 * MiB;
  uint8_t *d512 = make_gpt (size, 512);
  uint8_t *d4k = make_gpt (size, 4096);
  struct gk_partition *p;
  size_t n;
  char *why = NULL;

  check_gpt (h, d512, size, 512, 0);
  check_gpt (h, d512, size, 512, 512);
  check_gpt (h, d4k, size, 4096, 0);
  check_gpt (h, d4k, size, 4096, 4096);
  /* The wrong sector size: no GPT found. */
  ck_assert_int_eq (parts_of (h, d4k, size, 512, &p, &n, NULL), -1);
  ck_assert_int_eq (parts_of (h, d512, size, 1000, &p, &n, NULL), -1);

  /* A hybrid MBR: GPT wins. */
  mbr_entry (d512, 1, 0x83, 2048, 2048);
  check_gpt (h, d512, size, 512, 0);

  /* Corrupt primary header: the backup is used. */
  d512[512 + 60] ^= 1;
  check_gpt (h, d512, size, 512, 0);
  /* Zeroed primary header too. */
  memset (d512 + 512, 0, 512);
  check_gpt (h, d512, size, 512, 0);
  /* Both corrupt: an error naming the disk and both reasons. */
  d512[size - 512 + 70] ^= 0x40;
  ck_assert_int_eq (parts_of (h, d512, size, 0, &p, &n, NULL), -1);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "test.img"));
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "bad header CRC"));
  free (d512);

  /* Corrupt primary entries: backup; both: an error. */
  d512 = make_gpt (size, 512);
  d512[2 * 512 + 40] ^= 0x80;
  check_gpt (h, d512, size, 512, 0);
  d512[size - 512 - 16384 + 40] ^= 0x80;
  ck_assert_int_eq (parts_of (h, d512, size, 0, &p, &n, NULL), -1);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "entry array CRC"));
  free (d512);

  /* Entry count * size overflows or is absurd (valid header CRC). */
  d512 = make_gpt (size, 512);
  put32 (d512 + 512 + 80, 0xffffffff);
  put32 (d512 + 512 + 84, 4096);
  gpt_fix_header_crc (d512, 512, 1);
  check_gpt (h, d512, size, 512, 0);
  put32 (d512 + size - 512 + 80, 0x80000000);
  put32 (d512 + size - 512 + 84, 128);
  gpt_fix_header_crc (d512, 512, size / 512 - 1);
  ck_assert_int_eq (parts_of (h, d512, size, 0, &p, &n, NULL), -1);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "too large"));
  free (d512);

  /* Truncated: the primary's usable range passes the end, no backup. */
  d512 = make_gpt (size, 512);
  ck_assert_int_eq (parts_of (h, d512, 4 * MiB, 0, &p, &n, NULL), -1);
  /* A partition outside the usable range: unsure. */
  put64 (d512 + 2 * 512 + 40, size / 512);
  put32 (d512 + 512 + 88, crc32 (0, d512 + 2 * 512, 128 * 128));
  gpt_fix_header_crc (d512, 512, 1);
  ck_assert_int_eq (parts_of (h, d512, size, 0, &p, &n, &why),
                    GK_NATIVE_UNSURE);
  ck_assert_ptr_nonnull (strstr (why, "partition 1"));
  free (why);
  why = NULL;

  /* A protective MBR with no GPT behind it: an error. */
  memset (d512 + 512, 0, 512);
  memset (d512 + size - 512, 0, 512);
  ck_assert_int_eq (parts_of (h, d512, size, 0, &p, &n, NULL), -1);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "protective MBR"));
  free (d512);

  /* A GPT without a protective MBR: unsure (Linux ignores it). */
  d512 = make_gpt (size, 512);
  memset (d512, 0, 512);
  ck_assert_int_eq (parts_of (h, d512, size, 0, &p, &n, &why),
                    GK_NATIVE_UNSURE);
  free (why);
  free (d512);
  free (d4k);
  gk_close (h);
}
END_TEST

/*----------------------------------------------------------------------
 * LVM
 */

START_TEST (test_lvm_parser)
{
  gk_h *h = quiet_handle ();
  static const char text[] =
    "# a comment\n"
    "vg {\n"
    "  id = \"abc\"   # trailing comment\n"
    "  seqno = 42\n"
    "  neg = -7\n"
    "  status = [\"READ\", \"WRITE\",]\n"
    "  empty = [ ]\n"
    "  nested { deeper { key = \"q\\\"uote \\\\ back\" } }\n"
    "  stripes = [\n    \"pv0\", 0,\n    \"pv1\", 17\n  ]\n"
    "}\n"
    "contents = \"Text Format Volume Group\"\n";
  const struct gk_lvm_node *n;
  struct gk_lvm_node *root;

  ck_assert_int_eq (gk_native_lvm_parse_config (h, text, sizeof text - 1,
                                                "t", &root), 0);
  ck_assert_uint_eq (root->n, 2);
  n = gk_native_lvm_lookup (root, "vg/id");
  ck_assert_int_eq (n->type, GK_LVM_STRING);
  ck_assert_str_eq (n->s, "abc");
  ck_assert_int_eq (gk_native_lvm_lookup (root, "vg/seqno")->i, 42);
  ck_assert_int_eq (gk_native_lvm_lookup (root, "vg/neg")->i, -7);
  n = gk_native_lvm_lookup (root, "vg/status");
  ck_assert_int_eq (n->type, GK_LVM_ARRAY);
  ck_assert_uint_eq (n->n, 2);
  ck_assert_str_eq (n->items[1].s, "WRITE");
  ck_assert_uint_eq (gk_native_lvm_lookup (root, "vg/empty")->n, 0);
  ck_assert_str_eq (gk_native_lvm_lookup (root, "vg/nested/deeper/key")->s,
                    "q\"uote \\ back");
  n = gk_native_lvm_lookup (root, "vg/stripes");
  ck_assert_uint_eq (n->n, 4);
  ck_assert_int_eq (n->items[3].i, 17);
  ck_assert_ptr_null (gk_native_lvm_lookup (root, "vg/nope"));
  ck_assert_ptr_null (gk_native_lvm_lookup (root, "vg/id/x"));
  gk_native_lvm_free_config (root);

  /* A NUL ends the text. */
  ck_assert_int_eq (gk_native_lvm_parse_config (h, "a = 1\0garbage{", 14,
                                                "t", &root), 0);
  ck_assert_uint_eq (root->n, 1);
  gk_native_lvm_free_config (root);
  gk_close (h);
}
END_TEST

static void
check_bad_config (gk_h *h, const char *text, size_t len, const char *msg)
{
  struct gk_lvm_node *root = (void *) 1;

  ck_assert_int_eq (gk_native_lvm_parse_config (h, text, len, "disk.img",
                                                &root), -1);
  ck_assert_ptr_null (root);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "disk.img: LVM metadata "
                                 "line"));
  if (strstr (gk_last_error (h), msg) == NULL)
    ck_abort_msg ("error \"%s\" lacks \"%s\"", gk_last_error (h), msg);
}

START_TEST (test_lvm_parser_bad)
{
  gk_h *h = quiet_handle ();
  char *bomb;
  size_t i;

  check_bad_config (h, "vg { id = \"abc }", 16, "unterminated string");
  check_bad_config (h, "a = \"x\\", 7, "unterminated string");
  check_bad_config (h, "vg { id = 1", 11, "missing '}'");
  check_bad_config (h, "}", 1, "unexpected '}'");
  check_bad_config (h, "a = 99999999999999999999", 24, "out of range");
  check_bad_config (h, "a = 1.5", 7, "malformed number");
  check_bad_config (h, "a = [ \"x\" \"y\" ]", 15, "expected ','");
  check_bad_config (h, "a = [ [ 1 ] ]", 13, "expected a string");
  check_bad_config (h, "a = [ 1, ", 9, "unterminated array");
  check_bad_config (h, "a b", 3, "expected '=' or '{'");
  check_bad_config (h, "a =", 3, "missing value");
  check_bad_config (h, "= 1", 3, "expected a name");
  check_bad_config (h, "\n\na = x", 7, "line 3");
  /* A nesting bomb fails fast and without deep recursion. */
  bomb = malloc (2 * 100000);
  for (i = 0; i < 100000; i++) {
    bomb[2*i] = 'a';
    bomb[2*i+1] = '{';
  }
  check_bad_config (h, bomb, 2 * 100000, "nested more than");
  free (bomb);
  gk_close (h);
}
END_TEST

#define PV_SIZE (4 * MiB)
#define MDA_OFF 4096
#define MDA_SIZE (MiB - MDA_OFF)
#define EXTENT (128 * 512)
#define PE_START MiB

/* A PV in memory: label in sector 1, one metadata area at 4 KiB holding
 * text at text_off (the circular buffer wraps when it does not fit),
 * data from 1 MiB filled with a pattern telling PV and offset apart.
 */
static uint8_t *
make_pv (const char *uuid, int k, const char *text, uint64_t text_off)
{
  uint8_t *pv = calloc (1, PV_SIZE);
  uint8_t *l = pv + 512, *m = pv + MDA_OFF;
  size_t len = strlen (text) + 1, first;
  uint64_t i;

  for (i = PE_START; i < PV_SIZE; i += 4)
    put32 (pv + i, (uint32_t) k << 28 | (uint32_t) (i / 4));

  memcpy (l, "LABELONE", 8);
  put64 (l + 8, 1);
  put32 (l + 20, 32);
  memcpy (l + 24, "LVM2 001", 8);
  memcpy (l + 32, uuid, 32);
  put64 (l + 64, PV_SIZE);
  put64 (l + 72, PE_START);            /* data area, then a zero entry */
  put64 (l + 104, MDA_OFF);            /* metadata area */
  put64 (l + 112, MDA_SIZE);
  put32 (l + 16, gk_native_lvm_crc (GK_LVM_INITIAL_CRC, l + 20, 512 - 20));

  memcpy (m + 4, " LVM2 x[5A%r0N*>", 16);
  put32 (m + 20, 1);
  put64 (m + 24, MDA_OFF);
  put64 (m + 32, MDA_SIZE);
  put64 (m + 40, text_off);
  put64 (m + 48, len);
  put32 (m + 56, gk_native_lvm_crc (GK_LVM_INITIAL_CRC, text, len));
  put32 (m, gk_native_lvm_crc (GK_LVM_INITIAL_CRC, m + 4, 512 - 4));
  first = len < MDA_SIZE - text_off ? len : MDA_SIZE - text_off;
  memcpy (m + text_off, text, first);
  memcpy (m + 512, text + first, len - first);
  return pv;
}

#define UUID0 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define UUID1 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID0 "aaaaaa-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa"
#define ID1 "bbbbbb-bbbb-bbbb-bbbb-bbbb-bbbb-bbbbbb"

#define LINEAR(name, pv, pe, count, vis)                                \
  name " { id = \"x\" status = [\"READ\", \"WRITE\"" vis "]\n"          \
  "  segment_count = 1\n"                                               \
  "  segment1 { start_extent = 0 extent_count = " #count "\n"           \
  "    type = \"striped\" stripe_count = 1 stripes = [ \"" pv "\", "    \
  #pe " ] } }\n"

static const char vg_new[] =
  "vg1 {\n"
  "id = \"vgid00-0000-0000-0000-0000-0000-000000\"\n"
  "seqno = 5\n"
  "format = \"lvm2\" # comment\n"
  "status = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\n"
  "flags = []\n"
  "extent_size = 128\n"
  "physical_volumes {\n"
  "pv0 { id = \"" ID0 "\" device = \"/dev/vda\" status = [\"ALLOCATABLE\"]\n"
  "  dev_size = 8192 pe_start = 2048 pe_count = 48 }\n"
  "pv1 { id = \"" ID1 "\" device = \"/dev/vdb\" status = [\"ALLOCATABLE\"]\n"
  "  dev_size = 8192 pe_start = 2048 pe_count = 48 }\n"
  "}\n"
  "logical_volumes {\n"
  "lin { id = \"x\" status = [\"READ\", \"WRITE\", \"VISIBLE\"]\n"
  "  segment_count = 2\n"
  "  segment1 { start_extent = 0 extent_count = 4 type = \"striped\"\n"
  "    stripe_count = 1 stripes = [ \"pv0\", 0 ] }\n"
  "  segment2 { start_extent = 4 extent_count = 2 type = \"striped\"\n"
  "    stripe_count = 1 stripes = [ \"pv1\", 0 ] } }\n"
  "str { id = \"x\" status = [\"READ\", \"WRITE\", \"VISIBLE\"]\n"
  "  segment_count = 1\n"
  "  segment1 { start_extent = 0 extent_count = 8 type = \"striped\"\n"
  "    stripe_count = 2 stripe_size = 16\n"
  "    stripes = [ \"pv0\", 10, \"pv1\", 10 ] } }\n"
  "thin { id = \"x\" status = [\"READ\", \"WRITE\", \"VISIBLE\"]\n"
  "  segment1 { start_extent = 0 extent_count = 1 type = \"thin\"\n"
  "    thin_pool = \"pool\" transaction_id = 1 device_id = 1 } }\n"
  LINEAR ("hid", "pv0", 20, 1, "")
  LINEAR ("origin", "pv0", 30, 1, ", \"VISIBLE\"")
  LINEAR ("snap", "pv0", 31, 1, ", \"VISIBLE\"")
  "snapshot0 { id = \"x\" status = [\"READ\"]\n"
  "  segment1 { start_extent = 0 extent_count = 1 type = \"snapshot\"\n"
  "    chunk_size = 8 origin = \"origin\" cow_store = \"snap\" } }\n"
  LINEAR ("absurd", "pv0", 0, 1000000000000000, ", \"VISIBLE\"")
  LINEAR ("beyond", "pv0", 47, 2, ", \"VISIBLE\"")
  LINEAR ("gone", "pv9", 0, 1, ", \"VISIBLE\"")
  LINEAR ("only1", "pv1", 40, 1, ", \"VISIBLE\"")
  "}\n"
  "}\n"
  "contents = \"Text Format Volume Group\"\n"
  "version = 1\n"
  "description = \"quote \\\" and backslash \\\\\"\n";

static const char vg_old[] =
  "vg1 {\n"
  "id = \"vgid00-0000-0000-0000-0000-0000-000000\"\n"
  "seqno = 4\n"
  "extent_size = 128\n"
  "physical_volumes {\n"
  "pv0 { id = \"" ID0 "\" pe_start = 2048 pe_count = 48 }\n"
  "pv1 { id = \"" ID1 "\" pe_start = 2048 pe_count = 48 }\n"
  "}\n"
  "logical_volumes {\n"
  LINEAR ("old", "pv1", 0, 1, ", \"VISIBLE\"")
  "}\n"
  "}\n";

/* The PV offset of LV byte x, computed independently of lvm2.c. */
static uint32_t
expected_word (const char *lv, uint64_t x)
{
  int k;
  uint64_t off;

  if (strcmp (lv, "lin") == 0) {
    k = x < 4 * EXTENT ? 0 : 1;
    off = PE_START + (k == 0 ? x : x - 4 * EXTENT);
  }
  else {                               /* str: 8 KiB stripes over 2 PVs */
    uint64_t chunk = x / 8192;
    k = chunk % 2;
    off = PE_START + 10 * EXTENT + chunk / 2 * 8192 + x % 8192;
  }
  return (uint32_t) k << 28 | (uint32_t) (off / 4);
}

static void
check_lv_data (gk_h *h, const struct gk_lv *lv)
{
  uint8_t *buf = malloc (lv->size);
  uint64_t x;

  ck_assert_int_eq (gk_reader_pread (h, &lv->reader, buf, lv->size, 0), 0);
  for (x = 0; x < lv->size; x += 4) {
    uint32_t w = buf[x] | buf[x+1] << 8 | buf[x+2] << 16 |
      (uint32_t) buf[x+3] << 24;
    if (w != expected_word (lv->lv_name, x))
      ck_abort_msg ("%s: byte %" PRIu64 ": %08x", lv->name, x, w);
  }
  /* Unaligned reads across stripes and segments. */
  ck_assert_int_eq (gk_reader_pread (h, &lv->reader, buf, 8192 + 3,
                                     4 * EXTENT - 8190), 0);
  for (x = 0; x < 8192 + 3; x++) {
    uint64_t o = 4 * EXTENT - 8190 + x;
    uint8_t b = expected_word (lv->lv_name, o & ~3) >> (8 * (o & 3));
    if (buf[x] != b)
      ck_abort_msg ("%s: unaligned read: byte %" PRIu64, lv->name, o);
  }
  ck_assert_int_eq (gk_reader_pread (h, &lv->reader, buf, 2, lv->size - 1),
                    -1);
  free (buf);
}

START_TEST (test_lvm_volumes)
{
  gk_h *h = quiet_handle ();
  uint8_t *pv0 = make_pv (UUID0, 0, vg_new, MDA_SIZE - 1000); /* wraps */
  uint8_t *pv1 = make_pv (UUID1, 1, vg_old, 512);
  struct gk_reader r[3];
  const struct gk_reader *devs[3] = { &r[0], &r[1], &r[2] };
  uint8_t blank[8192] = { 0 };
  static const char *const names[] = {
    "absurd", "beyond", "gone", "lin", "only1", "origin", "snap", "str", "thin"
  };
  static const bool ok[] = {
    false, false, false, true, true, false, false, true, false
  };
  struct gk_lv *lvs;
  size_t n, i;

  gk_reader_from_memory (&r[0], blank, sizeof blank, "blank");
  gk_reader_from_memory (&r[1], pv1, PV_SIZE, "pv1.img");
  gk_reader_from_memory (&r[2], pv0, PV_SIZE, "pv0.img");
  ck_assert_int_eq (gk_native_lvm (h, devs, 3, &lvs, &n, NULL), 0);
  ck_assert_uint_eq (n, 9);
  for (i = 0; i < n; i++) {
    ck_assert_str_eq (lvs[i].lv_name, names[i]);
    ck_assert_str_eq (lvs[i].vg_name, "vg1");
    ck_assert (lvs[i].unsure == !ok[i]);
  }
  ck_assert_str_eq (lvs[3].name, "/dev/vg1/lin");
  ck_assert_uint_eq (lvs[3].size, 6 * EXTENT);
  ck_assert_uint_eq (lvs[7].size, 8 * EXTENT);
  ck_assert_ptr_nonnull (strstr (lvs[0].why, "absurd extent_count"));
  ck_assert_ptr_nonnull (strstr (lvs[1].why, "beyond the end"));
  ck_assert_ptr_nonnull (strstr (lvs[2].why, "pv9"));
  ck_assert_ptr_nonnull (strstr (lvs[5].why, "origin"));
  ck_assert_ptr_nonnull (strstr (lvs[6].why, "snapshot"));
  ck_assert_ptr_nonnull (strstr (lvs[8].why, "\"thin\""));
  check_lv_data (h, &lvs[3]);
  check_lv_data (h, &lvs[7]);
  gk_native_free_lvs (lvs, n);

  /* Only the PV with the old metadata: the old VG, and nothing missing. */
  ck_assert_int_eq (gk_native_lvm (h, &devs[1], 1, &lvs, &n, NULL), 0);
  ck_assert_uint_eq (n, 1);
  ck_assert_str_eq (lvs[0].name, "/dev/vg1/old");
  ck_assert (lvs[0].unsure == false);
  gk_native_free_lvs (lvs, n);

  /* Only pv0: the LVs on pv1 are unsure (missing PV). */
  ck_assert_int_eq (gk_native_lvm (h, &devs[2], 1, &lvs, &n, NULL), 0);
  ck_assert_uint_eq (n, 9);
  ck_assert (lvs[3].unsure);
  ck_assert_ptr_nonnull (strstr (lvs[3].why, "missing"));
  ck_assert (lvs[4].unsure);
  gk_native_free_lvs (lvs, n);

  /* The same PV twice: unsure. */
  {
    const struct gk_reader *twice[2] = { &r[2], &r[2] };
    char *why = NULL;
    ck_assert_int_eq (gk_native_lvm (h, twice, 2, &lvs, &n, &why),
                      GK_NATIVE_UNSURE);
    ck_assert_ptr_nonnull (strstr (why, "on both"));
    free (why);
  }

  /* A bad metadata text checksum: that copy is ignored (old VG wins). */
  pv0[MDA_OFF + 600] ^= 1;
  ck_assert_int_eq (gk_native_lvm (h, devs, 3, &lvs, &n, NULL), 0);
  ck_assert_uint_eq (n, 1);
  gk_native_free_lvs (lvs, n);
  /* A label pointing its metadata area past the end of the PV. */
  put64 (pv0 + 512 + 104, PV_SIZE - 512);
  put32 (pv0 + 512 + 16, gk_native_lvm_crc (GK_LVM_INITIAL_CRC,
                                            pv0 + 512 + 20, 512 - 20));
  ck_assert_int_eq (gk_native_lvm (h, &devs[2], 1, &lvs, &n, NULL), 0);
  ck_assert_uint_eq (n, 0);
  /* A bad label checksum: not a PV. */
  pv0[512 + 40] ^= 1;
  ck_assert_int_eq (gk_native_lvm (h, &devs[2], 1, &lvs, &n, NULL), 0);
  ck_assert_uint_eq (n, 0);
  free (pv0);

  /* Metadata that does not parse (valid checksums): an error. */
  pv0 = make_pv (UUID0, 0, "vg1 { id = \"x\" seqno = 1 extent_size = 8 "
                 "logical_volumes { a { segment1 { stripes = [ \"pv0 ] "
                 "} } } }", 512);
  gk_reader_from_memory (&r[2], pv0, PV_SIZE, "pv0.img");
  ck_assert_int_eq (gk_native_lvm (h, &devs[2], 1, &lvs, &n, NULL), -1);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "pv0.img: LVM metadata"));
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "unterminated string"));
  free (pv0);
  /* Absurd extent_size. */
  pv0 = make_pv (UUID0, 0, "vg1 { id = \"x\" seqno = 1 "
                 "extent_size = 9223372036854775807 }", 512);
  gk_reader_from_memory (&r[2], pv0, PV_SIZE, "pv0.img");
  ck_assert_int_eq (gk_native_lvm (h, &devs[2], 1, &lvs, &n, NULL), -1);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "extent_size"));
  free (pv0);
  free (pv1);
  gk_close (h);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("native-parts");
  TCase *tc = tcase_create ("core");

  tcase_add_test (tc, test_mbr_primaries);
  tcase_add_test (tc, test_mbr_logicals);
  tcase_add_test (tc, test_gpt);
  tcase_add_test (tc, test_lvm_parser);
  tcase_add_test (tc, test_lvm_parser_bad);
  tcase_add_test (tc, test_lvm_volumes);
  suite_add_tcase (s, tc);
  return run_suite (s);
}
