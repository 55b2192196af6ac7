/* Unit tests for vector.h. */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <check.h>

#include "run-suite.h"

#include "vector.h"

DEFINE_VECTOR_TYPE (int_vector, int);

static int
compare_int (const int *a, const int *b)
{
  return *a < *b ? -1 : *a > *b;
}

START_TEST (test_append_insert_remove)
{
  int_vector v = empty_vector;
  int i;

  for (i = 0; i < 1000; ++i)
    ck_assert_int_eq (int_vector_append (&v, i), 0);
  ck_assert_uint_eq (v.len, 1000);
  ck_assert_uint_ge (v.cap, 1000);
  for (i = 0; i < 1000; ++i)
    ck_assert_int_eq (v.ptr[i], i);

  ck_assert_int_eq (int_vector_insert (&v, -1, 0), 0);
  ck_assert_int_eq (v.ptr[0], -1);
  ck_assert_int_eq (v.ptr[1], 0);
  ck_assert_int_eq (int_vector_insert (&v, 5, 2000), -1);

  int_vector_remove (&v, 0);
  ck_assert_int_eq (v.ptr[0], 0);
  ck_assert_uint_eq (v.len, 1000);
  int_vector_remove (&v, 999);
  ck_assert_uint_eq (v.len, 999);
  int_vector_remove (&v, 5000);   /* out of range: no-op */
  ck_assert_uint_eq (v.len, 999);

  int_vector_reset (&v);
  ck_assert_ptr_null (v.ptr);
  ck_assert_uint_eq (v.len, 0);
}
END_TEST

START_TEST (test_sort)
{
  int_vector v = empty_vector;
  const int in[] = { 5, 3, 9, 1, 1, 0 };
  size_t i;

  for (i = 0; i < sizeof in / sizeof in[0]; ++i)
    int_vector_append (&v, in[i]);
  int_vector_sort (&v, compare_int);
  for (i = 1; i < v.len; ++i)
    ck_assert_int_le (v.ptr[i-1], v.ptr[i]);
  int_vector_reset (&v);
}
END_TEST

START_TEST (test_string_vector)
{
  string_vector sv = empty_vector;

  ck_assert_int_eq (string_vector_append (&sv, strdup ("a")), 0);
  ck_assert_int_eq (string_vector_append (&sv, strdup ("b")), 0);
  ck_assert_int_eq (string_vector_terminate (&sv), 0);
  ck_assert_uint_eq (sv.len, 2);
  ck_assert_ptr_null (sv.ptr[2]);
  ck_assert_str_eq (sv.ptr[1], "b");
  string_vector_free_all (&sv);
  ck_assert_ptr_null (sv.ptr);
}
END_TEST

START_TEST (test_reserve_overflow)
{
  int_vector v = empty_vector;

  ck_assert_int_eq (int_vector_reserve (&v, SIZE_MAX), -1);
  ck_assert_ptr_null (v.ptr);
  ck_assert_int_eq (int_vector_reserve (&v, 10), 0);
  ck_assert_uint_ge (v.cap, 10);
  int_vector_reset (&v);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("vector");
  TCase *tc = tcase_create ("core");
  int failed;

  tcase_add_test (tc, test_append_insert_remove);
  tcase_add_test (tc, test_sort);
  tcase_add_test (tc, test_string_vector);
  tcase_add_test (tc, test_reserve_overflow);
  suite_add_tcase (s, tc);
  failed = run_suite (s);
  return failed;
}
