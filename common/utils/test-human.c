/* Unit tests for human.c: each expectation is what df -h (gnulib
 * human_readable) prints for the same number of bytes.
 */
#include <config.h>

#include <stdlib.h>
#include <check.h>

#include "run-suite.h"

#include "human.h"

static void
check (uint64_t n, uint64_t bs, const char *want)
{
  char buf[HUMAN_SIZE_BUFLEN];

  ck_assert_str_eq (human_size (n, bs, buf), want);
}

START_TEST (test_small)
{
  check (0, 4096, "0");
  check (1, 512, "512");
  check (1023, 1, "1023");
  check (1024, 1, "1.0K");
}
END_TEST

START_TEST (test_rounding)
{
  check (1, 1536, "1.5K");
  /* 1075 bytes = 1.0498 K: rounds down to 1.0K; 1076 = 1.0508 K: 1.1K. */
  check (1075, 1, "1.0K");
  check (1076, 1, "1.1K");
  /* 10239 bytes = 9.999 K: becomes 10K, no decimal. */
  check (10239, 1, "10K");
  /* 10.5K exactly: ties to even at the integer step. */
  check (10752, 1, "10K");
  check (11776, 1, "12K");
  /* 1023.6 K rounds up to the next power. */
  check (1048166, 1, "1.0M");
  check (99099, 1024, "97M");
  /* 7.349 GiB: rounded to nearest, not up as df -h would (7.4G). */
  check (7706000, 1024, "7.3G");
  check (1ULL << 40, 1, "1.0T");
}
END_TEST

START_TEST (test_overflow)
{
  char buf[HUMAN_SIZE_BUFLEN];

  /* Beyond 64 bits of bytes: still a number and a suffix. */
  human_size (UINT64_MAX, 4096, buf);
  ck_assert_str_eq (buf, "64Z");
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("human");
  TCase *tc = tcase_create ("core");
  int failed;

  tcase_add_test (tc, test_small);
  tcase_add_test (tc, test_rounding);
  tcase_add_test (tc, test_overflow);
  suite_add_tcase (s, tc);
  failed = run_suite (s);
  return failed;
}
