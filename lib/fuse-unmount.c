/* libguestkit: gk_fuse_unmount, the work of guestunmount(1).
 *
 * Unmount a FUSE filesystem with fusermount3 -u, then wait until the
 * guestmount process that served it has exited, that is until its
 * appliance is down and its disk images are closed.
 *
 *  - Whether the path is mounted, and by what, is read from
 *    /proc/self/mountinfo, not guessed from fusermount's messages (they
 *    vary between FUSE versions).  The mount point itself is never
 *    stat(2)ed: on a FUSE mount that is a request to a server that may
 *    hang or be gone (ENOTCONN), and such a mount must still unmount.
 *  - A mount that is not FUSE is refused, not handed to fusermount.
 *  - gk_mount_local names its mount "guestmount:PID" (fstype
 *    "fuse.guestmount").  We hold a pidfd on that process across the
 *    unmount: it keeps naming that very process even if the PID is
 *    reused.
 *
 * Everything is per call: no statics, so separate handles may unmount
 * from separate threads.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "internal.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434      /* the same number on every architecture */
#endif

/* Shutting the appliance down takes seconds; flushing a large write-back
 * cache to slow storage can take minutes.
 */
#define DEFAULT_WAIT_TIMEOUT 600

/* A mount of /proc/self/mountinfo (ours: strings malloc'd). */
struct mount_entry {
  int id;                       /* mount ID (field 1); -1: none */
  char *mountpoint;             /* field 5 */
  char *fstype;                 /* first field after " - " */
  char *source;                 /* second field after " - " */
};

/* The process serving a guestmount mount. */
struct server {
  pid_t pid;                    /* 0: nothing to wait for */
  int pidfd;                    /* -1: pidfd_open is not available */
  unsigned long long starttime; /* to recognise the process without pidfd */
};

static void
free_mount_entry (struct mount_entry *ent)
{
  free (ent->mountpoint);
  free (ent->fstype);
  free (ent->source);
  ent->mountpoint = ent->fstype = ent->source = NULL;
  ent->id = -1;
}

static void
close_server (struct server *srv)
{
  if (srv->pidfd >= 0)
    close (srv->pidfd);
  srv->pidfd = -1;
  srv->pid = 0;
}

#define CLEANUP_MOUNT_ENTRY __attribute__ ((cleanup (free_mount_entry)))
#define CLEANUP_SERVER __attribute__ ((cleanup (close_server)))

/* A whole decimal number in [0, INT_MAX], or -1. */
static int
parse_int (const char *s)
{
  char *end;
  long long r;

  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  r = strtoll (s, &end, 10);
  if (errno != 0 || *end != '\0' || r > INT_MAX)
    return -1;
  return (int) r;
}

/* DIR/NAME, without doubling a slash. */
static char *
path_join (gk_h *h, const char *dir, const char *name)
{
  char *p;

  if (asprintf (&p, "%s%s%s", dir,
                dir[0] && dir[strlen (dir) - 1] == '/' ? "" : "/", name) == -1) {
    perrorf (h, "asprintf");
    return NULL;
  }
  return p;
}

/* Decode the octal escapes (\040 space, \011 tab, \012 newline, \134
 * backslash) the kernel writes in mountinfo fields, in place.
 */
static void
unescape_mountinfo (char *s)
{
  char *out = s;

  while (*s) {
    if (s[0] == '\\' &&
        s[1] >= '0' && s[1] <= '3' &&
        s[2] >= '0' && s[2] <= '7' &&
        s[3] >= '0' && s[3] <= '7') {
      *out++ = (char) (((s[1] - '0') << 6) | ((s[2] - '0') << 3) |
                       (s[3] - '0'));
      s += 4;
    }
    else
      *out++ = *s++;
  }
  *out = '\0';
}

/* Split one mountinfo line in place:
 *   ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE ...
 * The strings of *ENT point into LINE.  Returns false for a line that
 * does not have this shape.
 */
static bool
parse_mountinfo_line (char *line, struct mount_entry *ent)
{
  char *fields[6], *p, *save = NULL;
  size_t i;

  for (i = 0, p = line; i < 6; ++i, p = NULL) {
    fields[i] = strtok_r (p, " \n", &save);
    if (fields[i] == NULL)
      return false;
  }
  /* The optional fields end at a lone "-". */
  do {
    p = strtok_r (NULL, " \n", &save);
    if (p == NULL)
      return false;
  } while (strcmp (p, "-") != 0);
  ent->fstype = strtok_r (NULL, " \n", &save);
  ent->source = strtok_r (NULL, " \n", &save);
  ent->id = parse_int (fields[0]);
  if (ent->fstype == NULL || ent->source == NULL || ent->id == -1)
    return false;
  ent->mountpoint = fields[4];
  unescape_mountinfo (ent->mountpoint);
  unescape_mountinfo (ent->fstype);
  unescape_mountinfo (ent->source);
  return true;
}

/* Read /proc/self/mountinfo.  With MOUNTPOINT: fill *ENT with the mount
 * visible there (when several are stacked, the last one listed is on
 * top), ENT->id staying -1 if there is none.  With MOUNTPOINT NULL: is
 * the mount *ENT still there (mount IDs are reused, so the mount point
 * must match too)?  Returns 1 (found) or 0, or -1 with the error set.
 */
static int
scan_mountinfo (gk_h *h, const char *mountpoint, struct mount_entry *ent)
{
  CLEANUP_FCLOSE FILE *fp = NULL;
  CLEANUP_FREE char *line = NULL;
  size_t allocsize = 0;
  struct mount_entry e;
  int found = 0;

  fp = fopen ("/proc/self/mountinfo", "re");
  if (fp == NULL) {
    perrorf (h, "/proc/self/mountinfo");
    return -1;
  }
  while (getline (&line, &allocsize, fp) != -1) {
    if (!parse_mountinfo_line (line, &e))
      continue;
    if (mountpoint == NULL) {
      if (e.id == ent->id && strcmp (e.mountpoint, ent->mountpoint) == 0)
        return 1;
    }
    else if (strcmp (e.mountpoint, mountpoint) == 0) {
      free_mount_entry (ent);
      ent->mountpoint = strdup (e.mountpoint);
      ent->fstype = strdup (e.fstype);
      ent->source = strdup (e.source);
      if (!ent->mountpoint || !ent->fstype || !ent->source) {
        perrorf (h, "strdup");
        free_mount_entry (ent);
        return -1;
      }
      ent->id = e.id;
      found = 1;
    }
  }
  if (ferror (fp)) {
    perrorf (h, "/proc/self/mountinfo");
    return -1;
  }
  return found;
}

static bool
is_fuse (const char *fstype)
{
  return strcmp (fstype, "fuse") == 0 || strncmp (fstype, "fuse.", 5) == 0 ||
    strcmp (fstype, "fuseblk") == 0 || strncmp (fstype, "fuseblk.", 8) == 0;
}

/* Find what is mounted at PATH.  Only the parent directory is resolved
 * when PARENT/NAME is a listed mount point (see the top of the file).
 * Returns the canonical absolute path, with *ENT filled in (ENT->id -1
 * if nothing is mounted there); or NULL with the error set: "PATH:
 * strerror" and errno for a path that cannot be resolved (ENOENT...).
 */
static char *
resolve_mountpoint (gk_h *h, const char *arg, struct mount_entry *ent)
{
  CLEANUP_FREE char *path = NULL, *copy = NULL, *parent = NULL;
  char *base, *slash, *r;
  size_t len;
  struct stat statbuf;

  if (arg[0] == '/')
    path = strdup (arg);
  else {
    CLEANUP_FREE char *cwd = getcwd (NULL, 0);

    if (cwd == NULL) {
      perrorf (h, "getcwd");
      return NULL;
    }
    path = path_join (h, cwd, arg);
    if (path == NULL)
      return NULL;
  }
  copy = path ? strdup (path) : NULL;
  if (copy == NULL) {
    perrorf (h, "strdup");
    return NULL;
  }

  /* "/mnt/" is "/mnt". */
  len = strlen (copy);
  while (len > 1 && copy[len - 1] == '/')
    copy[--len] = '\0';
  slash = strrchr (copy, '/');
  base = slash + 1;
  if (*base != '\0' && strcmp (base, ".") != 0 && strcmp (base, "..") != 0) {
    *slash = '\0';
    parent = realpath (slash == copy ? "/" : copy, NULL);
    if (parent == NULL)
      goto error;
    r = path_join (h, parent, base);
    if (r == NULL)
      return NULL;
    if (scan_mountinfo (h, r, ent) == -1) {
      free (r);
      return NULL;
    }
    if (ent->id != -1)
      return r;
    if (lstat (r, &statbuf) == -1) {
      int e = errno;

      free (r);
      errno = e;
      goto error;
    }
    if (!S_ISLNK (statbuf.st_mode))
      return r;                 /* not mounted */
    free (r);
  }

  /* A symbolic link, ".", "..": resolve the whole path. */
  r = realpath (path, NULL);
  if (r == NULL)
    goto error;
  if (scan_mountinfo (h, r, ent) == -1) {
    free (r);
    return NULL;
  }
  return r;

 error:
  perrorf (h, "%s", path);
  return NULL;
}

/* Look PROGRAM up in $PATH, as execvp would.  NULL with errno ENOENT if
 * it is not there (ENOMEM...).
 */
static char *
find_program (const char *program)
{
  const char *path = getenv ("PATH");
  const char *p, *end;

  if (path == NULL || *path == '\0')
    path = "/usr/local/bin:/usr/bin:/bin";
  for (p = path; ; p = end + 1) {
    char *file;
    int r;

    end = strchrnul (p, ':');
    if (end == p)               /* an empty entry is the current directory */
      r = asprintf (&file, "./%s", program);
    else
      r = asprintf (&file, "%.*s/%s", (int) (end - p), p, program);
    if (r == -1)
      return NULL;
    if (access (file, X_OK) == 0)
      return file;
    free (file);
    if (*end == '\0') {
      errno = ENOENT;
      return NULL;
    }
  }
}

/* Run "PROGRAM -u MOUNTPOINT".  Returns 0 if it succeeded; 1 if it failed,
 * with its messages (or its exit status) in *ERROR_RTN; -1 with the
 * error set if it could not be run.
 */
static int
run_fusermount (gk_h *h, const char *program, const char *mountpoint,
                char **error_rtn)
{
  CLEANUP_FREE char *buf = NULL;
  CLEANUP_CLOSE int rfd = -1;
  size_t len = 0, allocsize = 0;
  int fd[2], status;
  bool oom = false;
  pid_t pid;
  ssize_t n;

  debug (h, "running: %s -u %s", program, mountpoint);
  if (pipe2 (fd, O_CLOEXEC) == -1) {
    perrorf (h, "pipe2");
    return -1;
  }
  pid = fork ();
  if (pid == -1) {
    perrorf (h, "fork");
    close (fd[0]);
    close (fd[1]);
    return -1;
  }
  if (pid == 0) {
    dup2 (fd[1], STDOUT_FILENO);
    dup2 (fd[1], STDERR_FILENO);
    execl (program, strrchr (program, '/') + 1, "-u", mountpoint,
           (char *) NULL);
    fprintf (stderr, "%s: %s\n", program, strerror (errno));
    _exit (126);
  }
  close (fd[1]);
  rfd = fd[0];

  /* fusermount's messages, both streams. */
  for (;;) {
    if (allocsize - len < 256) {
      char *p = realloc (buf, allocsize + 1024);

      if (p == NULL) {
        perrorf (h, "realloc");
        oom = true;
        break;
      }
      buf = p;
      allocsize += 1024;
    }
    n = read (rfd, buf + len, allocsize - len - 1);
    if (n == -1 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += n;
  }
  /* Closed before waiting: a child still writing gets EPIPE, not stuck. */
  close (rfd);
  rfd = -1;
  while (waitpid (pid, &status, 0) == -1) {
    if (errno != EINTR) {
      if (!oom)
        perrorf (h, "waitpid");
      return -1;
    }
  }
  if (oom)                      /* the error is set */
    return -1;
  while (len > 0 && buf[len - 1] == '\n')
    --len;
  buf[len] = '\0';

  if (WIFEXITED (status) && WEXITSTATUS (status) == 0) {
    debug (h, "fusermount successful");
    return 0;
  }
  if (len == 0) {
    int code = WIFEXITED (status) ? WEXITSTATUS (status)
                                  : 128 + WTERMSIG (status);

    free (buf);
    buf = NULL;
    if (asprintf (&buf, "%s exited with status %d", program, code) == -1) {
      buf = NULL;
      perrorf (h, "asprintf");
      return -1;
    }
  }
  debug (h, "%s", buf);
  *error_rtn = TAKE_PTR (buf);
  return 1;
}

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks
 * since boot.  With the PID it names one process for good.  Returns false
 * if there is no such process, or it is a zombie (it has exited).
 */
static bool
read_starttime (pid_t pid, unsigned long long *ret)
{
  CLEANUP_FCLOSE FILE *fp = NULL;
  CLEANUP_FREE char *line = NULL;
  size_t allocsize = 0;
  char filename[64], state, *p;
  int i;

  snprintf (filename, sizeof filename, "/proc/%d/stat", (int) pid);
  fp = fopen (filename, "re");
  if (fp == NULL || getline (&line, &allocsize, fp) == -1)
    return false;
  /* "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses. */
  p = strrchr (line, ')');
  if (p == NULL || sscanf (p, ") %c", &state) != 1)
    return false;
  if (state == 'Z' || state == 'X' || state == 'x')
    return false;
  for (i = 2; i < 22 && p != NULL; ++i)
    p = strchr (p + 1, ' ');
  return p != NULL && sscanf (p, " %llu", ret) == 1;
}

/* Is PID's command name that of guestmount (or libtool's lt-guestmount
 * from a build tree)?  Guards against a PID in a stale mount source that
 * now belongs to another program.  COMM receives the name.
 */
static bool
is_guestmount_process (pid_t pid, char *comm, size_t commsize)
{
  CLEANUP_FCLOSE FILE *fp = NULL;
  char filename[64];

  snprintf (filename, sizeof filename, "/proc/%d/comm", (int) pid);
  comm[0] = '\0';
  fp = fopen (filename, "re");
  if (fp == NULL || fgets (comm, commsize, fp) == NULL)
    return false;
  comm[strcspn (comm, "\n")] = '\0';
  return strcmp (comm, "guestmount") == 0 ||
    strncmp (comm, "lt-guestmount", 13) == 0;
}

/* Has the server exited?  TIMEOUT_MS: how long to wait for it (-1:
 * forever).  1 or 0, or -1 with the error set.
 */
static int
server_exited (gk_h *h, const struct server *srv, int timeout_ms)
{
  unsigned long long starttime;

  if (srv->pidfd >= 0) {
    struct pollfd pfd = { .fd = srv->pidfd, .events = POLLIN };
    int r = poll (&pfd, 1, timeout_ms);

    if (r == -1 && errno != EINTR) {
      perrorf (h, "poll: pidfd");
      return -1;
    }
    return r > 0;
  }

  /* No pidfd (Linux < 5.3): look at /proc every 0.1 s. */
  for (;;) {
    if (!read_starttime (srv->pid, &starttime) || starttime != srv->starttime)
      return 1;
    if (timeout_ms == 0)
      return 0;
    usleep (100000);
    if (timeout_ms > 0)
      timeout_ms = timeout_ms > 100 ? timeout_ms - 100 : 0;
  }
}

/* If the mount ENT is served by guestkit's guestmount, get hold of that
 * process before the unmount.  SRV->pid stays 0 if there is nothing to
 * wait for.  0, or -1 with the error set.
 */
static int
find_server (gk_h *h, const struct mount_entry *ent, struct server *srv)
{
  const char *prefix = "guestmount:";
  char comm[64];
  int pid, r;

  srv->pid = 0;
  srv->pidfd = -1;
  if (strncmp (ent->source, prefix, strlen (prefix)) != 0 ||
      (pid = parse_int (ent->source + strlen (prefix))) <= 0) {
    debug (h, "%s: the mount source ‘%s’ names no guestmount process: "
           "nothing to wait for after the unmount",
           ent->mountpoint, ent->source);
    return 0;
  }

  srv->pid = pid;
  srv->pidfd = syscall (SYS_pidfd_open, srv->pid, 0);
  if (srv->pidfd == -1) {
    if (errno == ESRCH)
      goto exited;
    debug (h, "pidfd_open: %m: watching /proc/%d instead", pid);
    if (!read_starttime (srv->pid, &srv->starttime))
      goto exited;
  }

  if (!is_guestmount_process (srv->pid, comm, sizeof comm)) {
    /* It may have exited just now; or the PID belongs to someone else
     * (the mount outlived its server, or it was made in another PID
     * namespace).
     */
    r = server_exited (h, srv, 0);
    if (r == -1)
      return -1;
    if (r == 0)
      warning (h, "%s: process %d named by the mount source is ‘%s’, "
               "not guestmount: not waiting for it",
               ent->mountpoint, pid, comm);
    close_server (srv);
    return 0;
  }
  r = server_exited (h, srv, 0);
  if (r == -1)
    return -1;
  if (r == 1)
    goto exited;
  debug (h, "%s is served by guestmount process %d: waiting for it to "
         "exit after the unmount", ent->mountpoint, pid);
  return 0;

 exited:
  debug (h, "the guestmount process %d has already exited: nothing to "
         "wait for", pid);
  close_server (srv);
  return 0;
}

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* After the unmount: wait for the server to exit, for at most TIMEOUT
 * seconds.  0, or -1 with the error set (ETIMEDOUT).
 */
static int
wait_for_server (gk_h *h, const struct server *srv, int timeout)
{
  double start = now (), left;
  int r;

  if (srv->pid == 0)
    return 0;
  debug (h, "waiting for guestmount process %d to exit (at most %d s)",
         (int) srv->pid, timeout);
  while ((left = start + timeout - now ()) > 0) {
    int ms = left > INT_MAX / 1000 ? INT_MAX : (int) (left * 1000) + 1;

    r = server_exited (h, srv, ms);
    if (r == -1)
      return -1;
    if (r == 1) {
      debug (h, "guestmount process %d has exited after %.1f s",
             (int) srv->pid, now () - start);
      return 0;
    }
  }
  error_errno (h, ETIMEDOUT,
               "unmounted, but guestmount process %d has not exited after "
               "%d seconds: its disk images may still be open",
               (int) srv->pid, timeout);
  return -1;
}

int
gk_fuse_unmount (gk_h *h, const char *mountpoint, int retries,
                 int wait_timeout, unsigned flags)
{
  CLEANUP_MOUNT_ENTRY struct mount_entry ent = { .id = -1 };
  CLEANUP_SERVER struct server srv = { .pid = 0, .pidfd = -1 };
  CLEANUP_FREE char *path = NULL, *program = NULL, *fusermount_error = NULL;
  int i, r;

  trace (h, "gk_fuse_unmount %s %d %d %u",
         mountpoint ? mountpoint : "(null)", retries, wait_timeout, flags);
  if (mountpoint == NULL || *mountpoint == '\0' || retries < 0 ||
      wait_timeout < -1 || flags != 0) {
    error_errno (h, EINVAL, "fuse_unmount: invalid argument");
    return -1;
  }
  if (wait_timeout == -1)
    wait_timeout = DEFAULT_WAIT_TIMEOUT;

  path = resolve_mountpoint (h, mountpoint, &ent);
  if (path == NULL)
    return -1;
  if (ent.id == -1)
    return 1;                   /* not mounted */
  debug (h, "%s: mount %d, type %s, source ‘%s’",
         path, ent.id, ent.fstype, ent.source);
  if (!is_fuse (ent.fstype)) {
    error_errno (h, ENOTSUP, "%s is not a FUSE filesystem (type %s, "
                 "source ‘%s’): not unmounting it",
                 path, ent.fstype, ent.source);
    return -1;
  }

  /* fusermount from FUSE 2 unmounts just as well. */
  program = find_program ("fusermount3");
  if (program == NULL && errno == ENOENT)
    program = find_program ("fusermount");
  if (program == NULL) {
    if (errno == ENOENT)
      error_errno (h, ENOPKG, "cannot find fusermount3 or fusermount on "
                   "$PATH (install FUSE)");
    else
      perrorf (h, "asprintf");
    return -1;
  }

  if (wait_timeout > 0 && find_server (h, &ent, &srv) == -1)
    return -1;

  /* Unmount; while it is busy, try again after 1, 2, 4 ... seconds. */
  for (i = 0; i <= retries; ++i) {
    if (i > 0) {
      unsigned delay = 1U << (i - 1 < 31 ? i - 1 : 31);

      debug (h, "retrying in %u s", delay);
      sleep (delay);
      r = scan_mountinfo (h, NULL, &ent);
      if (r == -1)
        return -1;
      if (r == 0)
        goto unmounted;         /* someone else unmounted it */
    }
    free (fusermount_error);
    fusermount_error = NULL;
    r = run_fusermount (h, program, path, &fusermount_error);
    if (r == -1)
      return -1;
    if (r == 0)
      goto unmounted;
    r = scan_mountinfo (h, NULL, &ent);
    if (r == -1)
      return -1;
    if (r == 0)
      goto unmounted;
  }
  error_errno (h, EBUSY, "failed to unmount %s: %s", path, fusermount_error);
  return -1;

 unmounted:
  return wait_for_server (h, &srv, wait_timeout) == -1 ? -1 : 0;
}
