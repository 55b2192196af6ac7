/* guestfish: copy-in, copy-out and edit, built on the library's streams
 * (tar-in/tar-out through a pipe to the host's tar, upload/download).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "guestfish.h"
#include "cleanups.h"
#include "cmds.h"

/* Start the host's tar with its stdin or stdout on a pipe; returns our
 * end of the pipe and the child's pid.
 */
static int
start_tar (const char *const *args, int child_reads, pid_t *pid_rtn)
{
  int fd[2];
  pid_t pid;

  if (pipe2 (fd, O_CLOEXEC) == -1) {
    perror ("pipe");
    return -1;
  }
  fflush (stdout);
  pid = fork ();
  if (pid == -1) {
    perror ("fork");
    close (fd[0]);
    close (fd[1]);
    return -1;
  }
  if (pid == 0) {
    if (dup2 (child_reads ? fd[0] : fd[1], child_reads ? 0 : 1) == -1)
      _exit (1);
    execvp ("tar", (char **) args);
    perror ("tar");
    _exit (1);
  }
  close (child_reads ? fd[0] : fd[1]);
  *pid_rtn = pid;
  return child_reads ? fd[1] : fd[0];
}

static int
wait_tar (pid_t pid, const char *what)
{
  int status;

  if (waitpid (pid, &status, 0) == -1) {
    perror ("waitpid");
    return -1;
  }
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
    fprintf (stderr, "%s: tar command failed\n", what);
    return -1;
  }
  return 0;
}

/* copy-in LOCAL... REMOTEDIR */
int
run_copy_in (const char *cmd, size_t argc, char *argv[])
{
  CLEANUP_FREE char *remote = win_prefix (argv[argc - 1]);
  size_t i;
  int r;

  if (remote == NULL)
    return -1;
  r = gk_is_dir (h, remote, 0);
  if (r == -1)
    return -1;
  if (r == 0) {
    fprintf (stderr, "copy-in: target ‘%s’ is not a directory\n", remote);
    return -1;
  }
  for (i = 0; i < argc - 1; ++i) {
    CLEANUP_FREE char *d = strdup (argv[i]), *b = strdup (argv[i]);
    const char *args[] = { "tar", "-C", NULL, "-cf", "-", NULL, NULL };
    pid_t pid;
    int fd, ok;

    if (d == NULL || b == NULL) {
      perror ("strdup");
      return -1;
    }
    if (access (argv[i], F_OK) == -1) {
      fprintf (stderr, "copy-in: %s: %s\n", argv[i], strerror (errno));
      return -1;
    }
    args[2] = dirname (d);
    args[5] = basename (b);
    fd = start_tar (args, 0, &pid);
    if (fd == -1)
      return -1;
    ok = gk_tar_in (h, fd, remote, NULL, 0);
    close (fd);
    if (wait_tar (pid, "copy-in") == -1 || ok == -1)
      return -1;
  }
  return 0;
}

/* copy-out REMOTE... LOCALDIR */
int
run_copy_out (const char *cmd, size_t argc, char *argv[])
{
  const char *local = argv[argc - 1];
  struct stat st;
  size_t i;

  if (stat (local, &st) == -1 || !S_ISDIR (st.st_mode)) {
    fprintf (stderr, "copy-out: target ‘%s’ is not a directory\n", local);
    return -1;
  }
  for (i = 0; i < argc - 1; ++i) {
    CLEANUP_FREE char *remote = win_prefix (argv[i]);
    CLEANUP_FREE char *b = NULL, *target = NULL;
    int isfile, isdir, fd, r;

    if (remote == NULL || (b = strdup (remote)) == NULL)
      return -1;
    if ((isfile = gk_is_file (h, remote, 0)) == -1)
      return -1;
    if (asprintf (&target, "%s/%s", local,
                  strcmp (remote, "/") == 0 ? "" : basename (b)) == -1) {
      perror ("asprintf");
      return -1;
    }
    if (isfile) {
      fd = open (target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
      if (fd == -1) {
        perror (target);
        return -1;
      }
      r = gk_download (h, remote, fd);
      if (close (fd) == -1 && r == 0) {
        perror (target);
        r = -1;
      }
      if (r == -1)
        return -1;
      continue;
    }
    if ((isdir = gk_is_dir (h, remote, 0)) == -1)
      return -1;
    if (!isdir) {
      fprintf (stderr, "copy-out: ‘%s’ is not a file or directory\n",
               remote);
      return -1;
    }
    if (mkdir (target, 0777) == -1 && errno != EEXIST) {
      perror (target);
      return -1;
    }
    {
      const char *args[] = { "tar", "-C", target, "-xf", "-", NULL };
      pid_t pid;

      fd = start_tar (args, 1, &pid);
      if (fd == -1)
        return -1;
      r = gk_tar_out (h, remote, fd, NULL, NULL, 0);
      close (fd);
      if (wait_tar (pid, "copy-out") == -1 || r == -1)
        return -1;
    }
  }
  return 0;
}

/* edit/vi/emacs FILE: download it, run the editor, upload it back only
 * if it changed.
 */
int
run_edit (const char *cmd, size_t argc, char *argv[])
{
  CLEANUP_FREE char *path = win_prefix (argv[0]);
  CLEANUP_FREE char *command = NULL;
  char tmp[] = "/tmp/guestfishXXXXXX";
  const char *editor;
  struct stat before, after;
  int fd, r = -1;

  if (path == NULL)
    return -1;
  if (strcasecmp (cmd, "vi") == 0)
    editor = "vi";
  else if (strcasecmp (cmd, "emacs") == 0)
    editor = "emacs -nw";
  else
    editor = getenv ("EDITOR") ? : "vi";

  fd = mkstemp (tmp);
  if (fd == -1) {
    perror ("mkstemp");
    return -1;
  }
  if (gk_download (h, path, fd) == -1) {
    close (fd);
    goto out;
  }
  if (fstat (fd, &before) == -1) {
    perror (tmp);
    close (fd);
    goto out;
  }
  close (fd);
  if (asprintf (&command, "%s %s", editor, tmp) == -1) {
    perror ("asprintf");
    goto out;
  }
  r = system (command);
  if (r != 0) {
    fprintf (stderr, "%s: editor failed\n", editor);
    r = -1;
    goto out;
  }
  r = -1;
  if (stat (tmp, &after) == -1) {
    perror (tmp);
    goto out;
  }
  if (after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
      after.st_mtim.tv_nsec == before.st_mtim.tv_nsec &&
      after.st_size == before.st_size) {
    r = 0;                      /* not changed: nothing to upload */
    goto out;
  }
  fd = open (tmp, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    perror (tmp);
    goto out;
  }
  r = gk_upload (h, fd, path);
  close (fd);

 out:
  unlink (tmp);
  return r;
}
