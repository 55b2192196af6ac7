/* guestfish: converting command arguments (booleans, integers with size
 * suffixes, "name:value" optional arguments, string lists, FileIn and
 * FileOut, "~" and "win:") with the reference's error messages, and
 * printing results in the reference's formats.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include "guestfish.h"
#include "cleanups.h"

int
parse_bool (const char *cmd, const char *arg, int *ret)
{
  static const char *const yes[] = { "1", "true", "t", "yes", "y", "on", NULL };
  static const char *const no[] = { "0", "false", "f", "no", "n", "off", NULL };
  size_t i;

  for (i = 0; yes[i]; ++i)
    if (strcasecmp (arg, yes[i]) == 0) {
      *ret = 1;
      return 0;
    }
  for (i = 0; no[i]; ++i)
    if (strcasecmp (arg, no[i]) == 0) {
      *ret = 0;
      return 0;
    }
  fprintf (stderr, "guestfish: '%s': invalid boolean value, use 'true' or "
           "'false'\n", arg);
  return -1;
}

/* Integers as gnulib's xstrtoll reads them with the suffixes "0kKMGTPEZY":
 * C prefixes (0x, 0), then an optional multiplier: K = 1024, KiB = 1024,
 * KB = 1000, and so on.  Returns the xstrtol status (0 = OK, 1 overflow,
 * 2 invalid suffix, 4 invalid), which the reference prints.
 */
int
xstrtoll_like (const char *s, int64_t *ret)
{
  static const char suffixes[] = "kKMGTPEZY";
  char *end;
  long long v;
  int base = 1024, power = 0, overflow = 0;
  const char *p;

  while (isspace ((unsigned char) *s))
    s++;
  errno = 0;
  v = strtoll (s, &end, 0);
  if (end == s)
    return 4;
  if (errno == ERANGE)
    overflow = 1;
  if (*end == '\0') {
    *ret = v;
    return overflow;
  }
  if ((p = strchr (suffixes, *end)) == NULL)
    return overflow | 2;
  /* k and K are both KiB; the rest by position. */
  power = *end == 'k' || *end == 'K' ? 1 : (int) (p - suffixes);
  end++;
  if (*end == 'B') {
    base = 1000;
    end++;
  }
  else if (end[0] == 'i' && end[1] == 'B')
    end += 2;
  while (power-- > 0) {
    if (v > LLONG_MAX / base || v < LLONG_MIN / base)
      overflow = 1;
    else
      v *= base;
  }
  *ret = v;
  if (*end != '\0')
    return overflow | 2;
  return overflow;
}

int
parse_int (const char *cmd, const char *name, const char *arg,
           int64_t min, int64_t max, int64_t *ret)
{
  int64_t v;
  int err = xstrtoll_like (arg, &v);

  if (err != 0) {
    fprintf (stderr, "%s: %s: invalid integer parameter (xstrtoll returned "
             "%d)\n", cmd, name, err);
    return -1;
  }
  if (v < min || v > max) {
    fprintf (stderr, "%s: %s: integer out of range\n", cmd, name);
    return -1;
  }
  *ret = v;
  return 0;
}

int
parse_optargs (const char *cmd, size_t argc, char *argv[], size_t first,
               const char *const *names, const char **values)
{
  size_t i, j;

  for (i = first; i < argc; ++i) {
    for (j = 0; names[j]; ++j) {
      size_t len = strlen (names[j]);

      if (strncmp (argv[i], names[j], len) == 0 && argv[i][len] == ':')
        break;
    }
    if (names[j] == NULL) {
      fprintf (stderr, "%s: unknown optional argument \"%s\"\n", cmd, argv[i]);
      return -1;
    }
    if (values[j]) {
      fprintf (stderr, "%s: optional argument \"%s\" given more than once\n",
               cmd, names[j]);
      return -1;
    }
    values[j] = argv[i] + strlen (names[j]) + 1;
  }
  return 0;
}

/* A space-separated list where single quotes group, as a shell does:
 * "a 'b c' d'e f'g" is a, "b c", "de fg".
 */
char **
parse_string_list (const char *str)
{
  char **list = NULL;
  size_t n = 0;
  const char *p = str;

  for (;;) {
    char *tok = NULL;
    size_t len = 0;
    bool quoted = false, have = false;

    p += strspn (p, " \t");
    if (*p == '\0')
      break;
    while (*p && (quoted || (*p != ' ' && *p != '\t'))) {
      const char *end;
      char *t;

      if (*p == '\'') {
        quoted = !quoted;
        p++;
        have = true;
        continue;
      }
      end = p + (quoted ? strcspn (p, "'") : strcspn (p, " \t'"));
      /* \' outside quotes is a literal quote. */
      if (!quoted && *end == '\'' && end > p && end[-1] == '\\') {
        t = realloc (tok, len + (end - p) + 1);
        if (t == NULL) goto oom;
        tok = t;
        memcpy (tok + len, p, end - p - 1);
        len += end - p - 1;
        tok[len++] = '\'';
        p = end + 1;
      }
      else {
        t = realloc (tok, len + (end - p) + 1);
        if (t == NULL) goto oom;
        tok = t;
        memcpy (tok + len, p, end - p);
        len += end - p;
        p = end;
      }
      have = true;
    }
    if (quoted) {
      fprintf (stderr, "Runaway quote in string \"%s\"\n", str);
      free (tok);
      gk_free_string_list (list ? (list[n] = NULL, list) : NULL);
      return NULL;
    }
    if (have) {
      char **l = realloc (list, (n + 2) * sizeof *list);

      if (l == NULL || (tok == NULL && (tok = strdup ("")) == NULL)) {
        free (l ? l : list);
        goto oom;
      }
      list = l;
      tok[len] = '\0';
      list[n++] = tok;
    }
  }
  if (list == NULL && (list = malloc (sizeof *list)) == NULL)
    goto oom;
  list[n] = NULL;
  return list;

 oom:
  perror ("malloc");
  exit (EXIT_FAILURE);
}

/* "win:C:\path": the drive letter becomes the directory its device is
 * mounted on, from the inspected guest's drive mappings.
 */
static char *
win_drive_letter (char letter, const char *path)
{
  CLEANUP_FREE_STRING_LIST char **roots = NULL, **drives = NULL,
    **mps = NULL;
  const char *device = NULL, *mountpoint = NULL;
  char *ret;
  size_t i;

  roots = gk_inspect_get_roots (h);
  if (roots == NULL)
    return NULL;
  if (roots[0] == NULL) {
    fprintf (stderr, "guestfish: to use Windows drive letters, you must "
             "inspect the guest (\"-i\" option or run \"inspect-os\" "
             "command)\n");
    return NULL;
  }
  drives = gk_inspect_get_drive_mappings (h, roots[0]);
  if (drives == NULL || drives[0] == NULL) {
    fprintf (stderr, "guestfish: to use Windows drive letters, this must be "
             "a Windows guest\n");
    return NULL;
  }
  for (i = 0; drives[i]; i += 2)
    if (tolower ((unsigned char) drives[i][0]) == letter &&
        drives[i][1] == '\0') {
      device = drives[i + 1];
      break;
    }
  if (device == NULL) {
    fprintf (stderr, "guestfish: drive '%c:' not found.  To list available "
             "drives do:\n  inspect-get-drive-mappings %s\n", letter,
             roots[0]);
    return NULL;
  }
  mps = gk_mountpoints (h);
  if (mps == NULL)
    return NULL;
  for (i = 0; mps[i]; i += 2)
    if (strcmp (mps[i], device) == 0) {
      mountpoint = mps[i + 1];
      break;
    }
  if (mountpoint == NULL) {
    fprintf (stderr, "guestfish: to access '%c:', mount %s first.  One way "
             "to do this is:\n  umount-all\n  mount %s /\n", letter, device,
             device);
    return NULL;
  }
  if (asprintf (&ret, "%s%s%s", mountpoint,
                strcmp (mountpoint, "/") != 0 ? "/" : "", path) == -1) {
    perror ("asprintf");
    return NULL;
  }
  return ret;
}

/* "win:" paths, as the reference resolves them: a drive letter, then
 * backslashes to slashes, then the guest's own case for each component.
 */
char *
win_prefix (const char *path)
{
  char *ret, *q, *t;

  if (strncasecmp (path, "win:", 4) != 0) {
    ret = strdup (path);
    if (ret == NULL)
      perror ("strdup");
    return ret;
  }
  path += 4;
  if (isalpha ((unsigned char) path[0]) && path[1] == ':')
    ret = win_drive_letter (tolower ((unsigned char) path[0]), path + 2);
  else if ((ret = strdup (*path ? path : "/")) == NULL)
    perror ("strdup");
  if (ret == NULL)
    return NULL;
  for (q = ret; *q; ++q)
    if (*q == '\\')
      *q = '/';
  t = gk_case_sensitive_path (h, ret);
  free (ret);
  return t;
}

/* "~" or "~user" at the start of a local path (unquoted arguments
 * only): a new string, or str itself.
 */
char *
try_tilde_expansion (char *str)
{
  size_t len = strcspn (str + 1, "/");
  const char *home = NULL;
  char *ret;

  if (len == 0) {
    home = getenv ("HOME");
    if (home == NULL) {
      struct passwd *pw = getpwuid (geteuid ());
      home = pw ? pw->pw_dir : NULL;
    }
  }
  else {
    CLEANUP_FREE char *user = strndup (str + 1, len);
    struct passwd *pw = user ? getpwnam (user) : NULL;

    home = pw ? pw->pw_dir : NULL;
  }
  if (home == NULL)
    return str;
  if (asprintf (&ret, "%s%s", home, str + 1 + len) == -1)
    return str;
  return ret;
}

/* A here document: the lines of stdin up to END, in a temporary file. */
static int
heredoc_fd (const char *endmarker, char **tmpfile_rtn)
{
  const char *tmpdir = getenv ("TMPDIR") ? : "/tmp";
  char *template, *line = NULL;
  size_t alloc = 0, mlen = strlen (endmarker);
  ssize_t n;
  int fd, rfd;

  if (asprintf (&template, "%s/guestfishXXXXXX", tmpdir) == -1) {
    perror ("asprintf");
    return -1;
  }
  fd = mkstemp (template);
  if (fd == -1) {
    perror ("mkstemp");
    free (template);
    return -1;
  }
  while ((n = getline (&line, &alloc, stdin)) != -1) {
    if (strncmp (line, endmarker, mlen) == 0 &&
        ((size_t) n == mlen || ((size_t) n == mlen + 1 && line[mlen] == '\n')))
      goto found;
    if (write (fd, line, n) != n) {
      perror ("write");
      goto err;
    }
  }
  fprintf (stderr, "guestfish: end of input reached without finding '%s'\n",
           endmarker);
  goto err;

 found:
  free (line);
  close (fd);
  rfd = open (template, O_RDONLY | O_CLOEXEC);
  if (rfd == -1) {
    perror (template);
    unlink (template);
    free (template);
    return -1;
  }
  *tmpfile_rtn = template;
  return rfd;

 err:
  free (line);
  close (fd);
  unlink (template);
  free (template);
  return -1;
}

int
file_in_fd (const char *arg, int *close_rtn, char **tmpfile_rtn)
{
  int fd;

  *tmpfile_rtn = NULL;
  *close_rtn = 0;
  if (strcmp (arg, "-") == 0)
    return 0;
  if (strncmp (arg, "-<<", 3) == 0) {
    if (arg[3] == '\0') {
      fprintf (stderr, "guestfish: missing end marker in -<< expression\n");
      return -1;
    }
    fd = heredoc_fd (arg + 3, tmpfile_rtn);
  }
  else {
    fd = open (arg, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
      print_error ("open: %s: %m", arg);
  }
  if (fd >= 0)
    *close_rtn = 1;
  return fd;
}

int
file_out_fd (const char *arg, int *close_rtn)
{
  int fd;

  *close_rtn = 0;
  if (strcmp (arg, "-") == 0) {
    fflush (stdout);
    return 1;
  }
  fd = open (arg, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY | O_CLOEXEC, 0666);
  if (fd == -1)
    print_error ("open: %s: %m", arg);
  else
    *close_rtn = 1;
  return fd;
}

void
print_strings (char *const *list)
{
  size_t i;

  for (i = 0; list[i] != NULL; ++i)
    printf ("%s\n", list[i]);
}

void
print_table (char *const *list)
{
  size_t i;

  for (i = 0; list[i] != NULL; i += 2)
    printf ("%s: %s\n", list[i], list[i + 1]);
}

int
result_list (char **r)
{
  if (r == NULL)
    return -1;
  print_strings (r);
  gk_free_string_list (r);
  return 0;
}

int
result_table (char **r)
{
  if (r == NULL)
    return -1;
  print_table (r);
  gk_free_string_list (r);
  return 0;
}

int
result_string (char *r)
{
  if (r == NULL)
    return -1;
  printf ("%s\n", r);
  free (r);
  return 0;
}

int
result_bool (int r)
{
  if (r == -1)
    return -1;
  printf ("%s\n", r ? "true" : "false");
  return 0;
}

int
result_int64 (int64_t r)
{
  if (r == -1)
    return -1;
  printf ("%" PRIi64 "\n", r);
  return 0;
}
