/* Unit tests for the library core: handle, errors, debug callbacks. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <check.h>

#include "run-suite.h"

#include "internal.h"

static int calls;
static char last_msg[256];

static void
count_errors (gk_h *h, void *opaque, const char *msg)
{
  calls++;
  snprintf (last_msg, sizeof last_msg, "%s", msg);
  if (opaque)
    (*(int *) opaque)++;
}

START_TEST (test_create_close)
{
  gk_h *h = gk_create ();

  ck_assert_ptr_nonnull (h);
  ck_assert_ptr_null (gk_last_error (h));
  ck_assert_int_eq (gk_last_errno (h), 0);
  ck_assert_uint_eq (gk_nr_drives (h), 0);
  gk_close (h);
  gk_close (NULL);
}
END_TEST

START_TEST (test_error_set_once)
{
  gk_h *h = gk_create ();

  calls = 0;
  gk_set_error_handler (h, count_errors, NULL);
  ck_assert_int_eq (gk_add_drive (h, "/nonexistent/disk.img", NULL, 0, 0), -1);
  ck_assert_int_eq (calls, 1);
  ck_assert_str_eq (gk_last_error (h),
                    "/nonexistent/disk.img: No such file or directory");
  ck_assert_str_eq (last_msg, gk_last_error (h));
  ck_assert_int_eq (gk_last_errno (h), ENOENT);

  /* Bad arguments: one error each, with EINVAL. */
  calls = 0;
  ck_assert_int_eq (gk_add_drive (h, "/dev/null", NULL, 1000, 0), -1);
  ck_assert_int_eq (gk_last_errno (h), EINVAL);
  ck_assert_int_eq (gk_add_drive (h, "/dev/null", "raw;rm", 0, 0), -1);
  ck_assert_int_eq (gk_add_drive (h, "/dev/null", NULL, 0, 0x80), -1);
  ck_assert_int_eq (gk_set_accel (h, 42), -1);
  ck_assert_int_eq (gk_set_launch_timeout (h, 0), -1);
  ck_assert_int_eq (calls, 5);

  /* Launch with no drives fails before any appliance is made. */
  calls = 0;
  ck_assert_int_eq (gk_launch (h), -1);
  ck_assert_int_eq (calls, 1);
  ck_assert_ptr_null (h->appliance);
  gk_close (h);
}
END_TEST

START_TEST (test_handler_stack)
{
  gk_h *h = gk_create ();
  int a = 0, b = 0;
  void *opaque;

  gk_set_error_handler (h, count_errors, &a);
  ck_assert_int_eq (gk_push_error_handler (h, NULL, NULL), 0);
  ck_assert_ptr_null (gk_get_error_handler (h, NULL));
  gk_add_drive (h, "/nonexistent", NULL, 0, 0);
  ck_assert_int_eq (a, 0);
  ck_assert_ptr_nonnull (gk_last_error (h));   /* stored all the same */

  ck_assert_int_eq (gk_push_error_handler (h, count_errors, &b), 0);
  gk_add_drive (h, "/nonexistent", NULL, 0, 0);
  ck_assert_int_eq (b, 1);
  ck_assert_int_eq (gk_pop_error_handler (h), 0);
  ck_assert_int_eq (gk_pop_error_handler (h), 0);
  ck_assert (gk_get_error_handler (h, &opaque) == count_errors);
  ck_assert_ptr_eq (opaque, &a);
  gk_add_drive (h, "/nonexistent", NULL, 0, 0);
  ck_assert_int_eq (a, 1);

  /* Popping an empty stack is itself an error, reported once. */
  ck_assert_int_eq (gk_pop_error_handler (h), -1);
  ck_assert_int_eq (a, 2);
  ck_assert_int_eq (gk_last_errno (h), EINVAL);
  gk_close (h);
}
END_TEST

START_TEST (test_create_error)
{
  gk_h *h;

  setenv ("GUESTKIT_ACCEL", "warp-drive", 1);
  h = gk_create ();
  unsetenv ("GUESTKIT_ACCEL");
  ck_assert_ptr_null (h);
  ck_assert_ptr_nonnull (gk_last_error (NULL));
  ck_assert_ptr_nonnull (strstr (gk_last_error (NULL), "GUESTKIT_ACCEL"));

  setenv ("GUESTKIT_LAUNCH_TIMEOUT", "soon", 1);
  h = gk_create ();
  unsetenv ("GUESTKIT_LAUNCH_TIMEOUT");
  ck_assert_ptr_null (h);
  ck_assert_ptr_nonnull (strstr (gk_last_error (NULL),
                                 "GUESTKIT_LAUNCH_TIMEOUT"));

  setenv ("GUESTKIT_ACCEL", "tcg", 1);
  h = gk_create ();
  unsetenv ("GUESTKIT_ACCEL");
  ck_assert_int_eq (gk_get_accel (h), GK_ACCEL_TCG);
  gk_close (h);
}
END_TEST

static char logged[4096];
static int log_levels;

static void
log_cb (gk_h *h, void *opaque, int level, const char *msg)
{
  log_levels |= 1 << level;
  strncat (logged, msg, sizeof logged - strlen (logged) - 2);
  strcat (logged, "\n");
}

START_TEST (test_debug_trace)
{
  gk_h *h;

  setenv ("GUESTKIT_DEBUG", "1", 1);
  h = gk_create ();
  unsetenv ("GUESTKIT_DEBUG");
  ck_assert_int_eq (gk_get_verbose (h), 1);
  ck_assert_int_eq (gk_get_trace (h), 0);
  logged[0] = '\0';
  log_levels = 0;
  gk_set_log_callback (h, log_cb, NULL);
  gk_set_trace (h, 1);
  gk_set_error_handler (h, NULL, NULL);
  gk_add_drive (h, "/dev/null", "raw", 0, 0);
  ck_assert_ptr_nonnull (strstr (logged, "gk_add_drive \"/dev/null\""));
  ck_assert (log_levels & (1 << GK_LOG_TRACE));
  debug (h, "a debug message %d", 42);
  ck_assert_ptr_nonnull (strstr (logged, "a debug message 42"));
  gk_set_verbose (h, 0);
  debug (h, "hidden");
  ck_assert_ptr_null (strstr (logged, "hidden"));
  ck_assert_uint_eq (gk_nr_drives (h), 1);
  gk_close (h);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("core");
  TCase *tc = tcase_create ("core");
  int failed;

  tcase_add_test (tc, test_create_close);
  tcase_add_test (tc, test_error_set_once);
  tcase_add_test (tc, test_handler_stack);
  tcase_add_test (tc, test_create_error);
  tcase_add_test (tc, test_debug_trace);
  suite_add_tcase (s, tc);
  failed = run_suite (s);
  return failed;
}
