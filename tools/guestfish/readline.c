/* guestfish: the interactive prompt (GNU readline), its history in
 * ~/.guestfish and tab completion: command names on the first word;
 * after it, guest devices (short words or /dev/...) and guest paths
 * (a directory gets a trailing '/'), unless --no-dest-paths.  Local file
 * names are never completed, as in the reference.  Completion asks the
 * appliance with errors silenced, so before "run" nothing is offered.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <fcntl.h>

#include <readline/readline.h>
#include <readline/history.h>

#include "guestfish.h"
#include "cleanups.h"

#define PROMPT "><fs> "
#define HISTORY_LINES 500

static char histfile[1024];
static int nr_history_lines;
static char *line_read;

/* The words completion offers, collected once per completion. */
static char **words;
static size_t nr_words, next_word;

static void
free_words (void)
{
  size_t i;

  for (i = 0; i < nr_words; ++i)
    free (words[i]);
  free (words);
  words = NULL;
  nr_words = next_word = 0;
}

static void
add_word (const char *w, const char *suffix)
{
  char **nw = realloc (words, (nr_words + 1) * sizeof *words);

  if (nw == NULL)
    return;
  words = nw;
  if (asprintf (&words[nr_words], "%s%s", w, suffix) != -1)
    nr_words++;
}

static void
add_list (char **list)
{
  size_t i;

  if (list == NULL)
    return;
  for (i = 0; list[i]; ++i)
    add_word (list[i], "");
  gk_free_string_list (list);
}

static void
collect_commands (void)
{
  size_t i;

  add_word ("help", "");
  add_word ("quit", "");
  add_word ("exit", "");
  add_word ("q", "");
  for (i = 0; i < nr_commands; ++i) {
    const char *p = commands[i].aliases;

    add_word (commands[i].name, "");
    while (p && *p) {
      size_t len = strcspn (p, " ");
      CLEANUP_FREE char *a = strndup (p, len);

      if (a)
        add_word (a, "");
      p += len;
      p += strspn (p, " ");
    }
  }
}

/* Devices and paths in the guest.  Errors (no appliance yet, no such
 * directory) only mean nothing to offer.
 */
static void
collect_dest_paths (const char *text)
{
  if (h == NULL || !gk_is_launched (h))
    return;
  gk_push_error_handler (h, NULL, NULL);
  if (strlen (text) < 5 || strncmp (text, "/dev/", 5) == 0) {
    add_list (gk_list_devices (h));
    add_list (gk_list_partitions (h));
    add_list (gk_lvs (h));
  }
  if (text[0] == '\0' || text[0] == '/') {
    CLEANUP_FREE char *dir = strdup (text[0] ? text : "/");
    char *slash;
    char **names;
    size_t i;

    if (dir && (slash = strrchr (dir, '/')) != NULL) {
      slash[1] = '\0';
      names = gk_ls (h, dir);
      for (i = 0; names && names[i]; ++i) {
        CLEANUP_FREE char *path = NULL;

        if (asprintf (&path, "%s%s", dir, names[i]) == -1)
          continue;
        add_word (path, gk_is_dir (h, path, GK_FOLLOW_SYMLINKS) == 1
                  ? "/" : "");
      }
      gk_free_string_list (names);
    }
  }
  gk_pop_error_handler (h);
}

static char *
generator (const char *text, int state)
{
  size_t len = strlen (text);

  while (next_word < nr_words) {
    const char *w = words[next_word++];

    if (strncasecmp (w, text, len) == 0)
      return strdup (w);
  }
  return NULL;
}

static char **
do_completion (const char *text, int start, int end)
{
  char **matches;

  free_words ();
  if (start == 0)
    collect_commands ();
  else if (complete_dest_paths)
    collect_dest_paths (text);
  /* A directory must not get a space after it: more may follow. */
  rl_completion_append_character =
    nr_words == 1 && words[0][strlen (words[0]) - 1] == '/' ? '\0' : ' ';
  matches = rl_completion_matches (text, generator);
  if (matches && matches[1] == NULL && matches[0] &&
      matches[0][strlen (matches[0]) - 1] == '/')
    rl_completion_append_character = '\0';
  /* Never fall back to local file names. */
  rl_attempted_completion_over = 1;
  return matches;
}

void
initialize_readline (void)
{
  const char *home = getenv ("HOME");

  rl_readline_name = "guestfish";
  rl_attempted_completion_function = do_completion;
  /* Guest paths contain no quoting, and '=' or ':' are ordinary. */
  rl_completer_word_break_characters = (char *) " \t\n\"'";
  using_history ();
  if (home) {
    snprintf (histfile, sizeof histfile, "%s/.guestfish", home);
    read_history (histfile);
  }
}

void
cleanup_readline (void)
{
  if (histfile[0] && nr_history_lines > 0) {
    int fd = open (histfile, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

    /* Append what this session added, then trim the file. */
    if (fd >= 0) {
      close (fd);
      append_history (nr_history_lines, histfile);
      history_truncate_file (histfile, HISTORY_LINES);
    }
  }
  free_words ();
}

void
add_history_line (const char *line)
{
  add_history (line);
  nr_history_lines++;
}

char *
rl_gets (int prompt)
{
  static char buf[8192];
  size_t len;

  if (prompt) {
    free (line_read);
    line_read = readline (PROMPT);
    if (line_read && *line_read)
      add_history_line (line_read);
    return line_read;
  }
  if (fgets (buf, sizeof buf, stdin) == NULL)
    return NULL;
  len = strlen (buf);
  if (len > 0 && buf[len - 1] == '\n')
    buf[len - 1] = '\0';
  return buf;
}
