/* guestkit: run a check suite and turn its result into an exit status,
 * for every unit test's main().
 */
#ifndef GUESTKIT_RUN_SUITE_H
#define GUESTKIT_RUN_SUITE_H

#include <stdlib.h>
#include <check.h>

static inline int
run_suite (Suite *s)
{
  SRunner *sr = srunner_create (s);
  int failed;

  srunner_run_all (sr, CK_NORMAL);
  failed = srunner_ntests_failed (sr);
  srunner_free (sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* GUESTKIT_RUN_SUITE_H */
