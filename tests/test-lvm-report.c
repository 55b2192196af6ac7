/* Unit tests for the lvm2 report parser (pools/lvm/lvm-report.c), fed
 * with real --reportformat json outputs kept in tests/golden/lvm-report/
 * (pvs/vgs from a loop device, lvs from lvm2 2.03.16 in the test VM), and
 * with malformed ones.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <check.h>

#include "run-suite.h"

#include "internal.h"
#include "lvm-cmd.h"
#include "lvm-report.h"

static gk_h *h;

static void
setup (void)
{
  h = gk_create ();
  gk_set_error_handler (h, NULL, NULL);
}

static void
teardown (void)
{
  gk_close (h);
}

static char *
capture (const char *name)
{
  const char *top = getenv ("abs_top_srcdir");
  char path[4096], *buf = NULL;
  size_t n = 0;
  FILE *fp;

  snprintf (path, sizeof path, "%s/tests/golden/lvm-report/%s",
            top ? top : "..", name);
  fp = fopen (path, "r");
  ck_assert_msg (fp != NULL, "%s: %s", path, strerror (errno));
  ck_assert_int_ne (getdelim (&buf, &n, '\0', fp), -1);
  fclose (fp);
  return buf;
}

START_TEST (test_vgs)
{
  char *json = capture ("vgs-used.json");
  struct lvm_report rep;
  uint64_t v;

  ck_assert_int_eq (lvm_report_parse (h, json, "vg", LVM_VGS_FIELDS, &rep), 0);
  ck_assert_uint_eq (rep.nr_rows, 1);
  ck_assert_str_eq (lvm_report_get (&rep, 0, "vg_name"), "gkcap");
  ck_assert_int_eq (lvm_report_get_u64 (h, &rep, 0, "vg_size", &v), 0);
  ck_assert_uint_eq (v, 532676608);
  ck_assert_int_eq (lvm_report_get_u64 (h, &rep, 0, "vg_extent_size", &v), 0);
  ck_assert_uint_eq (v, 4194304);
  ck_assert_ptr_null (lvm_report_get (&rep, 0, "nosuch"));
  ck_assert_ptr_null (lvm_report_get (&rep, 1, "vg_name"));
  ck_assert_int_eq (lvm_report_get_u64 (h, &rep, 0, "nosuch", &v), -1);
  ck_assert_int_eq (lvm_report_get_u64 (h, &rep, 0, "vg_name", &v), -1);
  ck_assert_ptr_nonnull (strstr (gk_last_error (h), "‘gkcap’ is not a number"));
  lvm_report_free (&rep);
  free (json);

  json = capture ("vgs-new.json");
  ck_assert_int_eq (lvm_report_parse (h, json, "vg", LVM_VGS_FIELDS, &rep), 0);
  ck_assert_int_eq (lvm_report_get_u64 (h, &rep, 0, "vg_free", &v), 0);
  ck_assert_uint_eq (v, 264241152);
  lvm_report_free (&rep);
  free (json);

  /* A missing VG: lvm2 prints an empty section. */
  json = capture ("vgs-nosuch.json");
  ck_assert_int_eq (lvm_report_parse (h, json, "vg", LVM_VGS_FIELDS, &rep), 0);
  ck_assert_uint_eq (rep.nr_rows, 0);
  lvm_report_free (&rep);
  free (json);
}
END_TEST

START_TEST (test_pvs)
{
  char *json = capture ("pvs.json");
  struct lvm_report rep;

  ck_assert_int_eq (lvm_report_parse (h, json, "pv", LVM_PVS_FIELDS, &rep), 0);
  ck_assert_uint_eq (rep.nr_rows, 1);
  ck_assert_str_eq (lvm_report_get (&rep, 0, "pv_name"), "/dev/loop0");
  ck_assert_str_eq (lvm_report_get (&rep, 0, "vg_name"), "gkcap");
  lvm_report_free (&rep);
  free (json);
  json = capture ("pvs-nopv.json");
  ck_assert_int_eq (lvm_report_parse (h, json, "pv", LVM_PVS_FIELDS, &rep), 0);
  ck_assert_uint_eq (rep.nr_rows, 0);
  lvm_report_free (&rep);
  free (json);
}
END_TEST

START_TEST (test_lvs)
{
  char *json = capture ("lvs-all.json");
  struct lvm_report rep;
  uint64_t v;

  ck_assert_int_eq (lvm_report_parse (h, json, "lv", LVM_LVS_FIELDS, &rep), 0);
  ck_assert_uint_eq (rep.nr_rows, 4);
  ck_assert_str_eq (lvm_report_get (&rep, 0, "lv_name"), "lin");
  ck_assert_str_eq (lvm_report_get (&rep, 0, "segtype"), "linear");
  ck_assert_str_eq (lvm_report_get (&rep, 0, "data_percent"), "");
  ck_assert_str_eq (lvm_report_get (&rep, 1, "origin"), "thin1");
  ck_assert_str_eq (lvm_report_get (&rep, 1, "pool_lv"), "tp");
  ck_assert_str_eq (lvm_report_get (&rep, 3, "segtype"), "thin-pool");
  ck_assert_str_eq (lvm_report_get (&rep, 3, "lv_path"), "");
  ck_assert_int_eq (lvm_report_get_u64 (h, &rep, 3, "chunk_size", &v), 0);
  ck_assert_uint_eq (v, 65536);
  ck_assert_int_eq (lvm_report_get_u64 (h, &rep, 2, "lv_size", &v), 0);
  ck_assert_uint_eq (v, 64 << 20);
  /* data_percent "4.69" of 64 MiB. */
  ck_assert_uint_eq (lvm_percent_of (lvm_report_get (&rep, 2, "data_percent"),
                                     v), 3147405);
  lvm_report_free (&rep);
  free (json);

  /* With -a: hidden LVs in brackets. */
  json = capture ("lvs-hidden.json");
  ck_assert_int_eq (lvm_report_parse (h, json, "lv", LVM_LVS_FIELDS, &rep), 0);
  ck_assert_uint_eq (rep.nr_rows, 7);
  ck_assert_str_eq (lvm_report_get (&rep, 5, "lv_name"), "[tp_tdata]");
  lvm_report_free (&rep);
  free (json);

  json = capture ("lvs-thin1.json");
  ck_assert_int_eq (lvm_report_parse (h, json, "lv", LVM_LVS_FIELDS, &rep), 0);
  ck_assert_uint_eq (rep.nr_rows, 1);
  ck_assert_str_eq (lvm_report_get (&rep, 0, "discards"), "passdown");
  lvm_report_free (&rep);
  free (json);

  json = capture ("lvs-nosuch.json");
  ck_assert_int_eq (lvm_report_parse (h, json, "lv", LVM_LVS_FIELDS, &rep), 0);
  ck_assert_uint_eq (rep.nr_rows, 0);
  lvm_report_free (&rep);
  free (json);
}
END_TEST

/* The captures tests/make-lvm-reports.sh made in the test VM (same
 * columns as the backend asks for): every one parses.
 */
START_TEST (test_vm_captures)
{
  static const struct { const char *file, *section, *fields; size_t rows; }
  caps[] = {
    { "vm-lvs-all.json", "lv", LVM_LVS_FIELDS, 0 },
    { "vm-lvs-all-hidden.json", "lv", LVM_LVS_FIELDS, 0 },
    { "vm-lvs-empty-vg.json", "lv", LVM_LVS_FIELDS, 0 },
    { "vm-lvs-nosuch-lv.json", "lv", LVM_LVS_FIELDS, 0 },
    { "vm-lvs-nosuch-vg.json", "lv", LVM_LVS_FIELDS, 0 },
    { "vm-lvs-one-linear.json", "lv", LVM_LVS_FIELDS, 1 },
    { "vm-lvs-one-old-snapshot.json", "lv", LVM_LVS_FIELDS, 1 },
    { "vm-lvs-one-thin-pool.json", "lv", LVM_LVS_FIELDS, 1 },
    { "vm-lvs-one-thin-snapshot.json", "lv", LVM_LVS_FIELDS, 1 },
    { "vm-lvs-thinsnap-inactive.json", "lv", LVM_LVS_FIELDS, 1 },
    { "vm-vgs-two-pvs-empty.json", "vg", LVM_VGS_FIELDS, 1 },
    { "vm-vgs-two-pvs-used.json", "vg", LVM_VGS_FIELDS, 1 },
    { "vm-pvs-two-pvs-in-vg.json", "pv", LVM_PVS_FIELDS, 2 },
    { "vm-pvs-two-pvs-no-vg.json", "pv", LVM_PVS_FIELDS, 2 },
  };
  size_t i;

  for (i = 0; i < sizeof caps / sizeof caps[0]; ++i) {
    char *json = capture (caps[i].file);
    struct lvm_report rep;

    ck_assert_msg (lvm_report_parse (h, json, caps[i].section,
                                     caps[i].fields, &rep) == 0,
                   "%s: %s", caps[i].file, gk_last_error (h));
    if (caps[i].rows)
      ck_assert_uint_eq (rep.nr_rows, caps[i].rows);
    lvm_report_free (&rep);
    free (json);
  }
}
END_TEST

START_TEST (test_percent)
{
  ck_assert_uint_eq (lvm_percent_of ("", 1000), 0);
  ck_assert_uint_eq (lvm_percent_of (NULL, 1000), 0);
  ck_assert_uint_eq (lvm_percent_of ("0.00", 1000), 0);
  ck_assert_uint_eq (lvm_percent_of ("50", 1000), 500);
  ck_assert_uint_eq (lvm_percent_of ("12.5", 1000), 125);
  ck_assert_uint_eq (lvm_percent_of ("12.34", 10000), 1234);
  ck_assert_uint_eq (lvm_percent_of ("12.349", 10000), 1234);
  ck_assert_uint_eq (lvm_percent_of ("100.00", 1000), 1000);
  ck_assert_uint_eq (lvm_percent_of ("250.00", 1000), 1000);
  ck_assert_uint_eq (lvm_percent_of ("1.50", UINT64_C (1) << 62),
                     UINT64_C (69175290276410818));   /* 2^62 * 0.015 */
  ck_assert_uint_eq (lvm_percent_of ("x", 1000), 0);
  ck_assert_uint_eq (lvm_percent_of ("1.2x", 1000), 0);
  ck_assert_uint_eq (lvm_percent_of (".5", 1000), 0);
}
END_TEST

/* Each is an error naming the problem, never a crash. */
static void
bad (const char *json, const char *section, const char *fields,
     const char *expect)
{
  struct lvm_report rep;

  ck_assert_int_eq (lvm_report_parse (h, json, section, fields, &rep), -1);
  ck_assert_ptr_nonnull (gk_last_error (h));
  ck_assert_msg (strstr (gk_last_error (h), expect) != NULL,
                 "error ‘%s’ lacks ‘%s’", gk_last_error (h), expect);
  ck_assert_ptr_null (strchr (gk_last_error (h), '\n'));
  ck_assert_uint_eq (rep.nr_rows, 0);
  ck_assert_ptr_null (rep.values);
}

START_TEST (test_malformed)
{
  char *json = capture ("lvs-all.json");

  bad ("", "lv", "lv_name", "malformed JSON");
  bad ("{", "lv", "lv_name", "malformed JSON");
  bad ("not json", "lv", "lv_name", "malformed JSON");
  bad ("{\"report\": [{\"lv\": []}]} trailing", "lv", "lv_name",
       "unexpected text after");
  bad ("[1, 2]", "lv", "lv_name", "no \"report\" array");
  bad ("{\"report\": 5}", "lv", "lv_name", "no \"report\" array");
  bad ("{\"report\": [{\"vg\": []}]}", "lv", "lv_name", "no ‘lv’ section");
  bad ("{\"report\": [{\"lv\": {}}]}", "lv", "lv_name", "not an array");
  bad ("{\"report\": [{\"lv\": [5]}]}", "lv", "lv_name", "not a JSON object");
  bad ("{\"report\": [{\"lv\": [{\"lv_name\": 5}]}]}", "lv", "lv_name",
       "‘lv_name’ of ‘lv’ is not a string");
  bad ("{\"report\": [{\"lv\": [{\"lv_name\": \"a\"}, {}]}]}", "lv",
       "lv_name", "the column ‘lv_name’ is missing");
  /* A real capture cut in the middle, and asked for a column it lacks. */
  json[strlen (json) / 2] = '\0';
  bad (json, "lv", LVM_LVS_FIELDS, "malformed JSON");
  free (json);
  json = capture ("lvs-all.json");
  bad (json, "lv", "lv_name,lv_attr", "the column ‘lv_attr’ is missing");
  free (json);
}
END_TEST

static Suite *
lvm_report_suite (void)
{
  Suite *s = suite_create ("lvm-report");
  TCase *tc = tcase_create ("core");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_vgs);
  tcase_add_test (tc, test_pvs);
  tcase_add_test (tc, test_lvs);
  tcase_add_test (tc, test_vm_captures);
  tcase_add_test (tc, test_percent);
  tcase_add_test (tc, test_malformed);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return run_suite (lvm_report_suite ());
}
