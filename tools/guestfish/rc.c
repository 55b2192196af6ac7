/* guestfish --listen and --remote: one guestfish keeps its handle (and
 * its launched appliance) and runs the commands that other guestfish
 * processes send it, for scripts that do
 *
 *   eval "$(guestfish --listen -a disk.img)"
 *   guestfish --remote run
 *   guestfish --remote ls /
 *
 * The socket is /tmp/.guestfish-$UID/socket-$PID as in the reference, in
 * a directory only the user can enter.  Each connection carries one
 * command: a header (with the client's stdout and stderr passed as file
 * descriptors, so the output appears where the client's would), the
 * command and its arguments as NUL-terminated strings; the server runs
 * it and replies with its status.  The reference passes stdout only;
 * passing stderr too means a script sees its errors.  Client and server
 * must be the same build (GF_RC_VERSION).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <error.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "guestfish.h"
#include "cleanups.h"

#define GF_RC_MAGIC 0x67666963   /* "gfic" */
#define GF_RC_VERSION 1
#define GF_RC_MAX_PAYLOAD (1 << 20)

struct rc_header {
  uint32_t magic;
  uint32_t version;
  uint32_t exit_on_error;
  uint32_t nstrings;            /* the command and its arguments */
  uint32_t payload_len;
};

static void
socket_path (pid_t pid, struct sockaddr_un *addr, char *dir, size_t dirlen)
{
  snprintf (dir, dirlen, "/tmp/.guestfish-%ju", (uintmax_t) geteuid ());
  memset (addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  snprintf (addr->sun_path, sizeof addr->sun_path, "%s/socket-%ju", dir,
            (uintmax_t) pid);
}

static int
full_read (int fd, void *buf, size_t len)
{
  char *p = buf;

  while (len > 0) {
    ssize_t r = read (fd, p, len);

    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    p += r;
    len -= r;
  }
  return 0;
}

static int
full_write (int fd, const void *buf, size_t len)
{
  const char *p = buf;

  while (len > 0) {
    ssize_t r = write (fd, p, len);

    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    p += r;
    len -= r;
  }
  return 0;
}

/* Receive one request: the header and its two descriptors, then the
 * strings.  Returns a NULL-terminated argv (one allocation) or NULL.
 */
static char **
receive_request (int s, int fds[2], int *exit_on_error)
{
  struct rc_header hdr;
  struct iovec iov = { .iov_base = &hdr, .iov_len = sizeof hdr };
  union {
    char buf[CMSG_SPACE (2 * sizeof (int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {
    .msg_iov = &iov, .msg_iovlen = 1,
    .msg_control = u.buf, .msg_controllen = sizeof u.buf,
  };
  struct cmsghdr *cmsg;
  char **argv, *p;
  size_t i;

  fds[0] = fds[1] = -1;
  if (recvmsg (s, &msg, MSG_CMSG_CLOEXEC) != (ssize_t) sizeof hdr)
    return NULL;
  cmsg = CMSG_FIRSTHDR (&msg);
  if (cmsg && cmsg->cmsg_level == SOL_SOCKET &&
      cmsg->cmsg_type == SCM_RIGHTS &&
      cmsg->cmsg_len == CMSG_LEN (2 * sizeof (int)))
    memcpy (fds, CMSG_DATA (cmsg), 2 * sizeof (int));
  if (hdr.magic != GF_RC_MAGIC || fds[0] == -1) {
    fprintf (stderr, "guestfish: protocol error: not a guestfish "
             "--remote request\n");
    goto err;
  }
  if (hdr.version != GF_RC_VERSION) {
    fprintf (stderr, "guestfish: protocol error: version mismatch, server "
             "version ‘%d’ does not match client version ‘%u’.  The two "
             "versions must match exactly.\n", GF_RC_VERSION, hdr.version);
    goto err;
  }
  if (hdr.nstrings < 1 || hdr.nstrings > 64 ||
      hdr.payload_len > GF_RC_MAX_PAYLOAD)
    goto err;
  argv = malloc ((hdr.nstrings + 1) * sizeof (char *) + hdr.payload_len + 1);
  if (argv == NULL)
    goto err;
  p = (char *) (argv + hdr.nstrings + 1);
  if (full_read (s, p, hdr.payload_len) == -1) {
    free (argv);
    goto err;
  }
  p[hdr.payload_len] = '\0';
  for (i = 0; i < hdr.nstrings; ++i) {
    if (p > (char *) (argv + hdr.nstrings + 1) + hdr.payload_len) {
      free (argv);
      goto err;
    }
    argv[i] = p;
    p += strlen (p) + 1;
  }
  argv[i] = NULL;
  *exit_on_error = hdr.exit_on_error;
  return argv;

 err:
  if (fds[0] >= 0) close (fds[0]);
  if (fds[1] >= 0) close (fds[1]);
  return NULL;
}

/* Run one request with the client's stdout and stderr in place of ours. */
static int
serve (char **argv, int fds[2])
{
  int saved[2], r;

  fflush (stdout);
  fflush (stderr);
  saved[0] = dup (1);
  saved[1] = dup (2);
  dup2 (fds[0], 1);
  dup2 (fds[1], 2);
  close (fds[0]);
  close (fds[1]);
  r = issue_command (argv[0], &argv[1], NULL, 0);
  fflush (stdout);
  fflush (stderr);
  dup2 (saved[0], 1);
  dup2 (saved[1], 2);
  close (saved[0]);
  close (saved[1]);
  return r;
}

void
rc_listen (void)
{
  char dir[64];
  struct sockaddr_un addr;
  pid_t pid;
  int sock, null;

  snprintf (dir, sizeof dir, "/tmp/.guestfish-%ju", (uintmax_t) geteuid ());
  if (mkdir (dir, 0700) == -1 && errno != EEXIST)
    error (EXIT_FAILURE, errno, "mkdir: %s", dir);
  {
    struct stat st;

    /* Never use a directory another user could have made for us. */
    if (lstat (dir, &st) == -1 || !S_ISDIR (st.st_mode) ||
        st.st_uid != geteuid () || (st.st_mode & 0077) != 0)
      error (EXIT_FAILURE, 0, "‘%s’ is not a private directory of this user",
             dir);
  }

  /* The socket is made before the fork, under the child's PID, so that
   * a client started as soon as the parent exits finds it.
   */
  fflush (stdout);
  pid = fork ();
  if (pid == -1)
    error (EXIT_FAILURE, errno, "fork");
  if (pid > 0) {
    printf ("GUESTFISH_PID=%d; export GUESTFISH_PID\n", (int) pid);
    fflush (stdout);
    /* Wait until the child listens (it closes its copy of stdout). */
    socket_path (pid, &addr, dir, sizeof dir);
    for (int i = 0; i < 500 && access (addr.sun_path, F_OK) == -1; ++i)
      usleep (10000);
    _exit (0);
  }

  setsid ();
  socket_path (getpid (), &addr, dir, sizeof dir);
  sock = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock == -1)
    error (EXIT_FAILURE, errno, "socket");
  unlink (addr.sun_path);
  if (bind (sock, (struct sockaddr *) &addr, sizeof addr) == -1)
    error (EXIT_FAILURE, errno, "bind: %s", addr.sun_path);
  if (listen (sock, 4) == -1)
    error (EXIT_FAILURE, errno, "listen: %s", addr.sun_path);

  /* Let eval "$(guestfish --listen)" finish: nothing more on our stdout,
   * and stdin is not the caller's.
   */
  null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2 (null, 0);
    dup2 (null, 1);
    close (null);
  }
  input_file = NULL;            /* messages as the reference's server */

  while (!quit) {
    int s = accept4 (sock, NULL, NULL, SOCK_CLOEXEC);
    int fds[2], exit_on_error = 0;
    int32_t reply;
    char **argv;

    if (s == -1) {
      if (errno != EINTR)
        perror ("accept");
      continue;
    }
    argv = receive_request (s, fds, &exit_on_error);
    if (argv == NULL) {
      close (s);
      continue;
    }
    reply = serve (argv, fds);
    free (argv);
    /* quit: close the handle (and its appliance) before replying, so
     * the client knows the image is released when it returns.
     */
    if (quit) {
      gk_shutdown (h);
      gk_close (h);
      h = NULL;
    }
    full_write (s, &reply, sizeof reply);
    close (s);
    if (exit_on_error && reply == -1) {
      unlink (addr.sun_path);
      if (h) {
        gk_shutdown (h);
        gk_close (h);
      }
      exit (EXIT_FAILURE);
    }
  }
  unlink (addr.sun_path);
  close (sock);
  exit (EXIT_SUCCESS);
}

int
rc_remote (int pid, const char *cmd, size_t argc, char *argv[],
           int exit_on_error)
{
  char dir[64];
  struct sockaddr_un addr;
  struct rc_header hdr = {
    .magic = GF_RC_MAGIC, .version = GF_RC_VERSION,
    .exit_on_error = exit_on_error, .nstrings = argc + 1,
  };
  struct iovec iov = { .iov_base = &hdr, .iov_len = sizeof hdr };
  union {
    char buf[CMSG_SPACE (2 * sizeof (int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {
    .msg_iov = &iov, .msg_iovlen = 1,
    .msg_control = u.buf, .msg_controllen = sizeof u.buf,
  };
  struct cmsghdr *cmsg;
  int fds[2] = { 1, 2 };
  CLEANUP_FREE char *payload = NULL;
  size_t len = strlen (cmd) + 1, i, off;
  int32_t reply;
  int s;

  for (i = 0; i < argc; ++i)
    len += strlen (argv[i]) + 1;
  if (len > GF_RC_MAX_PAYLOAD || argc > 63) {
    fprintf (stderr, "guestfish: remote: command too long\n");
    return -1;
  }
  payload = malloc (len);
  if (payload == NULL) {
    perror ("malloc");
    return -1;
  }
  off = 0;
  memcpy (payload, cmd, strlen (cmd) + 1);
  off += strlen (cmd) + 1;
  for (i = 0; i < argc; ++i) {
    memcpy (payload + off, argv[i], strlen (argv[i]) + 1);
    off += strlen (argv[i]) + 1;
  }
  hdr.payload_len = len;

  socket_path (pid, &addr, dir, sizeof dir);
  s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s == -1) {
    perror ("socket");
    return -1;
  }
  if (connect (s, (struct sockaddr *) &addr, sizeof addr) == -1) {
    fprintf (stderr, "guestfish: remote: looks like the server is not "
             "running\n");
    close (s);
    return -1;
  }
  memset (u.buf, 0, sizeof u.buf);
  cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof fds);
  memcpy (CMSG_DATA (cmsg), fds, sizeof fds);
  fflush (stdout);
  fflush (stderr);
  if (sendmsg (s, &msg, MSG_NOSIGNAL) != (ssize_t) sizeof hdr ||
      full_write (s, payload, len) == -1) {
    fprintf (stderr, "guestfish: protocol error: could not send the "
             "command to the server\n");
    close (s);
    return -1;
  }
  if (full_read (s, &reply, sizeof reply) == -1) {
    fprintf (stderr, "guestfish: protocol error: could not decode reply "
             "from server\n");
    close (s);
    return -1;
  }
  close (s);
  return reply == 0 ? 0 : -1;
}
