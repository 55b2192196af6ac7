/* libguestkit: the handle, debugging and tracing. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "internal.h"

extern gk_error_handler_cb gk_int_default_error_handler;

/* GUESTKIT_DEBUG=1 turns on debug messages, GUESTKIT_TRACE=1 tracing, for
 * programs that offer no -v or -x of their own.
 */
static int
env_flag (const char *name)
{
  const char *v = getenv (name);

  return v != NULL && strcmp (v, "") != 0 && strcmp (v, "0") != 0;
}

gk_h *
gk_create (void)
{
  gk_h *h;
  const char *s;

  h = calloc (1, sizeof *h);
  if (h == NULL) {
    gk_int_set_create_error ("gk_create: cannot allocate the handle: "
                             "out of memory");
    return NULL;
  }
  h->error_cb = gk_int_default_error_handler;
  h->verbose = env_flag ("GUESTKIT_DEBUG");
  h->trace = env_flag ("GUESTKIT_TRACE");
  h->launch_timeout = 300;
  h->autolaunch = 1;
  h->autosync = 1;

  s = getenv ("GUESTKIT_ACCEL");
  if (s == NULL || strcmp (s, "") == 0 || strcmp (s, "auto") == 0)
    h->accel = GK_ACCEL_AUTO;
  else if (strcmp (s, "kvm") == 0)
    h->accel = GK_ACCEL_KVM;
  else if (strcmp (s, "tcg") == 0)
    h->accel = GK_ACCEL_TCG;
  else {
    gk_int_set_create_error ("GUESTKIT_ACCEL must be kvm, tcg or auto");
    free (h);
    return NULL;
  }

  s = getenv ("GUESTKIT_ENGINE");
  if (s == NULL || strcmp (s, "") == 0 || strcmp (s, "auto") == 0)
    h->engine = GK_ENGINE_AUTO;
  else if (strcmp (s, "appliance") == 0)
    h->engine = GK_ENGINE_APPLIANCE;
  else if (strcmp (s, "native") == 0)
    h->engine = GK_ENGINE_NATIVE;
  else {
    gk_int_set_create_error ("GUESTKIT_ENGINE must be auto, appliance or "
                             "native");
    free (h);
    return NULL;
  }

  s = getenv ("GUESTKIT_LAUNCH_TIMEOUT");
  if (s != NULL && strcmp (s, "") != 0) {
    char *end;
    long v;

    errno = 0;
    v = strtol (s, &end, 10);
    if (errno != 0 || *end != '\0' || v <= 0 || v > 86400) {
      gk_int_set_create_error ("GUESTKIT_LAUNCH_TIMEOUT must be a number of "
                               "seconds between 1 and 86400");
      free (h);
      return NULL;
    }
    h->launch_timeout = v;
  }

  trace (h, "gk_create");
  return h;
}

void
gk_close (gk_h *h)
{
  size_t i;

  if (h == NULL)
    return;
  trace (h, "gk_close");
  gk_int_mount_local_free (h);
  gk_int_files_native_free (h);
  gk_int_appliance_free (h);
  for (i = 0; i < h->drives.len; ++i)
    gk_int_free_drive (&h->drives.ptr[i]);
  drive_vector_reset (&h->drives);
  error_handler_vector_reset (&h->error_stack);
  free (h->state_dir);
  free (h->last_error);
  free (h);
}

const char *
gk_version (void)
{
  return PACKAGE_VERSION;
}

void
gk_set_log_callback (gk_h *h, gk_log_cb cb, void *opaque)
{
  h->log_cb = cb;
  h->log_cb_opaque = opaque;
}

void
gk_set_verbose (gk_h *h, int verbose)
{
  h->verbose = verbose;
}

int
gk_get_verbose (gk_h *h)
{
  return h->verbose;
}

void
gk_set_trace (gk_h *h, int t)
{
  h->trace = t;
}

int
gk_get_trace (gk_h *h)
{
  return h->trace;
}

static void
log_message (gk_h *h, int level, const char *fs, va_list args)
{
  CLEANUP_FREE char *msg = NULL;
  const char *what;

  if (vasprintf (&msg, fs, args) == -1)
    return;
  if (h->log_cb) {
    h->log_cb (h, h->log_cb_opaque, level, msg);
    return;
  }
  what = level == GK_LOG_TRACE ? "trace"
    : level == GK_LOG_WARNING ? "warning" : "debug";
  fprintf (stderr, "libguestkit: %s: %s\n", what, msg);
}

void
gk_int_debug (gk_h *h, const char *fs, ...)
{
  va_list args;

  if (!h->verbose)
    return;
  va_start (args, fs);
  log_message (h, GK_LOG_DEBUG, fs, args);
  va_end (args);
}

void
gk_int_trace (gk_h *h, const char *fs, ...)
{
  va_list args;

  if (!h->trace)
    return;
  va_start (args, fs);
  log_message (h, GK_LOG_TRACE, fs, args);
  va_end (args);
}

void
gk_int_warning (gk_h *h, const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  log_message (h, GK_LOG_WARNING, fs, args);
  va_end (args);
}

void
gk_free_string_list (char **list)
{
  free_string_list (list);
}

int
gk_set_engine (gk_h *h, int engine)
{
  trace (h, "gk_set_engine %d", engine);
  if (engine != GK_ENGINE_AUTO && engine != GK_ENGINE_APPLIANCE &&
      engine != GK_ENGINE_NATIVE) {
    error_errno (h, EINVAL, "set_engine: %d is not GK_ENGINE_AUTO, "
                 "GK_ENGINE_APPLIANCE or GK_ENGINE_NATIVE", engine);
    return -1;
  }
  h->engine = engine;
  return 0;
}

int
gk_get_engine (gk_h *h)
{
  return h->engine;
}
