/* guestkit's appliance module (appliance.so): the libguestfs engine.
 *
 * This is the only file that includes <guestfs.h>.  It is a module loaded
 * on first use (lib/modules.h), so that programs that never need the
 * appliance never load libguestfs; lib/appliance.c holds the public gk_*
 * functions, which trace and forward here.  The libguestfs handle
 * is created when first needed and launched lazily by the first call that
 * needs the appliance.  libguestfs's own error printing is silenced: each
 * failure is copied into the guestkit handle exactly once (copy_error), and
 * libguestfs's debug and trace events are forwarded to ours.
 *
 * Before launching, the appliance is told to use TCG unless KVM is really
 * usable (accel.c), and a watchdog bounds the launch: if qemu has not come
 * up within the handle's launch timeout, the watchdog kills this launch's
 * qemu and the launch fails with a clear error instead of hanging.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <dirent.h>
#include <pthread.h>
#include <time.h>

#include <guestfs.h>

#include "internal.h"
#include "modules.h"

struct appliance {
  guestfs_h *g;
  bool launched;
  char *linebuf;            /* partial line of appliance messages */
  size_t linelen;
};

/* Copy libguestfs's last error into ours.  libguestfs's launch errors span
 * several lines of advice: keep the first line only, one clear line.
 */
static void
copy_error (gk_h *h, guestfs_h *g, const char *what)
{
  const char *msg = guestfs_last_error (g);
  int errnum = guestfs_last_errno (g);
  size_t len;

  if (msg == NULL)
    msg = "unknown libguestfs error";
  len = strcspn (msg, "\n");
  if (what)
    error_errno (h, errnum, "%s: %.*s", what, (int) len, msg);
  else
    error_errno (h, errnum, "%.*s", (int) len, msg);
}

/* Forward libguestfs's messages, line by line, as our debug messages. */
static void
event_cb (guestfs_h *g, void *opaque, uint64_t event, int event_handle,
          int flags, const char *buf, size_t buf_len,
          const uint64_t *array, size_t array_len)
{
  gk_h *h = opaque;
  struct appliance *a = h->appliance;
  size_t i;

  if (event == GUESTFS_EVENT_TRACE) {
    trace (h, "libguestfs: %.*s", (int) buf_len, buf);
    return;
  }
  if (!h->verbose)
    return;
  if (event == GUESTFS_EVENT_LIBRARY || event == GUESTFS_EVENT_WARNING) {
    debug (h, "libguestfs: %.*s", (int) buf_len, buf);
    return;
  }
  /* GUESTFS_EVENT_APPLIANCE: console output in arbitrary chunks. */
  for (i = 0; i < buf_len; ++i) {
    char c = buf[i];

    if (c == '\n' || a->linelen >= 4095) {
      debug (h, "appliance: %.*s", (int) a->linelen, a->linebuf);
      a->linelen = 0;
      if (c == '\n')
        continue;
    }
    if (c != '\r')
      a->linebuf[a->linelen++] = c;
  }
}

/* The appliance state, creating the libguestfs handle if needed. */
static struct appliance *
get_appliance (gk_h *h)
{
  struct appliance *a;
  guestfs_h *g;

  if (h->appliance)
    return h->appliance;
  a = calloc (1, sizeof *a);
  if (a)
    a->linebuf = malloc (4096);
  if (a == NULL || a->linebuf == NULL) {
    perrorf (h, "appliance");
    free (a);
    return NULL;
  }
  g = guestfs_create_flags (GUESTFS_CREATE_NO_ENVIRONMENT);
  if (g == NULL) {
    perrorf (h, "guestfs_create");
    free (a->linebuf);
    free (a);
    return NULL;
  }
  guestfs_set_error_handler (g, NULL, NULL);
  /* LIBGUESTFS_* variables still apply: the user may need a backend. */
  if (guestfs_parse_environment (g) == -1) {
    copy_error (h, g, "appliance");
    guestfs_close (g);
    free (a->linebuf);
    free (a);
    return NULL;
  }
  guestfs_set_verbose (g, h->verbose);
  guestfs_set_trace (g, h->trace);
  if (guestfs_set_event_callback (g, event_cb,
                                  GUESTFS_EVENT_LIBRARY |
                                  GUESTFS_EVENT_APPLIANCE |
                                  GUESTFS_EVENT_WARNING |
                                  GUESTFS_EVENT_TRACE, 0, h) == -1) {
    copy_error (h, g, "appliance");
    guestfs_close (g);
    free (a->linebuf);
    free (a);
    return NULL;
  }
  a->g = g;
  h->appliance = a;
  return a;
}

static void
appliance_free (gk_h *h)
{
  struct appliance *a = h->appliance;

  if (a == NULL)
    return;
  if (a->g) {
    if (a->launched)
      guestfs_shutdown (a->g);
    guestfs_close (a->g);
  }
  free (a->linebuf);
  free (a);
  h->appliance = NULL;
}

static int
add_drives (gk_h *h, guestfs_h *g)
{
  size_t i;

  for (i = 0; i < h->drives.len; ++i) {
    const struct drive *drv = &h->drives.ptr[i];
    struct guestfs_add_drive_opts_argv optargs = { .bitmask = 0 };

    optargs.bitmask |= GUESTFS_ADD_DRIVE_OPTS_READONLY_BITMASK;
    optargs.readonly = drv->readonly;
    if (drv->format) {
      optargs.bitmask |= GUESTFS_ADD_DRIVE_OPTS_FORMAT_BITMASK;
      optargs.format = drv->format;
    }
    if (strcmp (drv->protocol, "file") != 0) {
      optargs.bitmask |= GUESTFS_ADD_DRIVE_OPTS_PROTOCOL_BITMASK;
      optargs.protocol = drv->protocol;
    }
    if (drv->servers) {
      optargs.bitmask |= GUESTFS_ADD_DRIVE_OPTS_SERVER_BITMASK;
      optargs.server = drv->servers;
    }
    if (drv->username) {
      optargs.bitmask |= GUESTFS_ADD_DRIVE_OPTS_USERNAME_BITMASK;
      optargs.username = drv->username;
    }
    if (drv->secret) {
      optargs.bitmask |= GUESTFS_ADD_DRIVE_OPTS_SECRET_BITMASK;
      optargs.secret = drv->secret;
    }
    if (drv->blocksize) {
      optargs.bitmask |= GUESTFS_ADD_DRIVE_OPTS_BLOCKSIZE_BITMASK;
      optargs.blocksize = drv->blocksize;
    }
    if (guestfs_add_drive_opts_argv (g, drv->path, &optargs) == -1) {
      copy_error (h, g, NULL);
      return -1;
    }
  }
  return 0;
}

/* The launch watchdog.  Each launch appends a unique token to the
 * appliance's kernel command line, so the watchdog can find exactly this
 * launch's qemu among the children of the process (other threads may be
 * launching their own appliances at the same time).
 */
struct watchdog {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool done;                    /* launch returned */
  bool fired;                   /* the timeout killed qemu */
  int timeout;
  char token[64];
};

static bool
pid_has_token (pid_t pid, const char *token)
{
  char path[64], buf[8192];
  FILE *fp;
  size_t n, i;
  bool found = false;

  snprintf (path, sizeof path, "/proc/%d/cmdline", (int) pid);
  fp = fopen (path, "r");
  if (fp == NULL)
    return false;
  n = fread (buf, 1, sizeof buf - 1, fp);
  fclose (fp);
  for (i = 0; i < n; ++i)
    if (buf[i] == '\0')
      buf[i] = ' ';
  buf[n] = '\0';
  found = strstr (buf, token) != NULL;
  return found;
}

static pid_t
parent_of (pid_t pid)
{
  char path[64], line[256];
  FILE *fp;
  int ppid = -1;

  snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
  fp = fopen (path, "r");
  if (fp == NULL)
    return -1;
  while (fgets (line, sizeof line, fp))
    if (sscanf (line, "PPid: %d", &ppid) == 1)
      break;
  fclose (fp);
  return ppid;
}

static void
kill_launch (const char *token)
{
  DIR *dir = opendir ("/proc");
  struct dirent *d;
  pid_t self = getpid ();

  if (dir == NULL)
    return;
  while ((d = readdir (dir)) != NULL) {
    pid_t pid = atoi (d->d_name);

    if (pid > 0 && parent_of (pid) == self && pid_has_token (pid, token))
      kill (pid, SIGKILL);
  }
  closedir (dir);
}

static void *
watchdog_thread (void *arg)
{
  struct watchdog *w = arg;
  struct timespec deadline;

  clock_gettime (CLOCK_REALTIME, &deadline);
  deadline.tv_sec += w->timeout;
  pthread_mutex_lock (&w->lock);
  while (!w->done) {
    if (pthread_cond_timedwait (&w->cond, &w->lock, &deadline) == ETIMEDOUT) {
      if (!w->done) {
        w->fired = true;
        kill_launch (w->token);
        /* Keep killing until launch gives up (qemu may be restarted). */
        deadline.tv_sec += 1;
      }
    }
  }
  pthread_mutex_unlock (&w->lock);
  return NULL;
}

static int
launch (gk_h *h)
{
  struct appliance *a;
  struct watchdog w = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .cond = PTHREAD_COND_INITIALIZER,
  };
  pthread_t thread;
  int accel, r, err;
  char append[128];

  if (h->appliance && h->appliance->launched)
    return 0;
  if (h->drives.len == 0) {
    error_errno (h, EINVAL, "launch: no drives were added");
    return -1;
  }
  a = get_appliance (h);
  if (a == NULL)
    return -1;
  if (add_drives (h, a->g) == -1)
    goto fail;

  accel = gk_int_choose_accel (h);
  if (accel == GK_ACCEL_TCG) {
    char *settings[] = { (char *) "force_tcg", NULL };

    if (guestfs_set_backend_settings (a->g, settings) == -1) {
      copy_error (h, a->g, "launch");
      goto fail;
    }
  }

  snprintf (w.token, sizeof w.token, "guestkit.launch=%d.%lx.%lx",
            (int) getpid (), (unsigned long) pthread_self (),
            (unsigned long) time (NULL));
  snprintf (append, sizeof append, "%s", w.token);
  if (guestfs_set_append (a->g, append) == -1) {
    copy_error (h, a->g, "launch");
    goto fail;
  }
  w.timeout = h->launch_timeout;
  debug (h, "launching the appliance (%s, timeout %d s)",
         accel == GK_ACCEL_TCG ? "TCG" : "KVM", w.timeout);

  err = pthread_create (&thread, NULL, watchdog_thread, &w);
  if (err != 0) {
    errno = err;
    perrorf (h, "launch: pthread_create");
    goto fail;
  }
  r = guestfs_launch (a->g);
  pthread_mutex_lock (&w.lock);
  w.done = true;
  pthread_cond_signal (&w.cond);
  pthread_mutex_unlock (&w.lock);
  pthread_join (thread, NULL);

  if (r == -1) {
    if (w.fired)
      error_errno (h, ETIMEDOUT, "launch: the appliance did not come up "
                   "within %d seconds (raise the limit with "
                   "GUESTKIT_LAUNCH_TIMEOUT; run with -v to see why)",
                   w.timeout);
    else if (strncmp (guestfs_last_error (a->g) ? : "",
                      "guestfs_launch failed", 21) == 0)
      /* libguestfs's message is advice over several lines; say it in one. */
      error_errno (h, guestfs_last_errno (a->g),
                   "launch: the appliance failed to start (%s; run with -v "
                   "to see its messages)",
                   accel == GK_ACCEL_TCG ? "TCG" : "KVM");
    else
      copy_error (h, a->g, "launch");
    goto fail;
  }
  a->launched = true;
  return 0;

 fail:
  /* Start from a fresh libguestfs handle next time. */
  appliance_free (h);
  return -1;
}

static int
shutdown_appliance (gk_h *h)
{
  struct appliance *a = h->appliance;

  if (a == NULL || !a->launched)
    return 0;
  if (guestfs_shutdown (a->g) == -1) {
    copy_error (h, a->g, "shutdown");
    return -1;
  }
  a->launched = false;
  return 0;
}

/* The launched libguestfs handle, launching it if needed. */
static guestfs_h *
launched (gk_h *h)
{
  if (launch (h) == -1)
    return NULL;
  return h->appliance->g;
}

static char **
list_devices (gk_h *h)
{
  guestfs_h *g;
  char **r;

  if ((g = launched (h)) == NULL)
    return NULL;
  r = guestfs_list_devices (g);
  if (r == NULL)
    copy_error (h, g, "list_devices");
  return r;
}

static char **
list_filesystems (gk_h *h)
{
  guestfs_h *g;
  char **r;

  if ((g = launched (h)) == NULL)
    return NULL;
  r = guestfs_list_filesystems (g);
  if (r == NULL)
    copy_error (h, g, "list_filesystems");
  return r;
}

static char *
canonical_device_name (gk_h *h, const char *device)
{
  guestfs_h *g;
  char *r;

  if ((g = launched (h)) == NULL)
    return NULL;
  r = guestfs_canonical_device_name (g, device);
  if (r == NULL)
    copy_error (h, g, "canonical_device_name");
  return r;
}

static int
mount_ro (gk_h *h, const char *mountable, const char *mountpoint)
{
  guestfs_h *g;

  if ((g = launched (h)) == NULL)
    return -1;
  if (guestfs_mount_ro (g, mountable, mountpoint) == -1) {
    copy_error (h, g, NULL);
    return -1;
  }
  return 0;
}

static int
umount_all (gk_h *h)
{
  guestfs_h *g;

  if ((g = launched (h)) == NULL)
    return -1;
  if (guestfs_umount_all (g) == -1) {
    copy_error (h, g, NULL);
    return -1;
  }
  return 0;
}

static int
statvfs_ (gk_h *h, const char *path, struct gk_statvfs *ret)
{
  guestfs_h *g;
  struct guestfs_statvfs *st;

  if ((g = launched (h)) == NULL)
    return -1;
  st = guestfs_statvfs (g, path);
  if (st == NULL) {
    copy_error (h, g, NULL);
    return -1;
  }
  ret->bsize = st->bsize;
  ret->frsize = st->frsize;
  ret->blocks = st->blocks;
  ret->bfree = st->bfree;
  ret->bavail = st->bavail;
  ret->files = st->files;
  ret->ffree = st->ffree;
  ret->favail = st->favail;
  ret->fsid = st->fsid;
  ret->flag = st->flag;
  ret->namemax = st->namemax;
  guestfs_free_statvfs (st);
  return 0;
}

static char **
inspect_os (gk_h *h)
{
  guestfs_h *g;
  char **r;

  if ((g = launched (h)) == NULL)
    return NULL;
  r = guestfs_inspect_os (g);
  if (r == NULL)
    copy_error (h, g, "inspect_os");
  return r;
}

static struct gk_os_info *
inspect_get_info (gk_h *h, const char *root)
{
  guestfs_h *g;
  struct gk_os_info *info;

  if ((g = launched (h)) == NULL)
    return NULL;
  info = calloc (1, sizeof *info);
  if (info == NULL || (info->root = strdup (root)) == NULL) {
    perrorf (h, "inspect_get_info");
    free (info);
    return NULL;
  }
#define GET_STRING(field, fn)                   \
  if ((info->field = fn (g, root)) == NULL)     \
    goto err
  GET_STRING (type, guestfs_inspect_get_type);
  GET_STRING (distro, guestfs_inspect_get_distro);
  GET_STRING (product_name, guestfs_inspect_get_product_name);
  GET_STRING (hostname, guestfs_inspect_get_hostname);
  GET_STRING (arch, guestfs_inspect_get_arch);
  GET_STRING (package_format, guestfs_inspect_get_package_format);
#undef GET_STRING
  if ((info->major_version = guestfs_inspect_get_major_version (g, root)) == -1 ||
      (info->minor_version = guestfs_inspect_get_minor_version (g, root)) == -1)
    goto err;
  if ((info->mountpoints = guestfs_inspect_get_mountpoints (g, root)) == NULL)
    goto err;
  return info;

 err:
  copy_error (h, g, "inspect");
  gk_free_os_info (info);
  return NULL;
}

/* The module's one export (lib/modules.h). */
extern const struct gk_appliance_module guestkit_module;
const struct gk_appliance_module guestkit_module = {
  .hdr = GK_MODULE_HEADER (struct gk_appliance_module, "appliance"),
  .launch = launch,
  .shutdown = shutdown_appliance,
  .appliance_free = appliance_free,
  .list_devices = list_devices,
  .list_filesystems = list_filesystems,
  .canonical_device_name = canonical_device_name,
  .mount_ro = mount_ro,
  .umount_all = umount_all,
  .statvfs = statvfs_,
  .inspect_os = inspect_os,
  .inspect_get_info = inspect_get_info,
};
