/* guestkit: a type-safe growable array.
 *
 * DEFINE_VECTOR_TYPE (string_vector, char *);
 * declares
 *
 *   typedef struct { char **ptr; size_t len; size_t cap; } string_vector;
 *
 * and static inline functions string_vector_append, string_vector_reserve,
 * string_vector_insert, string_vector_remove, string_vector_sort,
 * string_vector_iter, string_vector_reset.  Start from the empty vector
 * (string_vector v = empty_vector;).  Functions that allocate return 0 on
 * success or -1 with errno set (ENOMEM) and leave the vector unchanged.
 * The vector owns its array only; reset frees the array, not the elements.
 */
#ifndef GUESTKIT_VECTOR_H
#define GUESTKIT_VECTOR_H

#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdint.h>

#define empty_vector { .ptr = NULL, .len = 0, .cap = 0 }

/* Grow *ptr to hold at least cap + n items of itemsize bytes.  Returns 0 or
 * -1 (ENOMEM or overflow).  Shared by every vector type.
 */
extern int generic_vector_reserve (void **ptr, size_t *cap, size_t len,
                                   size_t n, size_t itemsize);

#define DEFINE_VECTOR_TYPE(name, type)                                  \
  typedef struct {                                                      \
    type *ptr;                  /* the items */                         \
    size_t len;                 /* items in use */                      \
    size_t cap;                 /* items allocated */                   \
  } name;                                                               \
                                                                        \
  static inline __attribute__ ((__unused__)) int                        \
  name##_reserve (name *v, size_t n)                                    \
  {                                                                     \
    return generic_vector_reserve ((void **) &v->ptr, &v->cap, v->len,  \
                                   n, sizeof (type));                   \
  }                                                                     \
                                                                        \
  static inline __attribute__ ((__unused__)) int                        \
  name##_insert (name *v, type elem, size_t i)                          \
  {                                                                     \
    if (i > v->len) {                                                   \
      errno = EINVAL;                                                   \
      return -1;                                                        \
    }                                                                   \
    if (v->len >= v->cap && name##_reserve (v, 1) == -1)                \
      return -1;                                                        \
    memmove (&v->ptr[i+1], &v->ptr[i], (v->len - i) * sizeof (type));   \
    v->ptr[i] = elem;                                                   \
    v->len++;                                                           \
    return 0;                                                           \
  }                                                                     \
                                                                        \
  static inline __attribute__ ((__unused__)) int                        \
  name##_append (name *v, type elem)                                    \
  {                                                                     \
    return name##_insert (v, elem, v->len);                             \
  }                                                                     \
                                                                        \
  static inline __attribute__ ((__unused__)) void                       \
  name##_remove (name *v, size_t i)                                     \
  {                                                                     \
    if (i >= v->len)                                                    \
      return;                                                           \
    memmove (&v->ptr[i], &v->ptr[i+1], (v->len-i-1) * sizeof (type));   \
    v->len--;                                                           \
  }                                                                     \
                                                                        \
  static inline __attribute__ ((__unused__)) void                       \
  name##_reset (name *v)                                                \
  {                                                                     \
    free (v->ptr);                                                      \
    v->ptr = NULL;                                                      \
    v->len = v->cap = 0;                                                \
  }                                                                     \
                                                                        \
  static inline __attribute__ ((__unused__)) void                       \
  name##_iter (name *v, void (*f) (type elem))                          \
  {                                                                     \
    size_t i_;                                                          \
    for (i_ = 0; i_ < v->len; ++i_)                                     \
      f (v->ptr[i_]);                                                   \
  }                                                                     \
                                                                        \
  static inline __attribute__ ((__unused__)) void                       \
  name##_sort (name *v, int (*compare) (const type *, const type *))    \
  {                                                                     \
    if (v->len > 1)                                                     \
      qsort (v->ptr, v->len, sizeof (type), (void *) compare);          \
  }

/* A vector of owned strings, NULL-terminated on demand. */
DEFINE_VECTOR_TYPE (string_vector, char *);

/* qsort comparison for an array of char * (sorts by strcmp). */
extern int compare_strings (const void *a, const void *b);

/* Append a NULL so that sv.ptr can be used as a char ** list. */
extern int string_vector_terminate (string_vector *sv);
/* Free every string and the array. */
extern void string_vector_free_all (string_vector *sv);

#endif /* GUESTKIT_VECTOR_H */
