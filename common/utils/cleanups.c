/* guestkit: cleanup attribute helpers (see cleanups.h). */
#include <config.h>

#include <stdlib.h>
#include <unistd.h>
#include <errno.h>

#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "cleanups.h"

void
cleanup_free (void *ptr)
{
  free (*(void **) ptr);
}

void
cleanup_close (int *fd)
{
  /* Keep errno: cleanups run on error paths after errno was set. */
  int saved_errno = errno;

  if (*fd >= 0)
    close (*fd);
  errno = saved_errno;
}

void
cleanup_fclose (FILE **fp)
{
  int saved_errno = errno;

  if (*fp)
    fclose (*fp);
  errno = saved_errno;
}

void
free_string_list (char **list)
{
  size_t i;

  if (list == NULL)
    return;
  for (i = 0; list[i] != NULL; ++i)
    free (list[i]);
  free (list);
}

void
cleanup_free_string_list (char ***list)
{
  free_string_list (*list);
}

void
cleanup_xmlFreeDoc (void *ptr)
{
  xmlDocPtr doc = *(xmlDocPtr *) ptr;

  if (doc)
    xmlFreeDoc (doc);
}

void
cleanup_xmlXPathFreeContext (void *ptr)
{
  xmlXPathContextPtr ctx = *(xmlXPathContextPtr *) ptr;

  if (ctx)
    xmlXPathFreeContext (ctx);
}

void
cleanup_xmlXPathFreeObject (void *ptr)
{
  xmlXPathObjectPtr obj = *(xmlXPathObjectPtr *) ptr;

  if (obj)
    xmlXPathFreeObject (obj);
}

void
cleanup_xmlFree (void *ptr)
{
  xmlChar *s = *(xmlChar **) ptr;

  if (s)
    xmlFree (s);
}
