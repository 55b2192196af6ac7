/* guestkit's appliance module (appliance.so): the libguestfs engine.
 *
 * This is the only file that includes <guestfs.h>.  It is a module loaded
 * on first use (lib/modules.h), so that programs that never need the
 * appliance never load libguestfs; lib/appliance.c holds the public gk_*
 * functions, which trace and forward here.  The libguestfs handle
 * is created when first needed and launched lazily by the first call that
 * needs the appliance (unless autolaunch is off: then only gk_launch
 * launches it).  libguestfs's own error printing is silenced: each
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
#include <fcntl.h>
#include <pthread.h>
#include <time.h>

#include <guestfs.h>

#include "internal.h"
#include "modules.h"

struct appliance {
  gk_h *h;                  /* the handle this appliance belongs to */
  guestfs_h *g;
  bool launched;
  char *linebuf;            /* partial line of appliance messages */
  size_t linelen;
};

/* Copy libguestfs's last error into ours.  With what (a launch), keep
 * only the first line: libguestfs's launch errors are several lines of
 * advice.  Without it (a call), the message is the user's, whole: it is
 * what libguestfs's own tools print ("ls0: call launch before using this
 * function" is followed by a line of advice for guestfish users).
 */
static void
copy_error (gk_h *h, guestfs_h *g, const char *what)
{
  const char *msg = guestfs_last_error (g);
  int errnum = guestfs_last_errno (g);
  size_t len;

  if (msg == NULL)
    msg = "unknown libguestfs error";
  if (what) {
    len = strcspn (msg, "\n");
    error_errno (h, errnum, "%s: %.*s", what, (int) len, msg);
  }
  else
    error_errno (h, errnum, "%s", msg);
}

/* Forward libguestfs's messages, line by line, as our debug messages,
 * and its progress to the handle's progress callback.  The opaque is the
 * appliance, not the handle: appliance_free detaches it from the handle
 * before the shutdown, whose console messages still arrive here.
 */
static void
event_cb (guestfs_h *g, void *opaque, uint64_t event, int event_handle,
          int flags, const char *buf, size_t buf_len,
          const uint64_t *array, size_t array_len)
{
  struct appliance *a = opaque;
  gk_h *h = a->h;
  size_t i;

  if (event == GUESTFS_EVENT_PROGRESS) {
    /* proc_nr, serial, position, total (guestfs(3)). */
    if (h->progress_cb && array_len >= 4)
      h->progress_cb (h->progress_cb_opaque, array[2], array[3]);
    return;
  }
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
  a->h = h;
  if (guestfs_set_autosync (g, h->autosync) == -1 ||
      guestfs_set_event_callback (g, event_cb,
                                  GUESTFS_EVENT_LIBRARY |
                                  GUESTFS_EVENT_APPLIANCE |
                                  GUESTFS_EVENT_WARNING |
                                  GUESTFS_EVENT_TRACE |
                                  GUESTFS_EVENT_PROGRESS, 0, a) == -1) {
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
  /* Detached first: gk_user_cancel (a signal handler) must not find an
   * appliance being freed.
   */
  h->appliance = NULL;
  if (a->g) {
    if (a->launched)
      guestfs_shutdown (a->g);
    guestfs_close (a->g);
  }
  free (a->linebuf);
  free (a);
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

  if (guestfs_set_pgroup (a->g, h->pgroup) == -1) {
    copy_error (h, a->g, "launch");
    goto fail;
  }
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

/* The launched libguestfs handle, launching it if needed.  With
 * autolaunch off, only the handle (made if needed, never launched): the
 * call on it then fails with libguestfs's own "call launch before using
 * this function", the message guestfish users know.
 */
static guestfs_h *
launched (gk_h *h)
{
  struct appliance *a;

  if (!h->autolaunch) {
    a = get_appliance (h);
    return a ? a->g : NULL;
  }
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
    copy_error (h, g, NULL);
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
    copy_error (h, g, NULL);
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
    copy_error (h, g, NULL);
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
    copy_error (h, g, NULL);
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

/* guestfish's calls (module ABI 3).  Each is the libguestfs call of the
 * same name on the launched handle (launched() honours autolaunch); a
 * failure copies libguestfs's message as it is, without a prefix, so that
 * guestfish prints exactly what libguestfs's guestfish prints.
 */

/* The result r of a call on g, copying g's error if r means failure. */
static void *
ptr_result (gk_h *h, guestfs_h *g, void *r)
{
  if (r == NULL)
    copy_error (h, g, NULL);
  return r;
}

static int
int_result (gk_h *h, guestfs_h *g, int r)
{
  if (r == -1)
    copy_error (h, g, NULL);
  return r;
}

static int64_t
int64_result (gk_h *h, guestfs_h *g, int64_t r)
{
  if (r == -1)
    copy_error (h, g, NULL);
  return r;
}

/* The call's value, or ERR if the handle is not there (error set). */
#define CALL(ptr_or_int, err, call)                             \
  do {                                                          \
    guestfs_h *g = launched (h);                                \
    if (g == NULL)                                              \
      return (err);                                             \
    return ptr_or_int##_result (h, g, (call));                  \
  } while (0)

/* Streams.  libguestfs takes file names only, and reopening "/dev/fd/N"
 * of the caller's descriptor would rewind a file (upload), truncate it
 * (download: "download F -" into a redirected stdout would lose what was
 * printed before) and fail for a socket.  So libguestfs gets one end of
 * a pipe, as "/dev/fd/P", and a thread copies between the other end and
 * the caller's descriptor, at its current position.
 */
struct stream {
  int user_fd;              /* the caller's */
  bool download;            /* pipe -> user_fd; else user_fd -> pipe */
  int ours;                 /* the thread's end of the pipe */
  int theirs;               /* libguestfs opens /dev/fd/theirs */
  char path[32];
  int err;                  /* errno of a failed copy, else 0 */
  pthread_t thread;
};

static void *
stream_thread (void *arg)
{
  struct stream *st = arg;
  int src = st->download ? st->ours : st->user_fd;
  int dst = st->download ? st->user_fd : st->ours;
  sigset_t pipe_set;
  char buf[65536];

  /* A reader that went away is an error (EPIPE), not a signal. */
  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_set, NULL);
  /* Cancellable only while waiting for the caller's data (upload). */
  pthread_setcancelstate (PTHREAD_CANCEL_DISABLE, NULL);
  for (;;) {
    ssize_t n, off = 0;

    if (!st->download)
      pthread_setcancelstate (PTHREAD_CANCEL_ENABLE, NULL);
    n = read (src, buf, sizeof buf);
    if (!st->download)
      pthread_setcancelstate (PTHREAD_CANCEL_DISABLE, NULL);

    if (n == -1 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == -1 && st->err == 0)
        st->err = errno;
      break;
    }
    /* After a failed write, a download keeps draining the pipe so that
     * libguestfs never blocks on it.
     */
    while (st->err == 0 && off < n) {
      ssize_t w = write (dst, buf + off, n - off);

      if (w == -1 && errno == EINTR)
        continue;
      if (w == -1) {
        st->err = errno;
        break;
      }
      off += w;
    }
    if (st->err && !st->download)
      break;
  }
  if (!st->download) {
    close (st->ours);           /* libguestfs reads EOF */
    st->ours = -1;
  }
  return NULL;
}

/* Run a libguestfs call that reads (download: writes) st.path. */
#define STREAM_CALL(user_fd, download, what, call)              \
  do {                                                          \
    struct stream st;                                           \
    guestfs_h *g = launched (h);                                \
    int r;                                                      \
    if (g == NULL || stream_start (h, &st, (user_fd), (download)) == -1) \
      return -1;                                                \
    r = (call);                                                 \
    if (r == -1)                                                \
      copy_error (h, g, NULL);                                  \
    return stream_finish (h, &st, r, (what));                   \
  } while (0)

static int
stream_start (gk_h *h, struct stream *st, int user_fd, bool download)
{
  int p[2], err;

  st->user_fd = user_fd;
  st->download = download;
  st->err = 0;
  if (pipe2 (p, O_CLOEXEC) == -1) {
    perrorf (h, "pipe");
    return -1;
  }
  st->ours = download ? p[0] : p[1];
  st->theirs = download ? p[1] : p[0];
  snprintf (st->path, sizeof st->path, "/dev/fd/%d", st->theirs);
  err = pthread_create (&st->thread, NULL, stream_thread, st);
  if (err != 0) {
    close (p[0]);
    close (p[1]);
    errno = err;
    perrorf (h, "pthread_create");
    return -1;
  }
  return 0;
}

/* After the libguestfs call (r): close libguestfs's end, wait for the
 * copy, and turn a failed copy into the call's error.
 */
static int
stream_finish (gk_h *h, struct stream *st, int r, const char *what)
{
  close (st->theirs);
  /* An upload that failed may leave the thread waiting on the caller's
   * descriptor (a terminal): read is a cancellation point.
   */
  if (r == -1 && !st->download)
    pthread_cancel (st->thread);
  pthread_join (st->thread, NULL);
  if (st->ours >= 0)
    close (st->ours);
  if (r == 0 && st->err != 0) {
    error_errno (h, st->err, "%s: %s", what, strerror (st->err));
    return -1;
  }
  return r;
}

static int
is_launched (gk_h *h)
{
  struct appliance *a = h->appliance;

  return a != NULL && a->launched;
}

/* guestfs_user_cancel is safe to call from a signal handler. */
static void
user_cancel (gk_h *h)
{
  struct appliance *a = h->appliance;

  if (a != NULL && a->g != NULL)
    guestfs_user_cancel (a->g);
}

static int
set_autosync (gk_h *h, int autosync)
{
  struct appliance *a = h->appliance;

  if (a == NULL)
    return 0;
  return int_result (h, a->g, guestfs_set_autosync (a->g, autosync));
}

static char **
inspect_get_roots (gk_h *h)
{
  CALL (ptr, NULL, guestfs_inspect_get_roots (g));
}

/* guestfish's stat, lstat and inspect-get-format still call these
 * deprecated functions: the same calls give the same messages.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* gk_inspect_get's fields: guestfish's inspect-get-FIELD commands. */
static const struct {
  const char *name;
  char *(*get) (guestfs_h *g, const char *root);
} inspect_fields[] = {
  { "type", guestfs_inspect_get_type },
  { "distro", guestfs_inspect_get_distro },
  { "product-name", guestfs_inspect_get_product_name },
  { "product-variant", guestfs_inspect_get_product_variant },
  { "hostname", guestfs_inspect_get_hostname },
  { "arch", guestfs_inspect_get_arch },
  { "package-format", guestfs_inspect_get_package_format },
  { "package-management", guestfs_inspect_get_package_management },
  { "osinfo", guestfs_inspect_get_osinfo },
  { "format", guestfs_inspect_get_format },
  { "windows-systemroot", guestfs_inspect_get_windows_systemroot },
  { "windows-current-control-set",
    guestfs_inspect_get_windows_current_control_set },
  { "windows-software-hive", guestfs_inspect_get_windows_software_hive },
  { "windows-system-hive", guestfs_inspect_get_windows_system_hive },
};

static void
statns_to_gk (const struct guestfs_statns *st, struct gk_stat *ret)
{
  ret->dev = st->st_dev;
  ret->ino = st->st_ino;
  ret->mode = st->st_mode;
  ret->nlink = st->st_nlink;
  ret->uid = st->st_uid;
  ret->gid = st->st_gid;
  ret->rdev = st->st_rdev;
  ret->size = st->st_size;
  ret->blksize = st->st_blksize;
  ret->blocks = st->st_blocks;
  ret->atime = st->st_atime_sec;
  ret->mtime = st->st_mtime_sec;
  ret->ctime = st->st_ctime_sec;
  ret->atime_nsec = st->st_atime_nsec;
  ret->mtime_nsec = st->st_mtime_nsec;
  ret->ctime_nsec = st->st_ctime_nsec;
}

static int
stat_ (gk_h *h, const char *path, struct gk_stat *ret, unsigned flags)
{
  guestfs_h *g;
  struct guestfs_statns *st;

  if ((g = launched (h)) == NULL)
    return -1;
  if (flags & GK_STAT_NOFOLLOW)
    st = guestfs_lstatns (g, path);
  else
    st = guestfs_statns (g, path);
  if (st == NULL) {
    copy_error (h, g, NULL);
    return -1;
  }
  statns_to_gk (st, ret);
  guestfs_free_statns (st);
  return 0;
}

#pragma GCC diagnostic pop

static char *
inspect_get (gk_h *h, const char *root, const char *field)
{
  guestfs_h *g;
  bool major = strcmp (field, "major-version") == 0;
  bool minor = strcmp (field, "minor-version") == 0;
  char *(*get) (guestfs_h *g, const char *root) = NULL;
  char *r;
  int v;
  size_t i;

  for (i = 0; i < sizeof inspect_fields / sizeof inspect_fields[0]; ++i)
    if (strcmp (field, inspect_fields[i].name) == 0)
      get = inspect_fields[i].get;
  /* Checked before launching: a typo must not cost a launch. */
  if (get == NULL && !major && !minor) {
    error_errno (h, EINVAL, "inspect_get: unknown field '%s'", field);
    return NULL;
  }
  if ((g = launched (h)) == NULL)
    return NULL;
  if (get)
    return ptr_result (h, g, get (g, root));
  v = major ? guestfs_inspect_get_major_version (g, root)
    : guestfs_inspect_get_minor_version (g, root);
  if (v == -1) {
    copy_error (h, g, NULL);
    return NULL;
  }
  if (asprintf (&r, "%d", v) == -1) {
    perrorf (h, "inspect_get");
    return NULL;
  }
  return r;
}

static char **
inspect_get_filesystems (gk_h *h, const char *root)
{
  CALL (ptr, NULL, guestfs_inspect_get_filesystems (g, root));
}

static char **
inspect_get_mountpoints (gk_h *h, const char *root)
{
  CALL (ptr, NULL, guestfs_inspect_get_mountpoints (g, root));
}

static int
mount_ (gk_h *h, const char *mountable, const char *mountpoint,
        const char *options, const char *fstype)
{
  if (options == NULL)
    options = "";
  if (fstype)
    CALL (int, -1, guestfs_mount_vfs (g, options, fstype, mountable,
                                      mountpoint));
  CALL (int, -1, guestfs_mount_options (g, options, mountable, mountpoint));
}

static int
umount_ (gk_h *h, const char *path_or_device, unsigned flags)
{
  struct guestfs_umount_opts_argv optargs = { .bitmask = 0 };

  if (flags & GK_UMOUNT_FORCE) {
    optargs.bitmask |= GUESTFS_UMOUNT_OPTS_FORCE_BITMASK;
    optargs.force = 1;
  }
  if (flags & GK_UMOUNT_LAZY) {
    optargs.bitmask |= GUESTFS_UMOUNT_OPTS_LAZYUNMOUNT_BITMASK;
    optargs.lazyunmount = 1;
  }
  CALL (int, -1, guestfs_umount_opts_argv (g, path_or_device, &optargs));
}

static char **
mounts (gk_h *h)
{
  CALL (ptr, NULL, guestfs_mounts (g));
}

static char **
mountpoints (gk_h *h)
{
  CALL (ptr, NULL, guestfs_mountpoints (g));
}

static int
sync_ (gk_h *h)
{
  CALL (int, -1, guestfs_sync (g));
}

static char **
list_partitions (gk_h *h)
{
  CALL (ptr, NULL, guestfs_list_partitions (g));
}

static char **
lvs (gk_h *h)
{
  CALL (ptr, NULL, guestfs_lvs (g));
}

static char **
vgs (gk_h *h)
{
  CALL (ptr, NULL, guestfs_vgs (g));
}

static char **
pvs (gk_h *h)
{
  CALL (ptr, NULL, guestfs_pvs (g));
}

static int
part_list (gk_h *h, const char *device, struct gk_part_entry **parts_rtn,
           size_t *n_rtn)
{
  guestfs_h *g;
  struct guestfs_partition_list *l;
  struct gk_part_entry *parts;
  size_t i;

  if ((g = launched (h)) == NULL)
    return -1;
  if ((l = guestfs_part_list (g, device)) == NULL) {
    copy_error (h, g, NULL);
    return -1;
  }
  /* At least one entry, so that an empty table is not NULL. */
  parts = calloc (l->len ? l->len : 1, sizeof *parts);
  if (parts == NULL) {
    perrorf (h, "part_list");
    guestfs_free_partition_list (l);
    return -1;
  }
  for (i = 0; i < l->len; ++i) {
    parts[i].part_num = l->val[i].part_num;
    parts[i].part_start = l->val[i].part_start;
    parts[i].part_end = l->val[i].part_end;
    parts[i].part_size = l->val[i].part_size;
  }
  *parts_rtn = parts;
  *n_rtn = l->len;
  guestfs_free_partition_list (l);
  return 0;
}

static char *
part_get_parttype (gk_h *h, const char *device)
{
  CALL (ptr, NULL, guestfs_part_get_parttype (g, device));
}

static int64_t
blockdev_getsize64 (gk_h *h, const char *device)
{
  CALL (int64, -1, guestfs_blockdev_getsize64 (g, device));
}

static char *
vfs_type (gk_h *h, const char *mountable)
{
  CALL (ptr, NULL, guestfs_vfs_type (g, mountable));
}

static char *
vfs_label (gk_h *h, const char *mountable)
{
  CALL (ptr, NULL, guestfs_vfs_label (g, mountable));
}

static char *
vfs_uuid (gk_h *h, const char *mountable)
{
  CALL (ptr, NULL, guestfs_vfs_uuid (g, mountable));
}

static char **
blkid (gk_h *h, const char *device)
{
  CALL (ptr, NULL, guestfs_blkid (g, device));
}

static char *
df_text (gk_h *h, unsigned flags)
{
  if (flags & GK_DF_HUMAN)
    CALL (ptr, NULL, guestfs_df_h (g));
  CALL (ptr, NULL, guestfs_df (g));
}

static int
part_disk (gk_h *h, const char *device, const char *parttype)
{
  CALL (int, -1, guestfs_part_disk (g, device, parttype));
}

static int
mkfs (gk_h *h, const char *fstype, const char *device)
{
  CALL (int, -1, guestfs_mkfs_opts (g, fstype, device, -1));
}

static int
pvcreate (gk_h *h, const char *device)
{
  CALL (int, -1, guestfs_pvcreate (g, device));
}

static int
vgcreate (gk_h *h, const char *vg, const char *const *pvs)
{
  /* libguestfs does not modify the list; its prototype lacks the const. */
  CALL (int, -1, guestfs_vgcreate (g, vg, (char *const *) pvs));
}

static int
lvcreate (gk_h *h, const char *lv, const char *vg, int megabytes)
{
  CALL (int, -1, guestfs_lvcreate (g, lv, vg, megabytes));
}

static int
lvcreate_free (gk_h *h, const char *lv, const char *vg, int percent)
{
  CALL (int, -1, guestfs_lvcreate_free (g, lv, vg, percent));
}

static char **
ls (gk_h *h, const char *dir)
{
  CALL (ptr, NULL, guestfs_ls (g, dir));
}

static char *
ll (gk_h *h, const char *dir)
{
  CALL (ptr, NULL, guestfs_ll (g, dir));
}

static char *
read_file (gk_h *h, const char *path, size_t *size_rtn)
{
  guestfs_h *g;
  char *r, *p;
  size_t size;

  if ((g = launched (h)) == NULL)
    return NULL;
  if ((r = guestfs_read_file (g, path, &size)) == NULL) {
    copy_error (h, g, NULL);
    return NULL;
  }
  /* A NUL after the data, so that text can be used as a string. */
  if ((p = realloc (r, size + 1)) == NULL) {
    perrorf (h, "read_file");
    free (r);
    return NULL;
  }
  p[size] = '\0';
  if (size_rtn)
    *size_rtn = size;
  return p;
}

static char **
head (gk_h *h, const char *path, int n)
{
  CALL (ptr, NULL, guestfs_head_n (g, n, path));
}

static char **
tail (gk_h *h, const char *path, int n)
{
  CALL (ptr, NULL, guestfs_tail_n (g, n, path));
}

static int
write_ (gk_h *h, const char *path, const char *content, size_t size,
        unsigned flags)
{
  if (content == NULL)
    content = "";
  if (flags & GK_WRITE_APPEND)
    CALL (int, -1, guestfs_write_append (g, path, content, size));
  CALL (int, -1, guestfs_write (g, path, content, size));
}

static int
touch (gk_h *h, const char *path)
{
  CALL (int, -1, guestfs_touch (g, path));
}

static int
mkdir_ (gk_h *h, const char *path, unsigned flags)
{
  if (flags & GK_MKDIR_PARENTS)
    CALL (int, -1, guestfs_mkdir_p (g, path));
  CALL (int, -1, guestfs_mkdir (g, path));
}

/* libguestfs has no recursive rm that fails on a missing path:
 * GK_RM_RECURSIVE is rm -rf with or without GK_RM_FORCE.
 */
static int
rm (gk_h *h, const char *path, unsigned flags)
{
  if (flags & GK_RM_RECURSIVE)
    CALL (int, -1, guestfs_rm_rf (g, path));
  if (flags & GK_RM_FORCE)
    CALL (int, -1, guestfs_rm_f (g, path));
  CALL (int, -1, guestfs_rm (g, path));
}

static int
rmdir_ (gk_h *h, const char *path)
{
  CALL (int, -1, guestfs_rmdir (g, path));
}

static int
cp (gk_h *h, const char *src, const char *dest, unsigned flags)
{
  if (flags & GK_CP_ARCHIVE)
    CALL (int, -1, guestfs_cp_a (g, src, dest));
  CALL (int, -1, guestfs_cp (g, src, dest));
}

static int
mv (gk_h *h, const char *src, const char *dest)
{
  CALL (int, -1, guestfs_mv (g, src, dest));
}

static int
ln_s (gk_h *h, const char *target, const char *linkname)
{
  CALL (int, -1, guestfs_ln_s (g, target, linkname));
}

static char *
readlink_ (gk_h *h, const char *path)
{
  CALL (ptr, NULL, guestfs_readlink (g, path));
}

static int
chmod_ (gk_h *h, int mode, const char *path)
{
  CALL (int, -1, guestfs_chmod (g, mode, path));
}

static int
chown_ (gk_h *h, int owner, int group, const char *path)
{
  CALL (int, -1, guestfs_chown (g, owner, group, path));
}

static int
is_file (gk_h *h, const char *path, unsigned flags)
{
  struct guestfs_is_file_opts_argv optargs = { .bitmask = 0 };

  if (flags & GK_FOLLOW_SYMLINKS) {
    optargs.bitmask |= GUESTFS_IS_FILE_OPTS_FOLLOWSYMLINKS_BITMASK;
    optargs.followsymlinks = 1;
  }
  CALL (int, -1, guestfs_is_file_opts_argv (g, path, &optargs));
}

static int
is_dir (gk_h *h, const char *path, unsigned flags)
{
  struct guestfs_is_dir_opts_argv optargs = { .bitmask = 0 };

  if (flags & GK_FOLLOW_SYMLINKS) {
    optargs.bitmask |= GUESTFS_IS_DIR_OPTS_FOLLOWSYMLINKS_BITMASK;
    optargs.followsymlinks = 1;
  }
  CALL (int, -1, guestfs_is_dir_opts_argv (g, path, &optargs));
}

static int
exists (gk_h *h, const char *path)
{
  CALL (int, -1, guestfs_exists (g, path));
}

static char *
file (gk_h *h, const char *path)
{
  CALL (ptr, NULL, guestfs_file (g, path));
}

static int64_t
filesize (gk_h *h, const char *path)
{
  CALL (int64, -1, guestfs_filesize (g, path));
}

static int64_t
du (gk_h *h, const char *path)
{
  CALL (int64, -1, guestfs_du (g, path));
}

static char **
find (gk_h *h, const char *dir)
{
  CALL (ptr, NULL, guestfs_find (g, dir));
}

static char *
checksum (gk_h *h, const char *csumtype, const char *path)
{
  CALL (ptr, NULL, guestfs_checksum (g, csumtype, path));
}

static char **
glob_expand (gk_h *h, const char *pattern)
{
  CALL (ptr, NULL, guestfs_glob_expand (g, pattern));
}

static int
upload (gk_h *h, int fd, const char *path)
{
  STREAM_CALL (fd, false, "upload", guestfs_upload (g, st.path, path));
}

static int
download (gk_h *h, const char *path, int fd)
{
  STREAM_CALL (fd, true, "download", guestfs_download (g, path, st.path));
}

static int
tar_in (gk_h *h, int fd, const char *dir, const char *compress,
        unsigned flags)
{
  struct guestfs_tar_in_opts_argv optargs = { .bitmask = 0 };

  if (compress) {
    optargs.bitmask |= GUESTFS_TAR_IN_OPTS_COMPRESS_BITMASK;
    optargs.compress = compress;
  }
  if (flags & GK_TAR_XATTRS) {
    optargs.bitmask |= GUESTFS_TAR_IN_OPTS_XATTRS_BITMASK;
    optargs.xattrs = 1;
  }
  if (flags & GK_TAR_SELINUX) {
    optargs.bitmask |= GUESTFS_TAR_IN_OPTS_SELINUX_BITMASK;
    optargs.selinux = 1;
  }
  if (flags & GK_TAR_ACLS) {
    optargs.bitmask |= GUESTFS_TAR_IN_OPTS_ACLS_BITMASK;
    optargs.acls = 1;
  }
  /* GK_TAR_NUMERICOWNER: tar_in has no such option (tar keeps ids). */
  STREAM_CALL (fd, false, "tar_in",
               guestfs_tar_in_opts_argv (g, st.path, dir, &optargs));
}

static int
tar_out (gk_h *h, const char *dir, int fd, const char *compress,
         const char *const *excludes, unsigned flags)
{
  struct guestfs_tar_out_opts_argv optargs = { .bitmask = 0 };

  if (compress) {
    optargs.bitmask |= GUESTFS_TAR_OUT_OPTS_COMPRESS_BITMASK;
    optargs.compress = compress;
  }
  if (excludes) {
    optargs.bitmask |= GUESTFS_TAR_OUT_OPTS_EXCLUDES_BITMASK;
    optargs.excludes = (char *const *) excludes;
  }
  if (flags & GK_TAR_NUMERICOWNER) {
    optargs.bitmask |= GUESTFS_TAR_OUT_OPTS_NUMERICOWNER_BITMASK;
    optargs.numericowner = 1;
  }
  if (flags & GK_TAR_XATTRS) {
    optargs.bitmask |= GUESTFS_TAR_OUT_OPTS_XATTRS_BITMASK;
    optargs.xattrs = 1;
  }
  if (flags & GK_TAR_SELINUX) {
    optargs.bitmask |= GUESTFS_TAR_OUT_OPTS_SELINUX_BITMASK;
    optargs.selinux = 1;
  }
  if (flags & GK_TAR_ACLS) {
    optargs.bitmask |= GUESTFS_TAR_OUT_OPTS_ACLS_BITMASK;
    optargs.acls = 1;
  }
  STREAM_CALL (fd, true, "tar_out",
               guestfs_tar_out_opts_argv (g, dir, st.path, &optargs));
}

static char **
available_all_groups (gk_h *h)
{
  CALL (ptr, NULL, guestfs_available_all_groups (g));
}

static int
feature_available (gk_h *h, const char *group)
{
  char *groups[] = { (char *) group, NULL };

  CALL (int, -1, guestfs_feature_available (g, groups));
}

static char **
inspect_get_drive_mappings (gk_h *h, const char *root)
{
  CALL (ptr, NULL, guestfs_inspect_get_drive_mappings (g, root));
}

static char *
case_sensitive_path (gk_h *h, const char *path)
{
  CALL (ptr, NULL, guestfs_case_sensitive_path (g, path));
}

/* The module's one export (lib/modules.h). */
/* mount-local's calls (lib/mount-local.c), and backup tools'. */
static char *
pread_ (gk_h *h, const char *path, size_t count, int64_t offset,
        size_t *len_rtn)
{
  CALL (ptr, NULL, guestfs_pread (g, path, count, offset, len_rtn));
}

static int
pwrite_ (gk_h *h, const char *path, const void *buf, size_t count,
         int64_t offset)
{
  CALL (int, -1, guestfs_pwrite (g, path, buf, count, offset));
}

static int
truncate_ (gk_h *h, const char *path, int64_t size)
{
  CALL (int, -1, guestfs_truncate_size (g, path, size));
}

/* libguestfs says "now" and "omit" with -1 and -2 in the nanoseconds. */
static int64_t
utime_nsec (int64_t nsec)
{
  if (nsec == GK_UTIME_NOW)
    return -1;
  if (nsec == GK_UTIME_OMIT)
    return -2;
  return nsec;
}

static int
utimens_ (gk_h *h, const char *path, int64_t atsecs, int64_t atnsecs,
          int64_t mtsecs, int64_t mtnsecs)
{
  CALL (int, -1, guestfs_utimens (g, path, atsecs, utime_nsec (atnsecs),
                                  mtsecs, utime_nsec (mtnsecs)));
}

static int
rename_ (gk_h *h, const char *oldpath, const char *newpath)
{
  CALL (int, -1, guestfs_rename (g, oldpath, newpath));
}

static int
ln_ (gk_h *h, const char *target, const char *linkname)
{
  CALL (int, -1, guestfs_ln (g, target, linkname));
}

static int
lchown_ (gk_h *h, int owner, int group, const char *path)
{
  CALL (int, -1, guestfs_lchown (g, owner, group, path));
}

static int
mknod_ (gk_h *h, int mode, int devmajor, int devminor, const char *path)
{
  CALL (int, -1, guestfs_mknod (g, mode, devmajor, devminor, path));
}

/* libguestfs's lstatnslist takes at most this many names per call (its
 * reply must fit in one protocol message).
 */
#define LSTATNSLIST_MAX 1000

static int
readdir_ (gk_h *h, const char *dir, unsigned flags,
          struct gk_dirent **ents_rtn, size_t *n_rtn)
{
  guestfs_h *g;
  struct guestfs_dirent_list *dl;
  struct gk_dirent *ents;
  size_t i, n = 0;

  if ((g = launched (h)) == NULL)
    return -1;
  dl = guestfs_readdir (g, dir);
  if (dl == NULL) {
    copy_error (h, g, NULL);
    return -1;
  }
  ents = calloc (dl->len > 0 ? dl->len : 1, sizeof *ents);
  if (ents == NULL) {
    perrorf (h, "readdir");
    guestfs_free_dirent_list (dl);
    return -1;
  }
  for (i = 0; i < dl->len; ++i) {
    const char *name = dl->val[i].name;

    if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
      continue;
    ents[n].name = strdup (name);
    if (ents[n].name == NULL) {
      perrorf (h, "readdir");
      gk_free_dirents (ents, n);
      guestfs_free_dirent_list (dl);
      return -1;
    }
    ents[n].type = dl->val[i].ftyp;
    ents[n].ino = dl->val[i].ino;
    n++;
  }
  guestfs_free_dirent_list (dl);

  if (flags & GK_READDIR_STAT) {
    size_t start, j;

    for (start = 0; start < n; start += LSTATNSLIST_MAX) {
      size_t m = n - start < LSTATNSLIST_MAX ? n - start : LSTATNSLIST_MAX;
      CLEANUP_FREE char **names = malloc ((m + 1) * sizeof *names);
      struct guestfs_statns_list *sl;

      if (names == NULL) {
        perrorf (h, "readdir");
        gk_free_dirents (ents, n);
        return -1;
      }
      for (j = 0; j < m; ++j)
        names[j] = ents[start + j].name;
      names[m] = NULL;
      sl = guestfs_lstatnslist (g, dir, names);
      if (sl == NULL || sl->len != m) {
        if (sl == NULL)
          copy_error (h, g, NULL);
        else {
          error (h, "lstatnslist: %s: wrong number of results", dir);
          guestfs_free_statns_list (sl);
        }
        gk_free_dirents (ents, n);
        return -1;
      }
      /* An entry that went away meanwhile has st_ino -1. */
      for (j = 0; j < m; ++j)
        statns_to_gk (&sl->val[j], &ents[start + j].st);
      guestfs_free_statns_list (sl);
    }
  }
  *ents_rtn = ents;
  *n_rtn = n;
  return 0;
}

static int
lgetxattrs_ (gk_h *h, const char *path, struct gk_xattr **xattrs_rtn,
             size_t *n_rtn)
{
  guestfs_h *g;
  struct guestfs_xattr_list *xl;
  struct gk_xattr *xs;
  size_t i;

  if ((g = launched (h)) == NULL)
    return -1;
  xl = guestfs_lgetxattrs (g, path);
  if (xl == NULL) {
    copy_error (h, g, NULL);
    return -1;
  }
  xs = calloc (xl->len > 0 ? xl->len : 1, sizeof *xs);
  if (xs == NULL) {
    perrorf (h, "lgetxattrs");
    guestfs_free_xattr_list (xl);
    return -1;
  }
  for (i = 0; i < xl->len; ++i) {
    xs[i].name = strdup (xl->val[i].attrname);
    xs[i].value = malloc (xl->val[i].attrval_len + 1);
    if (xs[i].name == NULL || xs[i].value == NULL) {
      perrorf (h, "lgetxattrs");
      gk_free_xattrs (xs, i + 1);
      guestfs_free_xattr_list (xl);
      return -1;
    }
    memcpy (xs[i].value, xl->val[i].attrval, xl->val[i].attrval_len);
    xs[i].value[xl->val[i].attrval_len] = '\0';
    xs[i].value_len = xl->val[i].attrval_len;
  }
  *xattrs_rtn = xs;
  *n_rtn = xl->len;
  guestfs_free_xattr_list (xl);
  return 0;
}

static int
lsetxattr_ (gk_h *h, const char *name, const void *value, size_t value_len,
            const char *path)
{
  CALL (int, -1, guestfs_lsetxattr (g, name, value, value_len, path));
}

static int
lremovexattr_ (gk_h *h, const char *name, const char *path)
{
  CALL (int, -1, guestfs_lremovexattr (g, name, path));
}

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
  .is_launched = is_launched,
  .user_cancel = user_cancel,
  .set_autosync = set_autosync,
  .inspect_get_roots = inspect_get_roots,
  .inspect_get = inspect_get,
  .inspect_get_filesystems = inspect_get_filesystems,
  .inspect_get_mountpoints = inspect_get_mountpoints,
  .mount = mount_,
  .umount = umount_,
  .mounts = mounts,
  .mountpoints = mountpoints,
  .sync = sync_,
  .list_partitions = list_partitions,
  .lvs = lvs,
  .vgs = vgs,
  .pvs = pvs,
  .part_list = part_list,
  .part_get_parttype = part_get_parttype,
  .blockdev_getsize64 = blockdev_getsize64,
  .vfs_type = vfs_type,
  .vfs_label = vfs_label,
  .vfs_uuid = vfs_uuid,
  .blkid = blkid,
  .df_text = df_text,
  .part_disk = part_disk,
  .mkfs = mkfs,
  .pvcreate = pvcreate,
  .vgcreate = vgcreate,
  .lvcreate = lvcreate,
  .lvcreate_free = lvcreate_free,
  .ls = ls,
  .ll = ll,
  .read_file = read_file,
  .head = head,
  .tail = tail,
  .write = write_,
  .touch = touch,
  .mkdir = mkdir_,
  .rm = rm,
  .rmdir = rmdir_,
  .cp = cp,
  .mv = mv,
  .ln_s = ln_s,
  .readlink = readlink_,
  .chmod = chmod_,
  .chown = chown_,
  .stat = stat_,
  .is_file = is_file,
  .is_dir = is_dir,
  .exists = exists,
  .file = file,
  .filesize = filesize,
  .du = du,
  .find = find,
  .checksum = checksum,
  .glob_expand = glob_expand,
  .upload = upload,
  .download = download,
  .tar_in = tar_in,
  .tar_out = tar_out,
  .available_all_groups = available_all_groups,
  .feature_available = feature_available,
  .inspect_get_drive_mappings = inspect_get_drive_mappings,
  .case_sensitive_path = case_sensitive_path,
  .pread = pread_,
  .pwrite = pwrite_,
  .truncate = truncate_,
  .utimens = utimens_,
  .rename = rename_,
  .ln = ln_,
  .lchown = lchown_,
  .mknod = mknod_,
  .readdir = readdir_,
  .lgetxattrs = lgetxattrs_,
  .lsetxattr = lsetxattr_,
  .lremovexattr = lremovexattr_,
};
