/* libguestkit: run an external command (qemu-img, lvm2, ...) by argv,
 * never through a shell, and turn its failure into one clear error.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/wait.h>

#include "internal.h"

int
gk_int_run (gk_h *h, const char *const *argv, char **stdout_rtn)
{
  int out[2] = { -1, -1 }, err[2] = { -1, -1 };
  char buf[4096];
  CLEANUP_FREE char *errtext = NULL, *outtext = NULL;
  size_t errlen = 0, outlen = 0;
  pid_t pid;
  int status, i;

  if (h->verbose) {
    CLEANUP_FREE char *cmd = NULL;
    size_t len = 0;
    FILE *fp = open_memstream (&cmd, &len);

    if (fp) {
      for (i = 0; argv[i]; ++i)
        fprintf (fp, "%s%s", i ? " " : "", argv[i]);
      fclose (fp);
      debug (h, "command: %s", cmd);
    }
  }
  if (pipe2 (out, O_CLOEXEC) == -1 || pipe2 (err, O_CLOEXEC) == -1) {
    perrorf (h, "pipe");
    goto fail;
  }
  pid = fork ();
  if (pid == -1) {
    perrorf (h, "fork");
    goto fail;
  }
  if (pid == 0) {
    dup2 (out[1], 1);
    dup2 (err[1], 2);
    setenv ("LC_ALL", "C", 1);
    execvp (argv[0], (char *const *) argv);
    fprintf (stderr, "%s: %s\n", argv[0], strerror (errno));
    _exit (127);
  }
  close (out[1]); out[1] = -1;
  close (err[1]); err[1] = -1;

  /* Read both pipes; outputs of these tools are small. */
  for (;;) {
    ssize_t n;
    bool open_out = out[0] >= 0, open_err = err[0] >= 0;

    if (!open_out && !open_err)
      break;
    if (open_out) {
      n = read (out[0], buf, sizeof buf);
      if (n > 0) {
        char *p = realloc (outtext, outlen + n + 1);
        if (p == NULL) { perrorf (h, "read"); goto fail; }
        outtext = p;
        memcpy (outtext + outlen, buf, n);
        outlen += n;
        outtext[outlen] = '\0';
        continue;
      }
      if (n == -1 && errno == EINTR)
        continue;
      close (out[0]); out[0] = -1;
      continue;
    }
    n = read (err[0], buf, sizeof buf);
    if (n > 0) {
      char *p = realloc (errtext, errlen + n + 1);
      if (p == NULL) { perrorf (h, "read"); goto fail; }
      errtext = p;
      memcpy (errtext + errlen, buf, n);
      errlen += n;
      errtext[errlen] = '\0';
      continue;
    }
    if (n == -1 && errno == EINTR)
      continue;
    close (err[0]); err[0] = -1;
  }
  while (waitpid (pid, &status, 0) == -1) {
    if (errno != EINTR) {
      perrorf (h, "waitpid");
      return -1;
    }
  }
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
    const char *msg = errtext ? errtext : outtext ? outtext : "";
    size_t len;

    /* The last non-empty line is usually the reason. */
    while (errlen > 0 && (errtext[errlen-1] == '\n' || errtext[errlen-1] == ' '))
      errtext[--errlen] = '\0';
    if (errtext && strrchr (errtext, '\n'))
      msg = strrchr (errtext, '\n') + 1;
    /* lvm2 ends with "Run `lvcreate --help' ..." after the real reason. */
    if (errtext && msg != errtext && strstr (msg, "Run `") &&
        strstr (msg, "--help'")) {
      errtext[msg - errtext - 1] = '\0';
      msg = strrchr (errtext, '\n') ? strrchr (errtext, '\n') + 1 : errtext;
    }
    while (*msg == ' ' || *msg == '\t')   /* lvm2 indents its messages */
      msg++;
    len = strcspn (msg, "\n");
    if (WIFEXITED (status))
      error_errno (h, EIO, "%s failed (exit %d): %.*s", argv[0],
                   WEXITSTATUS (status), (int) len, msg);
    else
      error_errno (h, EIO, "%s killed by signal %d", argv[0],
                   WTERMSIG (status));
    return -1;
  }
  if (stdout_rtn)
    *stdout_rtn = outtext ? TAKE_PTR (outtext) : strdup ("");
  return 0;

 fail:
  for (i = 0; i < 2; ++i) {
    if (out[i] >= 0) close (out[i]);
    if (err[i] >= 0) close (err[i]);
  }
  return -1;
}
