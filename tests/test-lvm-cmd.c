/* Unit tests for the lvm2 command lines (pools/lvm/lvm-cmd.c): each argv
 * is compared with tests/golden/lvm-cmd/NAME.txt, one argument per line.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <check.h>

#include "run-suite.h"

#include "lvm-cmd.h"

#define MiB (UINT64_C (1) << 20)
#define GiB (UINT64_C (1) << 30)

/* Compare argv with the golden file, then free argv. */
static void
golden (const char *name, int built, string_vector *argv)
{
  const char *top = getenv ("abs_top_srcdir");
  char path[4096], *line = NULL;
  size_t n = 0, i = 0;
  ssize_t len;
  FILE *fp;

  ck_assert_int_eq (built, 0);
  ck_assert_ptr_null (argv->ptr[argv->len]);      /* NULL-terminated */
  snprintf (path, sizeof path, "%s/tests/golden/lvm-cmd/%s.txt",
            top ? top : "..", name);
  fp = fopen (path, "r");
  ck_assert_msg (fp != NULL, "%s: %s", path, strerror (errno));
  while ((len = getline (&line, &n, fp)) != -1) {
    if (len > 0 && line[len-1] == '\n')
      line[len-1] = '\0';
    ck_assert_msg (i < argv->len, "%s: argv has only %zu arguments, the "
                   "golden file more", name, argv->len);
    ck_assert_msg (strcmp (argv->ptr[i], line) == 0,
                   "%s: argument %zu is ‘%s’, the golden file says ‘%s’",
                   name, i, argv->ptr[i], line);
    i++;
  }
  ck_assert_msg (i == argv->len, "%s: argv has %zu arguments, the golden "
                 "file %zu", name, argv->len, i);
  free (line);
  fclose (fp);
  string_vector_free_all (argv);
}

START_TEST (test_pv_vg)
{
  static const char *const devs[] = { "/dev/vda", "/dev/vdb", NULL };
  string_vector a = empty_vector;

  golden ("pvcreate", lvm_cmd_pvcreate (&a, "/dev/vda", false), &a);
  golden ("pvcreate-overwrite", lvm_cmd_pvcreate (&a, "/dev/vda", true), &a);
  golden ("pvremove", lvm_cmd_pvremove (&a, "/dev/vda"), &a);
  golden ("vgcreate", lvm_cmd_vgcreate (&a, "vg0", devs), &a);
  golden ("vgremove", lvm_cmd_vgremove (&a, "vg0"), &a);
  golden ("vgchange-ay", lvm_cmd_vgchange (&a, "vg0", true), &a);
  golden ("vgchange-an", lvm_cmd_vgchange (&a, "vg0", false), &a);
}
END_TEST

START_TEST (test_reports)
{
  string_vector a = empty_vector;

  golden ("vgs", lvm_cmd_vgs (&a, "vg0"), &a);
  golden ("pvs", lvm_cmd_pvs (&a, "/dev/vda"), &a);
  golden ("lvs-vg", lvm_cmd_lvs (&a, "vg0", NULL), &a);
  golden ("lvs-lv", lvm_cmd_lvs (&a, "vg0", "disk1"), &a);
}
END_TEST

START_TEST (test_lvs)
{
  string_vector a = empty_vector;
  uint64_t data, meta;

  /* 10 MiB + 1 byte in 4 MiB extents: 12 MiB, as lvm2 would make. */
  golden ("lvcreate-linear",
          lvm_cmd_lvcreate_linear (&a, "vg0", "disk1", 10 * MiB + 1, 4 * MiB),
          &a);
  /* A 508 MiB VG: 4 MiB metadata, 4 MiB spare, 500 MiB of data. */
  ck_assert_int_eq (lvm_thin_pool_sizes (508 * MiB, 4 * MiB, &data, &meta), 0);
  ck_assert_uint_eq (meta, 4 * MiB);
  ck_assert_uint_eq (data, 500 * MiB);
  golden ("lvcreate-thin-pool",
          lvm_cmd_lvcreate_thin_pool (&a, "vg0", "tp", data, meta), &a);
  golden ("lvcreate-thin",
          lvm_cmd_lvcreate_thin (&a, "vg0", "tp", "disk1", GiB, 4 * MiB), &a);
  golden ("lvcreate-thin-snapshot",
          lvm_cmd_lvcreate_thin_snapshot (&a, "vg0", "disk1", "clone1"), &a);
  golden ("lvremove", lvm_cmd_lvremove (&a, "vg0", "disk1"), &a);
  golden ("lvrename",
          lvm_cmd_lvrename (&a, "vg0", ".gk-tmp-disk1", "disk1"), &a);
  golden ("lvresize-grow",
          lvm_cmd_lvresize (&a, "vg0", "disk1", 30 * MiB, 4 * MiB, false), &a);
  golden ("lvresize-shrink",
          lvm_cmd_lvresize (&a, "vg0", "disk1", 8 * MiB, 4 * MiB, true), &a);
}
END_TEST

START_TEST (test_sizes)
{
  uint64_t data = 1, meta = 1;

  ck_assert_uint_eq (lvm_round_up (0, 4 * MiB), 0);
  ck_assert_uint_eq (lvm_round_up (1, 4 * MiB), 4 * MiB);
  ck_assert_uint_eq (lvm_round_up (4 * MiB, 4 * MiB), 4 * MiB);
  ck_assert_uint_eq (lvm_round_up (12345, 0), 12345);
  /* Large VGs: metadata ~1/256, data rounded down to extents. */
  ck_assert_int_eq (lvm_thin_pool_sizes (100 * GiB, 4 * MiB, &data, &meta), 0);
  ck_assert_uint_eq (meta, 400 * MiB);
  ck_assert_uint_eq (data, 100 * GiB - 800 * MiB);
  ck_assert_uint_eq (data % (4 * MiB), 0);
  /* Metadata is capped at 15 GiB. */
  ck_assert_int_eq (lvm_thin_pool_sizes (8192 * GiB, 4 * MiB, &data, &meta),
                    0);
  ck_assert_uint_eq (meta, 15 * GiB);
  /* No room for data. */
  errno = 0;
  ck_assert_int_eq (lvm_thin_pool_sizes (8 * MiB, 4 * MiB, &data, &meta), -1);
  ck_assert_int_eq (errno, ENOSPC);
  ck_assert_int_eq (lvm_thin_pool_sizes (0, 4 * MiB, &data, &meta), -1);
}
END_TEST

START_TEST (test_names)
{
  char long_name[200];
  string_vector a = empty_vector;

  ck_assert_ptr_null (lvm_name_invalid ("disk-1.img_2+x"));
  /* Temporary names (GK_TMP_PREFIX) are valid LV names. */
  ck_assert_ptr_null (lvm_name_invalid (".gk-tmp-disk1"));
  ck_assert_ptr_nonnull (lvm_name_invalid (""));
  ck_assert_ptr_nonnull (lvm_name_invalid ("a/b"));
  ck_assert_ptr_nonnull (lvm_name_invalid ("-a"));
  ck_assert_ptr_nonnull (lvm_name_invalid ("."));
  ck_assert_ptr_nonnull (lvm_name_invalid (".."));
  ck_assert_ptr_nonnull (lvm_name_invalid ("a b"));
  ck_assert_ptr_nonnull (lvm_name_invalid ("caf\xc3\xa9"));
  ck_assert_ptr_nonnull (lvm_name_invalid ("snapshot1"));
  ck_assert_ptr_nonnull (lvm_name_invalid ("pvmove0"));
  ck_assert_ptr_nonnull (lvm_name_invalid ("x_tdata"));
  ck_assert_ptr_nonnull (lvm_name_invalid ("x_tmeta_y"));
  memset (long_name, 'a', 128);
  long_name[128] = '\0';
  ck_assert_ptr_nonnull (lvm_name_invalid (long_name));
  long_name[127] = '\0';
  ck_assert_ptr_null (lvm_name_invalid (long_name));
  /* VG/LV that cannot be formatted is refused, argv left empty. */
  memset (long_name, 'a', 199);
  long_name[199] = '\0';
  ck_assert_int_eq (lvm_cmd_lvremove (&a, long_name, long_name), -1);
  ck_assert_ptr_null (a.ptr);
}
END_TEST

static Suite *
lvm_cmd_suite (void)
{
  Suite *s = suite_create ("lvm-cmd");
  TCase *tc = tcase_create ("core");

  tcase_add_test (tc, test_pv_vg);
  tcase_add_test (tc, test_reports);
  tcase_add_test (tc, test_lvs);
  tcase_add_test (tc, test_sizes);
  tcase_add_test (tc, test_names);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return run_suite (lvm_cmd_suite ());
}
