/* libguestkit: errors live on the handle.
 *
 * Every failing public call sets the handle's error exactly once, through
 * gk_int_error_errno or gk_int_perrorf, and that calls the handler at the
 * top of the handler stack once.  The default handler prints
 * "PROGRAM: MESSAGE" to stderr, so a small tool needs no error printing of
 * its own.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "internal.h"

/* Why the last gk_create failed, per thread (there is no handle then). */
static __thread char create_error[256];

void
gk_int_set_create_error (const char *msg)
{
  snprintf (create_error, sizeof create_error, "%s", msg);
}

static void
default_error_handler (gk_h *h, void *opaque, const char *msg)
{
  fprintf (stderr, "%s: %s\n", program_invocation_short_name, msg);
}

static void
set_last_error (gk_h *h, int errnum, char *msg)
{
  free (h->last_error);
  h->last_error = msg;
  h->last_errno = errnum;
  if (h->error_cb)
    h->error_cb (h, h->error_cb_opaque, msg);
}

void
gk_int_error_errno (gk_h *h, int errnum, const char *fs, ...)
{
  va_list args;
  char *msg;

  va_start (args, fs);
  if (vasprintf (&msg, fs, args) == -1)
    msg = strdup ("out of memory formatting an error message");
  va_end (args);
  if (msg == NULL)
    return;
  set_last_error (h, errnum, msg);
}

void
gk_int_perrorf (gk_h *h, const char *fs, ...)
{
  int errnum = errno;
  va_list args;
  char *msg, *full;

  va_start (args, fs);
  if (vasprintf (&msg, fs, args) == -1)
    msg = NULL;
  va_end (args);
  if (msg == NULL || asprintf (&full, "%s: %s", msg, strerror (errnum)) == -1)
    full = strdup ("out of memory formatting an error message");
  free (msg);
  if (full == NULL)
    return;
  set_last_error (h, errnum, full);
  errno = errnum;
}

const char *
gk_last_error (gk_h *h)
{
  if (h == NULL)
    return create_error[0] ? create_error : NULL;
  return h->last_error;
}

int
gk_last_errno (gk_h *h)
{
  if (h == NULL)
    return 0;
  return h->last_errno;
}

void
gk_set_error_handler (gk_h *h, gk_error_handler_cb cb, void *opaque)
{
  h->error_cb = cb;
  h->error_cb_opaque = opaque;
}

gk_error_handler_cb
gk_get_error_handler (gk_h *h, void **opaque_rtn)
{
  if (opaque_rtn)
    *opaque_rtn = h->error_cb_opaque;
  return h->error_cb;
}

int
gk_push_error_handler (gk_h *h, gk_error_handler_cb cb, void *opaque)
{
  struct error_handler old = { h->error_cb, h->error_cb_opaque };

  if (error_handler_vector_append (&h->error_stack, old) == -1) {
    perrorf (h, "push_error_handler");
    return -1;
  }
  gk_set_error_handler (h, cb, opaque);
  return 0;
}

int
gk_pop_error_handler (gk_h *h)
{
  struct error_handler old;

  if (h->error_stack.len == 0) {
    error_errno (h, EINVAL, "pop_error_handler: the handler stack is empty");
    return -1;
  }
  old = h->error_stack.ptr[h->error_stack.len - 1];
  error_handler_vector_remove (&h->error_stack, h->error_stack.len - 1);
  gk_set_error_handler (h, old.cb, old.opaque);
  return 0;
}

/* Used by handle.c to install the default. */
gk_error_handler_cb gk_int_default_error_handler = default_error_handler;
