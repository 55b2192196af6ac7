/* guestfish: commands about the session itself (drives, launch, the
 * host side: echo, lcd, setenv, time, ...).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/time.h>

#include "guestfish.h"
#include "cleanups.h"
#include "cmds.h"

/* add FILENAME [readonly:..] [format:..] [protocol:..] [server:..]
 * [username:..] [secret:..] [blocksize:..] and the optional arguments
 * the appliance ignores or that only tune qemu (iface, name, label,
 * cachemode, discard, copyonread).
 */
int
run_add (const char *cmd, size_t argc, char *argv[])
{
  static const char *const names[] = {
    "readonly", "format", "iface", "name", "label", "protocol", "server",
    "username", "secret", "cachemode", "discard", "copyonread", "blocksize",
    NULL
  };
  enum { RO, FORMAT, IFACE, NAME, LABEL, PROTOCOL, SERVER, USERNAME,
         SECRET, CACHEMODE, DISCARD, COPYONREAD, BLOCKSIZE, NR };
  const char *v[NR] = { NULL };
  int ro = strcasecmp (cmd, "add-ro") == 0 || strcasecmp (cmd, "add_ro") == 0;
  int64_t blocksize = 0;
  CLEANUP_FREE char *uri = NULL;
  const char *path = argv[0];
  CLEANUP_FREE_STRING_LIST char **servers = NULL;
  int b;

  if (parse_optargs (cmd, argc, argv, 1, names, v) == -1)
    return -1;
  if (v[RO]) {
    if (parse_bool (cmd, v[RO], &ro) == -1)
      return -1;
  }
  if (v[COPYONREAD] && parse_bool (cmd, v[COPYONREAD], &b) == -1)
    return -1;
  /* libguestfs's rule for labels (they name /dev/disk/guestfs/LABEL). */
  if (v[LABEL] && (v[LABEL][0] == '\0' || strlen (v[LABEL]) > 20 ||
                   strspn (v[LABEL], "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen (v[LABEL]))) {
    print_error ("label parameter is empty, too long, or contains "
                 "disallowed characters");
    return -1;
  }
  if (v[CACHEMODE] && strcmp (v[CACHEMODE], "writeback") != 0 &&
      strcmp (v[CACHEMODE], "unsafe") != 0) {
    print_error ("cachemode parameter must be ‘writeback’ (default) or "
                 "‘unsafe’");
    return -1;
  }
  if (v[BLOCKSIZE] &&
      parse_int (cmd, "blocksize", v[BLOCKSIZE], -(2LL << 30),
                 (2LL << 30) - 1, &blocksize) == -1)
    return -1;
  /* Network drives as the URI the library takes. */
  if (v[PROTOCOL] && strcmp (v[PROTOCOL], "file") != 0) {
    if (v[SERVER] && (servers = parse_string_list (v[SERVER])) == NULL)
      return -1;
    if (asprintf (&uri, "%s://%s%s%s%s%s", v[PROTOCOL],
                  v[USERNAME] ? v[USERNAME] : "", v[USERNAME] ? "@" : "",
                  servers && servers[0] ? servers[0] : "",
                  path[0] == '/' ? "" : "/", path) == -1) {
      perror ("asprintf");
      return -1;
    }
    path = uri;
  }
  return gk_add_drive (h, path, v[FORMAT], blocksize,
                       ro ? 0 : GK_DRIVE_READWRITE) == -1 ? -1 : 0;
}

/* add-domain DOM [libvirturi:..] [readonly:..] ...: prints the number
 * of disks added.
 */
int
run_add_domain (const char *cmd, size_t argc, char *argv[])
{
  static const char *const names[] = {
    "libvirturi", "readonly", "iface", "live", "allowuuid", "readonlydisk",
    "cachemode", "discard", "copyonread", NULL
  };
  const char *v[9] = { NULL };
  int ro = 0, b, r;

  if (parse_optargs (cmd, argc, argv, 1, names, v) == -1)
    return -1;
  if (v[1] && parse_bool (cmd, v[1], &ro) == -1)
    return -1;
  if ((v[3] && parse_bool (cmd, v[3], &b) == -1) ||
      (v[4] && parse_bool (cmd, v[4], &b) == -1) ||
      (v[8] && parse_bool (cmd, v[8], &b) == -1))
    return -1;
  r = gk_add_domain (h, argv[0], v[0], ro ? 0 : GK_DRIVE_READWRITE);
  if (r == -1)
    return -1;
  printf ("%d\n", r);
  return 0;
}

int
run_launch (const char *cmd, size_t argc, char *argv[])
{
  return launch ();
}

int
run_shutdown (const char *cmd, size_t argc, char *argv[])
{
  return gk_shutdown (h);
}

/* The shell closes its handle and opens a new one, as the options made
 * it (the drives are gone).
 */
int
run_reopen (const char *cmd, size_t argc, char *argv[])
{
  gk_h *newh = create_handle ();

  if (newh == NULL)
    return -1;
  if (gk_shutdown (h) == -1) {
    gk_close (newh);
    return -1;
  }
  gk_close (h);
  h = newh;
  return 0;
}

int
run_echo (const char *cmd, size_t argc, char *argv[])
{
  size_t i;

  for (i = 0; i < argc; ++i)
    printf ("%s%s", i > 0 ? " " : "", argv[i]);
  printf ("\n");
  return 0;
}

int
run_lcd (const char *cmd, size_t argc, char *argv[])
{
  if (chdir (argv[0]) == -1) {
    perror (argv[0]);
    return -1;
  }
  return 0;
}

int
run_setenv (const char *cmd, size_t argc, char *argv[])
{
  if (setenv (argv[0], argv[1], 1) == -1) {
    perror ("setenv");
    return -1;
  }
  return 0;
}

int
run_unsetenv (const char *cmd, size_t argc, char *argv[])
{
  if (unsetenv (argv[0]) == -1) {
    perror ("unsetenv");
    return -1;
  }
  return 0;
}

int
run_time (const char *cmd, size_t argc, char *argv[])
{
  struct timeval start, end;
  int64_t us;

  if (argc < 1) {
    fprintf (stderr, "use 'time command [args...]'\n");
    return -1;
  }
  gettimeofday (&start, NULL);
  if (issue_command (argv[0], &argv[1], NULL, 0) == -1)
    return -1;
  gettimeofday (&end, NULL);
  us = (int64_t) (end.tv_sec - start.tv_sec) * 1000000 +
    (end.tv_usec - start.tv_usec);
  printf ("elapsed time: %d.%02d seconds\n",
          (int) (us / 1000000), (int) ((us / 10000) % 100));
  return 0;
}

/* supported: each optional feature group of the appliance, yes or no. */
int
run_supported (const char *cmd, size_t argc, char *argv[])
{
  CLEANUP_FREE_STRING_LIST char **groups = gk_available_all_groups (h);
  size_t i, len = 0;

  if (groups == NULL)
    return -1;
  for (i = 0; groups[i]; ++i)
    if (strlen (groups[i]) > len)
      len = strlen (groups[i]);
  gk_push_error_handler (h, NULL, NULL);
  for (i = 0; groups[i]; ++i)
    printf ("%*s %s\n", (int) len, groups[i],
            gk_feature_available (h, groups[i]) == 1 ? "yes" : "no");
  gk_pop_error_handler (h);
  return 0;
}

/* help, help CMD, help --list / -l. */
int
run_help (const char *cmd, size_t argc, char *argv[])
{
  if (argc == 0) {
    printf ("Add disk images to examine using the ‘-a’ or ‘-d’ options, "
            "or the ‘add’\n"
            "command.\n"
            "Or create a new disk image using ‘-N’, or the ‘alloc’ or "
            "‘sparse’ commands.\n"
            "Once you have done this, use the ‘run’ command.\n"
            "\n"
            "For more information about a command, use ‘help cmd’.\n"
            "\n"
            "To read the manual, type ‘man’.\n"
            "\n");
    return 0;
  }
  if (strcmp (argv[0], "--list") == 0 || strcmp (argv[0], "-l") == 0) {
    list_commands ();
    return 0;
  }
  return display_command (argv[0]);
}

/* alloc/sparse FILE SIZE: a new raw disk image (fully allocated, or
 * sparse), added as the next drive.  An existing file is replaced, as
 * the reference does.
 */
int
run_alloc (const char *cmd, size_t argc, char *argv[])
{
  bool sparse = strcasecmp (cmd, "sparse") == 0;
  int64_t size;
  int fd, r, err;

  if (argc != 2) {
    fprintf (stderr, sparse
             ? "use 'sparse file size' to create a sparse image\n"
             : "use 'alloc file size' to create an image\n");
    return -1;
  }
  /* The reference reads sizes as unsigned (xstrtoull): a minus sign
   * is invalid (status 4).
   */
  err = strchr (argv[1], '-') ? 4 : xstrtoll_like (argv[1], &size);
  if (err != 0) {
    fprintf (stderr, "parse_size: invalid integer parameter (xstrtoull "
             "returned %d)\n", err);
    return -1;
  }
  fd = open (argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC,
             0666);
  if (fd == -1) {
    print_error ("cannot create raw file: %s: %m", argv[0]);
    return -1;
  }
  r = sparse ? ftruncate (fd, size) : posix_fallocate (fd, 0, size);
  if (r != 0) {
    errno = sparse ? errno : r;
    print_error ("%s: %s: %m", sparse ? "ftruncate" : "posix_fallocate",
                 argv[0]);
    close (fd);
    unlink (argv[0]);
    return -1;
  }
  if (close (fd) == -1) {
    print_error ("close: %s: %m", argv[0]);
    unlink (argv[0]);
    return -1;
  }
  if (gk_add_drive (h, argv[0], "raw", 0, GK_DRIVE_READWRITE) == -1) {
    unlink (argv[0]);
    return -1;
  }
  return 0;
}

int
run_man (const char *cmd, size_t argc, char *argv[])
{
  int r = system ("man 1 guestfish");

  return r == 0 ? 0 : -1;
}
