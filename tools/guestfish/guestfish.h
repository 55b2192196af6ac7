/* guestfish: the interactive guest shell (libguestfs's guestfish,
 * compatible).  The shell is a table of commands (cmds.c) plus the
 * parser and the loop (shell.c), the prompt (readline.c) and the remote
 * control (rc.c).  Every command is a libguestkit call: the work is in
 * the library, the commands only convert arguments and print results in
 * the reference's formats.
 */
#ifndef GUESTFISH_H
#define GUESTFISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guestkit.h"

/* The handle and the shell's state (main.c). */
extern gk_h *h;
extern int read_only;            /* --ro: -a, -d, -i, -m add/mount ro */
extern int verbose;
extern int progress_bars;
extern int complete_dest_paths;  /* --no-dest-paths turns it off */
extern int pipe_error;           /* --pipe-error */
extern int is_interactive;       /* no -f and stdin is a terminal */
extern int quit;                 /* quit/exit was run */
extern int command_num;          /* commands issued, from 1 */
extern const char *input_file;   /* "*stdin*" or the -f file (NULL: tty) */
extern int input_lineno;
extern const char *libvirt_uri;  /* -c */
extern int remote_pid;           /* --remote: the server's PID, else 0 */

/* main.c: a fresh handle (reopen), set up as the options said. */
extern gk_h *create_handle (void);
extern int launch (void);
/* Print an error as the handle's error handler does: "libguestfs: error:
 * MSG", after "FILE:LINE: " when not interactive (the reference's shape).
 */
extern void print_error (const char *fs, ...)
  __attribute__ ((format (printf, 1, 2)));

/* A command of the table.  min_args..max_args counts the arguments
 * (max_args -1: any number).  synopsis is NULL for the shell's own
 * commands, as in the reference (no "usage:" line in their errors).  run returns 0, -1 on error (the message
 * was printed), or RUN_WRONG_ARGS.
 */
#define RUN_WRONG_ARGS (-2)
struct command {
  const char *name;              /* with dashes: "mount-ro" */
  const char *aliases;           /* space-separated, or NULL */
  const char *synopsis;          /* "mount-ro mountable mountpoint" */
  const char *shortdesc;
  /* For the shell's own commands (no synopsis): what to print when the
   * number of arguments is wrong (%s: the command as typed).
   */
  const char *usage_error;
  int min_args, max_args;
  int (*run) (const char *cmd, size_t argc, char *argv[]);
};
extern const struct command commands[];
extern const size_t nr_commands;
/* Case-insensitive; '_' matches '-'; aliases too. */
extern const struct command *lookup_command (const char *name);
extern void list_commands (void);
extern int display_command (const char *cmd);

/* shell.c */
extern int issue_command (const char *cmd, char *argv[], const char *pipecmd,
                          int exit_on_error);
extern void script (int prompt);
extern void cmdline (char *argv[], size_t optind, size_t argc);
struct parsed_command {
  int status;                    /* 1: a command; 0: nothing to do; -1 */
  char *cmd;
  char *argv[64];
  char *pipe;
  char *expanded[64];            /* "~" expansions, freed by the caller */
  size_t nr_expanded;
};
extern struct parsed_command parse_command_line (char *buf,
                                                 int *exit_on_error_rtn);
extern void extended_help_message (void);

/* args.c: argument conversions, printing the reference's messages. */
extern int parse_bool (const char *cmd, const char *arg, int *ret);
/* gnulib xstrtoll's status for s (0 = OK), the value in *ret. */
extern int xstrtoll_like (const char *s, int64_t *ret);
extern int parse_int (const char *cmd, const char *name, const char *arg,
                      int64_t min, int64_t max, int64_t *ret);
/* "name:value" optional arguments: names is NULL-terminated; values[i]
 * is set to the value of names[i] (or left NULL).  -1 on error.
 */
extern int parse_optargs (const char *cmd, size_t argc, char *argv[],
                          size_t first, const char *const *names,
                          const char **values);
extern char **parse_string_list (const char *str);
/* "win:C:\path" to a guest path; otherwise a copy of path. */
extern char *win_prefix (const char *path);
/* "~" and "~user" at the start of a local path: a new string, or str
 * itself if there is nothing to expand.
 */
extern char *try_tilde_expansion (char *str);
/* FileIn / FileOut arguments: "-" is stdin / stdout; "-<<END" a here
 * document.  Returns an fd to read (write) and *close_rtn says whether
 * the caller must close it.
 */
extern int file_in_fd (const char *arg, int *close_rtn, char **tmpfile_rtn);
extern int file_out_fd (const char *arg, int *close_rtn);
extern void print_strings (char *const *list);
extern void print_table (char *const *list);
/* A command's result, printed in the reference's format for its type
 * and freed: -1 (the error was printed) if it is the error value, else 0.
 * A list: a line each; a table: "key: value" lines; a string: the string
 * and a newline; a boolean: true or false; an int64: decimal.
 */
extern int result_list (char **r);
extern int result_table (char **r);
extern int result_string (char *r);
extern int result_bool (int r);
extern int result_int64 (int64_t r);

/* readline.c: the prompt, history and completion. */
extern void initialize_readline (void);
extern void cleanup_readline (void);
extern char *rl_gets (int prompt);
extern void add_history_line (const char *line);

/* rc.c: --listen and --remote. */
extern void rc_listen (void) __attribute__ ((noreturn));
extern int rc_remote (int pid, const char *cmd, size_t argc, char *argv[],
                      int exit_on_error);

/* prep.c: -N prepared disks. */
extern void list_prepared_drives (void);
struct prep;
extern struct prep *create_prepared_file (const char *type_string,
                                          const char *filename);
extern int prepare_drive (struct prep *, const char *device);
extern void free_prep (struct prep *);

/* inspect (cmds-inspect.c): -i. */
extern int inspect_mount (void);
extern void print_inspect_prompt (void);

#endif /* GUESTFISH_H */
