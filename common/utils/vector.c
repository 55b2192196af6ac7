/* guestkit: out-of-line part of the growable array (see vector.h). */
#include <config.h>

#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "vector.h"

int
generic_vector_reserve (void **ptr, size_t *cap, size_t len,
                        size_t n, size_t itemsize)
{
  size_t want, newcap;
  void *p;

  if (len + n < len) {
    errno = ENOMEM;
    return -1;
  }
  want = len + n;
  if (want <= *cap)
    return 0;
  /* Double, so that appending n items costs O(n) overall. */
  newcap = *cap ? *cap : 4;
  while (newcap < want) {
    if (newcap > SIZE_MAX / 2) {
      newcap = want;
      break;
    }
    newcap *= 2;
  }
  if (newcap > SIZE_MAX / itemsize) {
    errno = ENOMEM;
    return -1;
  }
  p = realloc (*ptr, newcap * itemsize);
  if (p == NULL)
    return -1;
  *ptr = p;
  *cap = newcap;
  return 0;
}

int
string_vector_terminate (string_vector *sv)
{
  if (string_vector_append (sv, NULL) == -1)
    return -1;
  sv->len--;                    /* the NULL is not an item */
  return 0;
}

void
string_vector_free_all (string_vector *sv)
{
  size_t i;

  for (i = 0; i < sv->len; ++i)
    free (sv->ptr[i]);
  string_vector_reset (sv);
}

int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}
