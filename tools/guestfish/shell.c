/* guestfish: the command-line parser and the loops that run commands
 * (scripts on stdin or -f, the interactive prompt, commands on the
 * command line, "<!" inlined output).  The semantics are the
 * reference's, which scripts depend on: a non-interactive run stops at
 * the first error, a leading '-' lets one command fail, '!' runs a host
 * command whose failure is an error, ' | ' pipes a command's output
 * through the host shell.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "guestfish.h"

#define ARGV_LEN (sizeof ((struct parsed_command *) 0)->argv / sizeof (char *))

static int
hexval (char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decode a double-quoted string in place, starting after the opening
 * quote.  Returns the length of the decoded string (the closing quote
 * is replaced by '\0'), or -1 after printing the error.  Escapes only
 * ever shorten the string, so decoding in place is safe.
 */
static ssize_t
parse_quoted_string (char *p)
{
  char *start = p;

  for (; *p && *p != '"'; p++) {
    int skip = 1, c;

    if (*p != '\\')
      continue;
    switch (p[1]) {
    case '\\': break;
    case 'a': *p = '\a'; break;
    case 'b': *p = '\b'; break;
    case 'f': *p = '\f'; break;
    case 'n': *p = '\n'; break;
    case 'r': *p = '\r'; break;
    case 't': *p = '\t'; break;
    case 'v': *p = '\v'; break;
    case '"': *p = '"'; break;
    case '\'': *p = '\''; break;
    case '?': *p = '?'; break;
    case '0': case '1': case '2': case '3':
    case '4': case '5': case '6': case '7':
      /* Always three octal digits; \0 cannot be in a C string. */
      skip = 3;
      if (p[2] < '0' || p[2] > '7' || p[3] < '0' || p[3] > '7')
        goto bad;
      c = (p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0');
      if (c < 1 || c > 255)
        goto bad;
      *p = c;
      break;
    case 'x':
      skip = 3;
      if (hexval (p[2]) < 0 || hexval (p[3]) < 0)
        goto bad;
      c = hexval (p[2]) * 16 + hexval (p[3]);
      if (c < 1)
        goto bad;
      *p = c;
      break;
    default:
    bad:
      fprintf (stderr, "guestfish: invalid escape sequence in string "
               "(starting at offset %d)\n", (int) (p - start));
      return -1;
    }
    memmove (p + 1, p + 1 + skip, strlen (p + 1 + skip) + 1);
  }
  if (*p == '\0') {
    fprintf (stderr, "guestfish: unterminated double quote\n");
    return -1;
  }
  *p = '\0';
  return p - start;
}

/* Run a host command line with system(3): a non-zero exit, or death by
 * SIGINT/SIGQUIT, is an error.
 */
static int
run_host_command (const char *cmd)
{
  int r = system (cmd);

  if (r == -1 ||
      (WIFSIGNALED (r) &&
       (WTERMSIG (r) == SIGINT || WTERMSIG (r) == SIGQUIT)) ||
      WEXITSTATUS (r) != 0)
    return -1;
  return 0;
}

static int execute_and_inline (const char *cmd, int exit_on_error);

/* Split a line into the command and its arguments, destructively.  See
 * struct parsed_command for the status.  *exit_on_error_rtn comes in as
 * the loop's setting and goes out as this command's ('-' clears it).
 */
struct parsed_command
parse_command_line (char *buf, int *exit_on_error_rtn)
{
  struct parsed_command pcmd;
  size_t i = 0, len;
  char *p, *next;

  memset (&pcmd, 0, sizeof pcmd);

  for (;;) {
    while (*buf == ' ' || *buf == '\t' || *buf == '\n' || *buf == '\r' ||
           *buf == '\f' || *buf == '\v')
      buf++;
    if (*buf == '\0' || *buf == '#')
      return pcmd;                /* status 0 */
    if (*buf == '!') {
      pcmd.status = run_host_command (buf + 1) == -1 ? -1 : 0;
      return pcmd;
    }
    if (buf[0] == '<' && buf[1] == '!') {
      pcmd.status = execute_and_inline (buf + 2, *exit_on_error_rtn);
      return pcmd;
    }
    if (*buf != '-')
      break;
    *exit_on_error_rtn = 0;
    buf++;
  }

  /* The command itself cannot be quoted. */
  len = strcspn (buf, " \t");
  if (len == 0)
    return pcmd;
  pcmd.cmd = buf;
  pcmd.status = 1;
  if (buf[len] == '\0')
    return pcmd;
  buf[len] = '\0';
  p = buf + len + 1;
  p += strspn (p, " \t");

  while (*p && i < ARGV_LEN) {
    bool tilde = false;

    if (*p == '"' || *p == '\'') {
      ssize_t n;

      p++;
      if (p[-1] == '"') {
        if ((n = parse_quoted_string (p)) == -1)
          goto error;
      }
      else {
        n = strcspn (p, "'");
        if (p[n] == '\0') {
          fprintf (stderr, "guestfish: unterminated single quote\n");
          goto error;
        }
        p[n] = '\0';
      }
      /* The character after the closing quote (it was at p[n]). */
      if (p[n + 1] && p[n + 1] != ' ' && p[n + 1] != '\t') {
        fprintf (stderr,
                 "guestfish: command arguments not separated by whitespace\n");
        goto error;
      }
      next = p[n + 1] ? &p[n + 2] : &p[n + 1];
    }
    else if (*p == '|') {
      *p = '\0';
      pcmd.pipe = p + 1;
      break;
    }
    else {
      tilde = *p == '~';
      len = strcspn (p, " \t");
      if (p[len]) {
        p[len] = '\0';
        next = &p[len + 1];
      }
      else
        next = &p[len];
    }
    pcmd.argv[i] = tilde ? try_tilde_expansion (p) : p;
    if (pcmd.argv[i] != p)
      pcmd.expanded[pcmd.nr_expanded++] = pcmd.argv[i];
    i++;
    p = next;
    p += strspn (p, " \t");
  }
  if (i == ARGV_LEN) {
    fprintf (stderr, "guestfish: too many arguments\n");
    goto error;
  }
  pcmd.argv[i] = NULL;
  return pcmd;

 error:
  pcmd.status = -1;
  return pcmd;
}

/* Parse one line and run it; -1 if the run must stop. */
static int
run_line (char *line, int global_exit_on_error)
{
  int exit_on_error = global_exit_on_error, r = 0;
  struct parsed_command pcmd = parse_command_line (line, &exit_on_error);
  size_t i;

  if (pcmd.status == -1 && exit_on_error)
    r = -1;
  else if (pcmd.status == 1 &&
           issue_command (pcmd.cmd, pcmd.argv, pcmd.pipe,
                          exit_on_error) == -1 &&
           exit_on_error)
    r = -1;
  for (i = 0; i < pcmd.nr_expanded; ++i)
    free (pcmd.expanded[i]);
  return r;
}

/* "<! cmd": run cmd and run its output as guestfish commands. */
static int
execute_and_inline (const char *cmd, int exit_on_error)
{
  FILE *pp;
  char *line = NULL;
  size_t allocsize = 0;
  ssize_t n;

  pp = popen (cmd, "r");
  if (pp == NULL) {
    perror ("popen");
    return -1;
  }
  while ((n = getline (&line, &allocsize, pp)) != -1) {
    if (n > 0 && line[n - 1] == '\n')
      line[n - 1] = '\0';
    if (run_line (line, exit_on_error) == -1)
      exit (EXIT_FAILURE);
  }
  free (line);
  if (pclose (pp) != 0) {
    /* A command that exits non-zero sets no errno: the reference prints
     * whatever errno was left, which in a script is isatty(0)'s ENOTTY.
     * Odd, but scripts' stderr is compared with it: match it.
     */
    if (!is_interactive)
      errno = ENOTTY;
    perror ("pclose");
    return -1;
  }
  return 0;
}

void
script (int prompt)
{
  char *buf;

  if (prompt) {
    printf ("\n"
            "Welcome to guestfish, the guest filesystem shell for\n"
            "editing virtual machine filesystems and disk images.\n"
            "\n"
            "Type: ‘help’ for help on commands\n"
            "      ‘man’ to read the manual\n"
            "      ‘quit’ to quit the shell\n"
            "\n");
    print_inspect_prompt ();
  }

  while (!quit) {
    buf = rl_gets (prompt);
    if (buf == NULL)
      break;
    input_lineno++;
    if (run_line (buf, !prompt) == -1)
      exit (EXIT_FAILURE);
  }
  if (prompt)
    printf ("\n");
}

/* Commands on the command line, separated by ":" arguments. */
void
cmdline (char *argv[], size_t optind, size_t argc)
{
  while (optind < argc) {
    const char *cmd = argv[optind++];
    char **params;
    int exit_on_error = 1;

    if (strcmp (cmd, ":") == 0) {
      fprintf (stderr, "guestfish: empty command on command line\n");
      exit (EXIT_FAILURE);
    }
    if (cmd[0] == '-') {
      exit_on_error = 0;
      cmd++;
    }
    params = &argv[optind];
    while (optind < argc && strcmp (argv[optind], ":") != 0)
      optind++;
    if (optind < argc)
      argv[optind++] = NULL;
    if (issue_command (cmd, params, NULL, exit_on_error) == -1 &&
        exit_on_error)
      exit (EXIT_FAILURE);
    /* The reference goes on after "quit" here (only loops stop). */
  }
}

void
extended_help_message (void)
{
  fprintf (stderr,
           "Did you mean to open a disk image?  guestfish -a disk.img\n"
           "For a list of commands:             guestfish -h\n"
           "For complete documentation:         man guestfish\n");
}

static int
run_action (const char *cmd, size_t argc, char *argv[])
{
  const struct command *c = lookup_command (cmd);
  int r;

  if (c == NULL) {
    fprintf (stderr, "%s: unknown command\n", cmd);
    if (command_num == 1)
      extended_help_message ();
    return -1;
  }
  if ((int) argc < c->min_args ||
      (c->max_args >= 0 && (int) argc > c->max_args)) {
    if (c->usage_error) {
      /* The shell's own commands say how to use them ("%s" is cmd). */
      const char *pct = strstr (c->usage_error, "%s");

      if (pct)
        fprintf (stderr, "%.*s%s%s", (int) (pct - c->usage_error),
                 c->usage_error, cmd, pct + 2);
      else
        fputs (c->usage_error, stderr);
      return -1;
    }
    r = RUN_WRONG_ARGS;
  }
  else
    r = c->run (cmd, argc, argv);
  if (r == RUN_WRONG_ARGS) {
    fprintf (stderr, "error: incorrect number of arguments\n");
    if (c->synopsis)
      fprintf (stderr, "usage: %s\n", c->synopsis);
    fprintf (stderr, "type 'help %s' for more help on %s\n", cmd, cmd);
    return -1;
  }
  return r;
}

/* Run one command, its output piped through pipecmd if not NULL.  The
 * exit_on_error flag only travels to a --remote server.
 */
int
issue_command (const char *cmd, char *argv[], const char *pipecmd,
               int exit_on_error)
{
  int saved_stdout = -1;
  pid_t pid = 0;
  size_t argc;
  int r;

  command_num++;

  if (pipecmd) {
    int fd[2];

    if (fflush (stdout) == EOF) {
      perror ("failed to flush standard output");
      return -1;
    }
    if (pipe (fd) == -1) {
      perror ("pipe failed");
      return -1;
    }
    pid = fork ();
    if (pid == -1) {
      perror ("fork");
      close (fd[0]);
      close (fd[1]);
      return -1;
    }
    if (pid == 0) {
      close (fd[1]);
      if (dup2 (fd[0], 0) == -1) {
        perror ("dup2 of stdin failed");
        _exit (1);
      }
      r = system (pipecmd);
      _exit (r == -1 ? 1 : WEXITSTATUS (r));
    }
    close (fd[0]);
    if ((saved_stdout = dup (1)) == -1 || dup2 (fd[1], 1) == -1) {
      perror ("failed to dup stdout");
      close (fd[1]);
      if (saved_stdout >= 0)
        close (saved_stdout);
      waitpid (pid, NULL, 0);
      return -1;
    }
    close (fd[1]);
  }

  for (argc = 0; argv[argc] != NULL; ++argc)
    ;

  if (remote_pid)
    r = rc_remote (remote_pid, cmd, argc, argv, exit_on_error);
  else if (strcasecmp (cmd, "quit") == 0 || strcasecmp (cmd, "exit") == 0 ||
           strcasecmp (cmd, "q") == 0) {
    quit = 1;
    r = 0;
  }
  else
    r = run_action (cmd, argc, argv);

  if (fflush (stdout) == EOF && !pipecmd) {
    perror ("failed to flush standard output");
    r = -1;
  }
  if (ferror (stdout)) {
    /* A reader like "head" may close the pipe early: that is not an
     * error unless --pipe-error.
     */
    if (!pipecmd || pipe_error) {
      fprintf (stderr, "guestfish: write error%s\n",
               pipecmd ? " on pipe" : "");
      r = -1;
    }
    clearerr (stdout);
  }
  if (pipecmd) {
    if (dup2 (saved_stdout, 1) == -1) {
      perror ("failed to dup2 standard output");
      r = -1;
    }
    close (saved_stdout);
    if (waitpid (pid, NULL, 0) == -1) {
      perror ("waiting for command to complete");
      r = -1;
    }
  }
  return r;
}
