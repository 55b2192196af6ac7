/* guestkit: cleanup attributes shared by the library, the tools and the tests.
 *
 * A variable declared with one of these is released automatically when it
 * goes out of scope, so every early return frees what it owns:
 *
 *   CLEANUP_FREE char *s = NULL;
 *   CLEANUP_CLOSE int fd = -1;
 *
 * Each helper accepts the "empty" value (NULL, -1) and does nothing for it.
 * To hand ownership out of a scope, set the variable to the empty value after
 * copying it (see TAKE_PTR).
 */
#ifndef GUESTKIT_CLEANUPS_H
#define GUESTKIT_CLEANUPS_H

#include <stdio.h>

extern void cleanup_free (void *ptr);
extern void cleanup_close (int *fd);
extern void cleanup_fclose (FILE **fp);
extern void cleanup_free_string_list (char ***list);
extern void cleanup_xmlFreeDoc (void *ptr);
extern void cleanup_xmlXPathFreeContext (void *ptr);
extern void cleanup_xmlXPathFreeObject (void *ptr);
extern void cleanup_xmlFree (void *ptr);

#define CLEANUP_FREE __attribute__ ((cleanup (cleanup_free)))
#define CLEANUP_CLOSE __attribute__ ((cleanup (cleanup_close)))
#define CLEANUP_FCLOSE __attribute__ ((cleanup (cleanup_fclose)))
#define CLEANUP_FREE_STRING_LIST \
  __attribute__ ((cleanup (cleanup_free_string_list)))
#define CLEANUP_XMLFREEDOC __attribute__ ((cleanup (cleanup_xmlFreeDoc)))
#define CLEANUP_XMLXPATHFREECONTEXT \
  __attribute__ ((cleanup (cleanup_xmlXPathFreeContext)))
#define CLEANUP_XMLXPATHFREEOBJECT \
  __attribute__ ((cleanup (cleanup_xmlXPathFreeObject)))
#define CLEANUP_XMLFREE __attribute__ ((cleanup (cleanup_xmlFree)))

/* Return the pointer and leave NULL behind, to pass ownership on. */
#define TAKE_PTR(p) ({ __typeof__ (p) take_ptr_tmp_ = (p); (p) = NULL; take_ptr_tmp_; })

/* Free a NULL-terminated list of strings (NULL is allowed). */
extern void free_string_list (char **list);

#endif /* GUESTKIT_CLEANUPS_H */
