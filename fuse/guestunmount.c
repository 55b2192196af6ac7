/* guestunmount: unmount a guestmount(1) filesystem, then wait until the
 * process that served it has exited.
 *
 * Options, usage and exit codes are those of libguestfs's guestunmount
 * 1.48.  The work is gk_fuse_unmount (guestkit(3)); this file parses the
 * options, waits for --fd, prints, and turns the result into an exit
 * status.  What differs from the reference is in guestunmount.pod.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <getopt.h>
#include <errno.h>
#include <error.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "guestkit.h"
#include "cleanups.h"

/* Exit codes (guestunmount(1) "EXIT STATUS"). */
enum {
  EXIT_UNMOUNTED = 0,
  EXIT_PROGRAM_ERROR = 1,
  EXIT_NOT_UNMOUNTED = 2,
  EXIT_NOT_MOUNTED = 3,
};

/* fuser(1) only adds diagnostics: it must not hang us on a dead server. */
#define FUSER_TIMEOUT 10

static bool quiet = false;
static bool verbose = false;
static int retries = 5;
/* Every way out is exit(): the handle and the path live until then, in
 * statics, so that valgrind sees them as reachable.
 */
static gk_h *h;
static char *abs_path;

static void __attribute__ ((noreturn))
usage (int status)
{
  const char *p = program_invocation_short_name;

  if (status != EXIT_SUCCESS)
    fprintf (stderr, "Try ‘%s --help’ for more information.\n", p);
  else {
    printf ("%s: clean up a mounted filesystem\n"
            "Usage:\n"
            "  %s [--fd=FD] mountpoint\n"
            "Options:\n"
            "  --fd=FD              Pipe file descriptor to monitor\n"
            "  --help               Display help message and exit\n"
            "  -q|--quiet           Don't print fusermount errors\n"
            "  --no-retry           Don't retry fusermount\n"
            "  --retry=N            Retry fusermount N times (default: 5)\n"
            "  -v|--verbose         Verbose messages\n"
            "  -V|--version         Display version and exit\n"
            "For more information, see the manpage %s(1).\n",
            p, p, p);
  }
  exit (status);
}

/* --long-options and --short-options, for bash completion. */
static void __attribute__ ((noreturn))
display_long_options (const struct option *long_options)
{
  for (; long_options->name; ++long_options) {
    if (strcmp (long_options->name, "long-options") != 0 &&
        strcmp (long_options->name, "short-options") != 0)
      printf ("--%s\n", long_options->name);
  }
  exit (EXIT_SUCCESS);
}

static void __attribute__ ((noreturn))
display_short_options (const char *format)
{
  for (; *format; ++format)
    if (*format != ':')
      printf ("-%c\n", *format);
  exit (EXIT_SUCCESS);
}

/* A whole decimal number in [0, MAX], or -1.  Unlike the reference's
 * sscanf, "3x", " 3" and overflowing values are refused.
 */
static long long
parse_number (const char *s, long long max)
{
  char *end;
  long long r;

  if (*s < '0' || *s > '9')
    return -1;
  errno = 0;
  r = strtoll (s, &end, 10);
  if (errno != 0 || *end != '\0' || r > max)
    return -1;
  return r;
}

/* The library's -v messages and warnings, worded as the tool's own
 * ("guestunmount: ..."); -q silences the warnings.
 */
static void
log_message (gk_h *g, void *opaque, int level, const char *msg)
{
  const char *p = program_invocation_short_name;

  if (level == GK_LOG_WARNING) {
    if (!quiet)
      fprintf (stderr, "%s: warning: %s\n", p, msg);
  }
  else if (level == GK_LOG_TRACE)
    fprintf (stderr, "%s: trace: %s\n", p, msg);
  else
    fprintf (stderr, "%s: %s\n", p, msg);
}

/* ARG made absolute against the current directory, without resolving
 * anything (--fd changes to "/" before the mount point is looked at;
 * messages and fuser(1) get the absolute path).
 */
static char *
make_absolute (const char *arg)
{
  CLEANUP_FREE char *cwd = NULL;
  char *p;

  if (arg[0] == '/')
    p = strdup (arg);
  else {
    cwd = getcwd (NULL, 0);
    if (cwd == NULL)
      error (EXIT_NOT_UNMOUNTED, errno, "getcwd");
    if (asprintf (&p, "%s%s%s", cwd, strcmp (cwd, "/") == 0 ? "" : "/",
                  arg) == -1)
      p = NULL;
  }
  if (p == NULL)
    error (EXIT_PROGRAM_ERROR, errno, "strdup");
  return p;
}

/* Wait until FD (the read side of a pipe) is closed at the other end.
 * Anything written to it is read and dropped: the reference does not
 * read, and spins on POLLIN.
 */
static void
wait_for_pipe_close (int fd)
{
  for (;;) {
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    char buf[256];
    ssize_t n;

    if (poll (&pfd, 1, -1) == -1) {
      if (errno == EINTR || errno == EAGAIN)
        continue;
      error (EXIT_PROGRAM_ERROR, errno, "poll");
    }
    if (pfd.revents & POLLNVAL)
      error (EXIT_PROGRAM_ERROR, 0, "--fd=%d: file descriptor closed", fd);
    if (pfd.revents & (POLLHUP | POLLERR))
      return;
    n = read (fd, buf, sizeof buf);
    if (n == 0)
      return;                   /* end of file */
    if (n == -1 && errno != EINTR && errno != EAGAIN)
      return;                   /* EIO from a hung-up terminal, ... */
  }
}

/* "fuser -v -m MOUNTPOINT" shows who keeps the mount busy.  Diagnostics
 * only: skipped if fuser is not installed, killed after FUSER_TIMEOUT
 * seconds (it stat(2)s the mount point, which a hung server never
 * answers).
 */
static void
run_fuser (const char *mountpoint)
{
  pid_t pid;
  int i, status;

  pid = fork ();
  if (pid == -1)
    error (EXIT_PROGRAM_ERROR, errno, "fork");
  if (pid == 0) {
    execlp ("fuser", "fuser", "-v", "-m", mountpoint, (char *) NULL);
    _exit (errno == ENOENT ? 127 : 126);
  }
  for (i = 0; i < FUSER_TIMEOUT * 10; ++i) {
    if (waitpid (pid, &status, WNOHANG) != 0) {
      if (verbose && WIFEXITED (status) && WEXITSTATUS (status) == 127)
        fprintf (stderr, "%s: fuser is not installed: cannot show the "
                 "processes using %s\n",
                 program_invocation_short_name, mountpoint);
      return;
    }
    usleep (100000);
  }
  fprintf (stderr, "%s: fuser did not finish in %d seconds: killed it\n",
           program_invocation_short_name, FUSER_TIMEOUT);
  kill (pid, SIGKILL);
  waitpid (pid, &status, 0);
}

int
main (int argc, char *argv[])
{
  enum { HELP_OPTION = CHAR_MAX + 1 };
  static const char options[] = "qvV";
  static const struct option long_options[] = {
    { "fd", 1, 0, 0 },
    { "help", 0, 0, HELP_OPTION },
    { "quiet", 0, 0, 'q' },
    { "long-options", 0, 0, 0 },
    { "no-retry", 0, 0, 0 },
    { "retry", 1, 0, 0 },
    { "short-options", 0, 0, 0 },
    { "verbose", 0, 0, 'v' },
    { "version", 0, 0, 'V' },
    { 0, 0, 0, 0 }
  };
  const char *s, *mountpoint;
  int c, option_index, fd = -1, wait_timeout = -1, r, err;

  setlocale (LC_ALL, "");

  for (;;) {
    c = getopt_long (argc, argv, options, long_options, &option_index);
    if (c == -1)
      break;

    switch (c) {
    case 0: {                   /* long options only */
      const char *opt = long_options[option_index].name;

      if (strcmp (opt, "long-options") == 0)
        display_long_options (long_options);
      else if (strcmp (opt, "short-options") == 0)
        display_short_options (options);
      else if (strcmp (opt, "fd") == 0) {
        fd = (int) parse_number (optarg, INT_MAX);
        if (fd == -1)
          error (EXIT_PROGRAM_ERROR, 0, "cannot parse fd option ‘%s’", optarg);
      }
      else if (strcmp (opt, "no-retry") == 0)
        retries = 0;
      else if (strcmp (opt, "retry") == 0) {
        /* 63 retries already mean waiting for 2^63 s. */
        long long n = parse_number (optarg, 63);

        if (n == -1)
          error (EXIT_PROGRAM_ERROR, 0,
                 "cannot parse retries option or value is too large ‘%s’",
                 optarg);
        retries = n;
      }
      else
        error (EXIT_PROGRAM_ERROR, 0, "unknown long option: %s (%d)",
               opt, option_index);
      break;
    }

    case 'q':
      quiet = true;
      break;

    case 'v':
      verbose = true;
      break;

    case 'V':
      printf ("%s %s %s\n", program_invocation_short_name,
              PACKAGE_NAME, PACKAGE_VERSION);
      exit (EXIT_SUCCESS);

    case HELP_OPTION:
      usage (EXIT_SUCCESS);

    default:
      usage (EXIT_PROGRAM_ERROR);
    }
  }

  if (optind + 1 != argc)
    error (EXIT_PROGRAM_ERROR, 0,
           "you must specify a mountpoint in the host filesystem");
  mountpoint = argv[optind];

  s = getenv ("GUESTUNMOUNT_WAIT_TIMEOUT");
  if (s && *s) {
    wait_timeout = (int) parse_number (s, INT_MAX);
    if (wait_timeout <= 0)
      error (EXIT_PROGRAM_ERROR, 0,
             "cannot parse GUESTUNMOUNT_WAIT_TIMEOUT=‘%s’ "
             "(a number of seconds, at least 1)", s);
  }

  h = gk_create ();
  if (h == NULL)
    error (EXIT_PROGRAM_ERROR, 0, "gk_create: %s", gk_last_error (NULL));
  /* Errors are printed below, where -q decides which. */
  gk_set_error_handler (h, NULL, NULL);
  gk_set_log_callback (h, log_message, NULL);
  if (verbose)
    gk_set_verbose (h, 1);

  /* Monitor the pipe until the other end is closed. */
  abs_path = make_absolute (mountpoint);
  if (fd >= 0) {
    if (fcntl (fd, F_GETFD) == -1)
      error (EXIT_PROGRAM_ERROR, errno, "--fd=%d", fd);
    if (chdir ("/") == -1)
      error (EXIT_PROGRAM_ERROR, errno, "chdir: /");
    /* Ignore keyboard signals: the pipe decides when we run. */
    signal (SIGINT, SIG_IGN);
    signal (SIGQUIT, SIG_IGN);
    if (verbose)
      fprintf (stderr, "%s: waiting for the other end of --fd=%d to close\n",
               program_invocation_short_name, fd);
    wait_for_pipe_close (fd);
  }

  r = gk_fuse_unmount (h, abs_path, retries, wait_timeout, 0);
  if (r == 0)
    exit (EXIT_UNMOUNTED);
  if (r == 1) {
    if (!quiet)
      fprintf (stderr, "%s: %s is not mounted\n",
               program_invocation_short_name, mountpoint);
    exit (EXIT_NOT_MOUNTED);
  }

  /* -q silences a missing mount point and fusermount's failure; not a
   * mount that is not FUSE nor a guestmount that does not exit.
   */
  err = gk_last_errno (h);
  if (!quiet || (err != ENOENT && err != EBUSY))
    fprintf (stderr, "%s: %s\n", program_invocation_short_name,
             gk_last_error (h));
  if (err == EBUSY && !quiet)
    run_fuser (abs_path);
  exit (err == ENOMEM || err == ENOPKG ? EXIT_PROGRAM_ERROR
                                       : EXIT_NOT_UNMOUNTED);
}
