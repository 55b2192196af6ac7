/* Unit tests for the native engine's block sources: qcow2 headers and
 * tables built in memory (each malformed field gives a clear error, each
 * feature the native reader does not do gives "unsure"), raw files, and
 * the rules of gk_reader_open_image.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <endian.h>
#include <check.h>

#include "run-suite.h"

#include "internal.h"
#include "native/block.h"

/* A tiny qcow2 v3 image with 512 byte clusters:
 *   cluster 0  header (+ extensions)    cluster 3  L2 table
 *   cluster 1  L1 table (1 entry)       cluster 4  data: guest cluster 0
 *   cluster 2  refcount table           virtual size 32 KiB (one L2)
 * Guest cluster 1 has the zero flag, cluster 2 is unallocated.
 */
#define CS 512
#define IMAGE_SIZE (5 * CS)
static unsigned char img[IMAGE_SIZE];

static void
put32 (unsigned char *p, uint32_t v)
{
  v = htobe32 (v);
  memcpy (p, &v, 4);
}

static void
put64 (unsigned char *p, uint64_t v)
{
  v = htobe64 (v);
  memcpy (p, &v, 8);
}

static void
make_image (void)
{
  memset (img, 0, sizeof img);
  memcpy (img, "QFI\xfb", 4);
  put32 (img + 4, 3);                   /* version */
  put32 (img + 20, 9);                  /* cluster_bits */
  put64 (img + 24, 32 * 1024);          /* size */
  put32 (img + 36, 1);                  /* l1_size */
  put64 (img + 40, 1 * CS);             /* l1_table_offset */
  put64 (img + 48, 2 * CS);             /* refcount_table_offset */
  put32 (img + 56, 1);
  put32 (img + 96, 4);                  /* refcount_order */
  put32 (img + 100, 104);               /* header_length */
  put64 (img + 1 * CS, (1ULL << 63) | 3 * CS);
  put64 (img + 3 * CS, (1ULL << 63) | 4 * CS);
  put64 (img + 3 * CS + 8, 1);          /* zero flag */
  memset (img + 4 * CS, 0xab, CS);
  memset (img + 2 * CS - 1, 0xee, 1);   /* a canary after the L1 table */
}

static gk_h *
handle (void)
{
  gk_h *h = gk_create ();

  ck_assert_ptr_nonnull (h);
  gk_set_error_handler (h, NULL, NULL);
  return h;
}

/* Open img as qcow2: the return value; *msg is the error or the reason. */
static int
open_img (gk_h *h, struct gk_reader *q, size_t size, char **msg)
{
  struct gk_reader file;
  char *why = NULL;
  int ret;

  gk_reader_from_memory (&file, img, size, "test.qcow2");
  ret = gk_reader_open_qcow2 (h, q, &file, &why);
  if (ret == GK_NATIVE_UNSURE) {
    ck_assert_ptr_nonnull (why);
    ck_assert_ptr_null (gk_last_error (h));
    *msg = why;
  }
  else {
    ck_assert_ptr_null (why);
    *msg = ret == -1 ? strdup (gk_last_error (h)) : NULL;
  }
  return ret;
}

/* The image opens (and closes) fine. */
static void
expect_ok (void)
{
  gk_h *h = handle ();
  struct gk_reader q;
  char *msg;

  ck_assert_int_eq (open_img (h, &q, sizeof img, &msg), 0);
  gk_reader_close (&q);
  gk_close (h);
}

/* The image fails to open with a message containing want. */
static void
expect_open (int want_ret, const char *want)
{
  gk_h *h = handle ();
  struct gk_reader q;
  CLEANUP_FREE char *msg = NULL;
  int ret = open_img (h, &q, sizeof img, &msg);

  if (ret != want_ret || msg == NULL || strstr (msg, want) == NULL)
    ck_abort_msg ("expected %d \"%s\", got %d \"%s\"", want_ret, want, ret,
                  msg ? msg : "(null)");
  ck_assert_ptr_nonnull (strstr (msg, "test.qcow2"));
  gk_close (h);
}

/* The image opens, but reading the whole disk fails with want. */
static void
expect_read_error (const char *want)
{
  gk_h *h = handle ();
  struct gk_reader q;
  CLEANUP_FREE char *msg = NULL;
  static char buf[32 * 1024];

  ck_assert_int_eq (open_img (h, &q, sizeof img, &msg), 0);
  ck_assert_int_eq (gk_reader_pread (h, &q, buf, sizeof buf, 0), -1);
  if (strstr (gk_last_error (h), want) == NULL)
    ck_abort_msg ("expected \"%s\", got \"%s\"", want, gk_last_error (h));
  gk_reader_close (&q);
  gk_close (h);
}

START_TEST (test_qcow2_read)
{
  gk_h *h = handle ();
  struct gk_reader q;
  char *msg;
  static unsigned char buf[32 * 1024], want[32 * 1024];

  make_image ();
  ck_assert_int_eq (open_img (h, &q, sizeof img, &msg), 0);
  ck_assert_uint_eq (q.size, 32 * 1024);
  ck_assert_str_eq (q.name, "test.qcow2");
  memset (want, 0, sizeof want);
  memset (want, 0xab, CS);
  ck_assert_int_eq (gk_reader_pread (h, &q, buf, sizeof buf, 0), 0);
  ck_assert_mem_eq (buf, want, sizeof buf);
  /* Unaligned, across clusters, and again (from the L2 cache). */
  ck_assert_int_eq (gk_reader_pread (h, &q, buf, 100, CS - 50), 0);
  ck_assert_mem_eq (buf, want + CS - 50, 100);
  ck_assert_int_eq (gk_reader_pread (h, &q, buf, 1, CS - 1), 0);
  ck_assert_int_eq (buf[0], 0xab);
  /* Beyond the virtual size. */
  ck_assert_int_eq (gk_reader_pread (h, &q, buf, 2, 32 * 1024 - 1), -1);
  gk_reader_close (&q);

  /* A backing reader fills the unallocated clusters (not the zero one). */
  {
    static unsigned char back[4 * CS];
    struct gk_reader b;
    const char *bfile, *bformat;

    ck_assert_int_eq (open_img (h, &q, sizeof img, &msg), 0);
    gk_qcow2_backing (&q, &bfile, &bformat);
    ck_assert_ptr_null (bfile);
    memset (back, 0x77, sizeof back);
    gk_reader_from_memory (&b, back, sizeof back, "back");
    gk_qcow2_set_backing (&q, &b);
    ck_assert_ptr_null (b.pread);
    ck_assert_int_eq (gk_reader_pread (h, &q, buf, 5 * CS, 0), 0);
    ck_assert_int_eq (buf[0], 0xab);
    ck_assert_int_eq (buf[CS], 0);              /* zero flag */
    ck_assert_int_eq (buf[2 * CS], 0x77);       /* from the backing file */
    ck_assert_int_eq (buf[4 * CS - 1], 0x77);
    ck_assert_int_eq (buf[4 * CS], 0);          /* beyond the backing file */
    gk_reader_close (&q);
  }
  gk_close (h);
}
END_TEST

START_TEST (test_qcow2_header_errors)
{
  make_image ();
  expect_ok ();

  make_image (); img[3] = 0;
  expect_open (-1, "no qcow2 magic");
  make_image (); put32 (img + 20, 8);
  expect_open (-1, "cluster_bits 8 is not between 9 and 21");
  make_image (); put32 (img + 20, 22);
  expect_open (-1, "cluster_bits 22");
  make_image (); put32 (img + 20, 40);
  expect_open (-1, "cluster_bits 40");
  make_image (); put32 (img + 100, 100);
  expect_open (-1, "header_length 100 is invalid");
  make_image (); put32 (img + 100, 108);
  expect_open (-1, "header_length 108 is invalid");
  make_image (); put32 (img + 100, 1024);
  expect_open (-1, "header_length 1024 is invalid");
  make_image (); put64 (img + 40, 1 * CS + 8);
  expect_open (-1, "L1 table offset 520 is not aligned");
  make_image (); put64 (img + 40, 5 * CS);
  expect_open (-1, "L1 table (1 entries at offset 2560) is beyond the end");
  make_image (); put64 (img + 40, UINT64_C (0xfffffffffffffe00));
  expect_open (-1, "beyond the end");
  make_image (); put32 (img + 36, 0);
  expect_open (-1, "L1 table has 0 entries, 1 are needed");
  make_image (); put32 (img + 36, 0xffffffff);
  expect_open (-1, "too large");
  make_image (); put32 (img + 36, 400);
  expect_open (-1, "beyond the end");
  make_image (); put64 (img + 24, UINT64_C (1) << 63);
  expect_open (-1, "virtual size 9223372036854775808 is too large");
  make_image (); put64 (img + 24, UINT64_C (1) << 40);
  expect_open (-1, "33554432 are needed for the virtual size");
  make_image (); put64 (img + 48, 2 * CS + 1);
  expect_open (-1, "refcount table offset 1025 is not aligned");
  make_image (); put32 (img + 60, 1); put64 (img + 64, 7);
  expect_open (-1, "snapshot table offset 7 is not aligned");
  make_image (); img[104] = 1; put32 (img + 100, 112);
  expect_open (-1, "compression type 1 does not match");
  make_image (); put64 (img + 72, 1 << 3);
  expect_open (-1, "compression type 0 does not match");
  make_image (); put64 (img + 72, 1 << 4);
  expect_open (-1, "extended L2 entries need clusters of at least 16 KiB");
  /* The backing file name: its offset, its length. */
  make_image (); put64 (img + 8, 400); put32 (img + 16, 2000);
  expect_open (-1, "invalid backing file name (2000 bytes at offset 400)");
  make_image (); put64 (img + 8, 4 * CS); put32 (img + 16, 10);
  expect_open (-1, "invalid backing file name");
  make_image (); put64 (img + 8, 400); put32 (img + 16, 0);
  expect_open (-1, "invalid backing file name");
  make_image (); put64 (img + 8, 400); put32 (img + 16, 3);
  memcpy (img + 400, "a\0b", 3);
  expect_open (-1, "contains a zero byte");
  /* Header extensions. */
  make_image (); put32 (img + 104, 0x12345678); put32 (img + 108, 1000);
  expect_open (-1, "header extension 0x12345678 (1000 bytes) goes beyond");
  make_image (); put32 (img + 104, 0xe2792aca); put32 (img + 108, 300);
  expect_open (-1, "invalid backing format extension (300 bytes)");
}
END_TEST

START_TEST (test_qcow2_unsure)
{
  make_image (); put32 (img + 4, 1);
  expect_open (GK_NATIVE_UNSURE, "qcow2 version 1 is not read natively");
  make_image (); put32 (img + 4, 4);
  expect_open (GK_NATIVE_UNSURE, "qcow2 version 4");
  make_image (); put32 (img + 32, 1);
  expect_open (GK_NATIVE_UNSURE, "encrypted (method 1)");
  make_image (); put32 (img + 32, 2);
  expect_open (GK_NATIVE_UNSURE, "encrypted (method 2)");
  make_image (); put64 (img + 72, 1 << 1);
  expect_open (GK_NATIVE_UNSURE, "marked corrupt");
  make_image (); put64 (img + 72, 1 << 2);
  expect_open (GK_NATIVE_UNSURE, "external data file");
  make_image (); put64 (img + 72, UINT64_C (1) << 40);
  expect_open (GK_NATIVE_UNSURE, "unknown incompatible feature bit 40");
  make_image (); put64 (img + 72, 1 << 3); put32 (img + 100, 112); img[104] = 7;
  expect_open (GK_NATIVE_UNSURE, "unknown compression type 7");
  /* The feature name table names the unknown bit. */
  make_image ();
  put64 (img + 72, UINT64_C (1) << 5);
  put32 (img + 104, 0x6803f857); put32 (img + 108, 48);
  img[112] = 0; img[113] = 5;
  memcpy (img + 114, "time travel", 11);
  expect_open (GK_NATIVE_UNSURE, "feature bit 5 \"time travel\"");
  /* The dirty bit alone is fine for reading. */
  make_image (); put64 (img + 72, 1);
  expect_ok ();
}
END_TEST

START_TEST (test_qcow2_table_errors)
{
  make_image (); put64 (img + 1 * CS, 100 * CS);
  expect_read_error ("L2 table at offset 51200 is beyond the end");
  make_image (); put64 (img + 3 * CS, 100 * CS);
  expect_read_error ("data cluster at offset 51200 is beyond the end");
  /* (Unaligned tables and clusters need clusters larger than the 512
   * bytes the entries' low bits cannot address: test-native-qcow2.sh.)
   */
  /* A compressed cluster beyond the end, and one that is garbage. */
  make_image (); put64 (img + 3 * CS, (UINT64_C (1) << 62) | 100 * CS);
  expect_read_error ("compressed cluster for guest offset 0 is at 51200");
  make_image (); put64 (img + 3 * CS, (UINT64_C (1) << 62) | 4 * CS);
  memset (img + 4 * CS, 0xff, CS);
  expect_read_error ("does not decompress (zlib)");
  make_image (); put64 (img + 3 * CS, (UINT64_C (1) << 62) | 4 * CS);
  put64 (img + 72, 1 << 3); put32 (img + 100, 112); img[104] = 1;
  expect_read_error ("does not decompress (zstd)");
}
END_TEST

/* Extended L2 entries need 16 KiB clusters: a separate image. */
START_TEST (test_qcow2_extended_l2)
{
  const size_t cs = 16384;
  CLEANUP_FREE unsigned char *big = calloc (5, cs);
  CLEANUP_FREE unsigned char *buf = malloc (cs);
  gk_h *h = handle ();
  struct gk_reader file, q;
  unsigned i;

  ck_assert_ptr_nonnull (big);
  memcpy (big, "QFI\xfb", 4);
  put32 (big + 4, 3);
  put32 (big + 20, 14);
  put64 (big + 24, 2 * cs);
  put32 (big + 36, 1);
  put64 (big + 40, cs);
  put64 (big + 48, 2 * cs);
  put64 (big + 72, 1 << 4);
  put32 (big + 100, 104);
  put64 (big + cs, 3 * cs);
  /* Cluster 0 at 4*cs: subcluster 0 allocated, 1 zero, others not. */
  put64 (big + 3 * cs, 4 * cs);
  put64 (big + 3 * cs + 8, (UINT64_C (1) << 33) | 1);
  for (i = 0; i < cs; ++i)
    big[4 * cs + i] = i & 0xff ? i & 0xff : 1;

  gk_reader_from_memory (&file, big, 5 * cs, "ext.qcow2");
  ck_assert_int_eq (gk_reader_open_qcow2 (h, &q, &file, NULL), 0);
  if (gk_reader_pread (h, &q, buf, cs, 0) == -1)
    ck_abort_msg ("%s", gk_last_error (h));
  ck_assert_mem_eq (buf, big + 4 * cs, 512);
  for (i = 512; i < cs; ++i)
    ck_assert_int_eq (buf[i], 0);
  gk_reader_close (&q);

  /* Allocated and zero at once. */
  put64 (big + 3 * cs + 8, (UINT64_C (1) << 32) | 1);
  gk_reader_from_memory (&file, big, 5 * cs, "ext.qcow2");
  ck_assert_int_eq (gk_reader_open_qcow2 (h, &q, &file, NULL), 0);
  ck_assert_int_eq (gk_reader_pread (h, &q, buf, 512, 0), -1);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "both allocated and zero"));
  gk_reader_close (&q);

  /* Allocated without a host cluster. */
  put64 (big + 3 * cs, 0);
  put64 (big + 3 * cs + 8, 2);
  gk_reader_from_memory (&file, big, 5 * cs, "ext.qcow2");
  ck_assert_int_eq (gk_reader_open_qcow2 (h, &q, &file, NULL), 0);
  ck_assert_int_eq (gk_reader_pread (h, &q, buf, 512, 512), -1);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "without a host cluster"));
  gk_reader_close (&q);
  gk_close (h);
}
END_TEST

START_TEST (test_file_and_image)
{
  char dir[] = "/tmp/gk-native-XXXXXX";
  CLEANUP_FREE char *raw = NULL, *qc = NULL, *why = NULL;
  gk_h *h = handle ();
  struct gk_reader r;
  unsigned char buf[8];
  dev_t dev;
  ino_t ino;
  FILE *fp;

  ck_assert_ptr_nonnull (mkdtemp (dir));
  ck_assert_int_ne (asprintf (&raw, "%s/disk.raw", dir), -1);
  ck_assert_int_ne (asprintf (&qc, "%s/disk.qcow2", dir), -1);
  make_image ();
  fp = fopen (qc, "w");
  ck_assert_ptr_nonnull (fp);
  ck_assert_int_eq (fwrite (img, 1, sizeof img, fp), sizeof img);
  fclose (fp);
  fp = fopen (raw, "w");
  ck_assert_ptr_nonnull (fp);
  fputs ("hello, world", fp);
  fclose (fp);

  ck_assert_int_eq (gk_reader_open_file (h, &r, raw), 0);
  ck_assert_uint_eq (r.size, 12);
  ck_assert_int_eq (gk_reader_file_identity (&r, &dev, &ino), 0);
  ck_assert_int_eq (gk_reader_pread (h, &r, buf, 5, 7), 0);
  ck_assert_mem_eq (buf, "world", 5);
  ck_assert_int_eq (gk_reader_pread (h, &r, buf, 6, 7), -1);
  gk_reader_close (&r);
  ck_assert_int_eq (gk_reader_open_file (h, &r, dir), -1);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "not a regular file"));
  ck_assert_int_eq (gk_reader_open_file (h, &r, "/nonexistent/x"), -1);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "/nonexistent/x"));

  /* Probed: qcow2; named raw: the file's own bytes. */
  ck_assert_int_eq (gk_reader_open_image (h, &r, qc, NULL, &why), 0);
  ck_assert_uint_eq (r.size, 32 * 1024);
  gk_reader_close (&r);
  ck_assert_int_eq (gk_reader_open_image (h, &r, qc, "raw", &why), 0);
  ck_assert_uint_eq (r.size, sizeof img);
  ck_assert_int_eq (gk_reader_pread (h, &r, buf, 4, 0), 0);
  ck_assert_mem_eq (buf, "QFI\xfb", 4);
  gk_reader_close (&r);
  ck_assert_int_eq (gk_reader_open_image (h, &r, raw, NULL, &why), 0);
  ck_assert_uint_eq (r.size, 12);
  gk_reader_close (&r);

  /* A backing file without a recorded format is never probed. */
  memcpy (img + 400, "disk.raw", 8);
  put64 (img + 8, 400); put32 (img + 16, 8);
  fp = fopen (qc, "w");
  ck_assert_ptr_nonnull (fp);
  ck_assert_int_eq (fwrite (img, 1, sizeof img, fp), sizeof img);
  fclose (fp);
  ck_assert_int_eq (gk_reader_open_image (h, &r, qc, "qcow2", &why),
                    GK_NATIVE_UNSURE);
  ck_assert_ptr_nonnull (strstr (why, "format of backing file disk.raw is "
                                 "not recorded"));
  free (why); why = NULL;

  /* ... and with it recorded, it is read from the image's directory. */
  put32 (img + 104, 0xe2792aca); put32 (img + 108, 3);
  memcpy (img + 112, "raw", 3);
  put64 (img + 3 * CS, 0);
  fp = fopen (qc, "w");
  ck_assert_ptr_nonnull (fp);
  ck_assert_int_eq (fwrite (img, 1, sizeof img, fp), sizeof img);
  fclose (fp);
  ck_assert_int_eq (gk_reader_open_image (h, &r, qc, "qcow2", &why), 0);
  ck_assert_int_eq (gk_reader_pread (h, &r, buf, 5, 7), 0);
  ck_assert_mem_eq (buf, "world", 5);
  ck_assert_int_eq (gk_reader_pread (h, &r, buf, 2, 12), 0);
  ck_assert_mem_eq (buf, "\0\0", 2);
  gk_reader_close (&r);

  unlink (raw);
  unlink (qc);
  rmdir (dir);
  gk_close (h);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("native-block");
  TCase *tc = tcase_create ("qcow2");

  tcase_add_test (tc, test_qcow2_read);
  tcase_add_test (tc, test_qcow2_header_errors);
  tcase_add_test (tc, test_qcow2_unsure);
  tcase_add_test (tc, test_qcow2_table_errors);
  tcase_add_test (tc, test_qcow2_extended_l2);
  tcase_add_test (tc, test_file_and_image);
  suite_add_tcase (s, tc);
  return run_suite (s);
}
