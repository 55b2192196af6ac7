/* Unit tests for the names virt-clone generates (lib/clone-names.c):
 * the examples of virt-manager's virt-clone (ANCHORS section 2.3) and the
 * collision counting.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "run-suite.h"

#include "internal.h"
#include "clone.h"

/* Names in use: a NULL-terminated list. */
static int
in_list (void *opaque, const char *name)
{
  const char *const *taken = opaque;

  for (; *taken; ++taken)
    if (strcmp (*taken, name) == 0)
      return 1;
  return 0;
}

static void
name_is (const char *orig, const char *const *taken, const char *want)
{
  gk_h *h = gk_create ();
  char *got = gk_int_clone_name (h, orig, in_list, (void *) taken);

  ck_assert_str_eq (got, want);
  free (got);
  gk_close (h);
}

static void
path_is (const char *vm, const char *newvm, const char *orig,
         const char *const *taken, const char *want)
{
  gk_h *h = gk_create ();
  char *got = gk_int_clone_path (h, vm, newvm, orig, in_list, (void *) taken);

  ck_assert_str_eq (got, want);
  free (got);
  gk_close (h);
}

START_TEST (test_names)
{
  static const char *const none[] = { NULL };
  static const char *const first[] = { "foo-clone", NULL };
  static const char *const two[] = { "foo-clone", "foo-clone1", NULL };
  static const char *const demo[] = { "demo-clone1", NULL };

  name_is ("foo", none, "foo-clone");
  name_is ("foo", first, "foo-clone1");
  name_is ("foo", two, "foo-clone2");
  name_is ("demo-clone", none, "demo-clone1");
  name_is ("demo-clone", demo, "demo-clone2");
  name_is ("foo-clone3", none, "foo-clone4");
  /* "-clone0" is not a clone suffix ([1-9]*): it gets one of its own. */
  name_is ("foo-clone0", none, "foo-clone0-clone");
}
END_TEST

START_TEST (test_paths)
{
  static const char *const none[] = { NULL };
  static const char *const data[] = { "/d/data-clone.qcow2", NULL };
  static const char *const data2[] = { "/d/data-clone.qcow2",
                                       "/d/data-clone-1.qcow2", NULL };

  path_is ("demo", "new", "/d/demo.img", none, "/d/new.img");
  path_is ("demo", "new", "/d/data.qcow2", none, "/d/data-clone.qcow2");
  path_is ("demo", "new", "/d/data.qcow2", data, "/d/data-clone-1.qcow2");
  path_is ("demo", "new", "/d/data.qcow2", data2, "/d/data-clone-2.qcow2");
  /* An "extension" longer than 7 characters is part of the name. */
  path_is ("demo", "new", "/d/demo.diskimage", none,
           "/d/demo.diskimage-clone");
  path_is ("demo", "new", "/d/disk", none, "/d/disk-clone");
  /* A dot in a directory name is no extension (virt-manager's
   * "/d-clone.x/disk" is in a directory that does not exist).
   */
  path_is ("demo", "new", "/d.x/disk", none, "/d.x/disk-clone");
  /* Volume names (no directory). */
  path_is ("demo", "new", "demo.img", none, "new.img");
  path_is ("demo", "new", "vol", none, "vol-clone");
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("clone-names");
  TCase *tc = tcase_create ("clone-names");

  tcase_add_test (tc, test_names);
  tcase_add_test (tc, test_paths);
  suite_add_tcase (s, tc);
  return run_suite (s);
}
