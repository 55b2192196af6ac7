/* guestfish: commands on the guest's files and directories.  Each one
 * converts its arguments, makes one libguestkit call and prints the
 * result in the reference's format for that return type (a list: one
 * line each; a string: the string and a newline; a boolean: true or
 * false; a struct: "field: value" lines).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <inttypes.h>
#include <fnmatch.h>

#include "guestfish.h"
#include "cleanups.h"
#include "cmds.h"

/* Guest path arguments go through win_prefix ("win:..."). */
#define PATH_ARG(var, arg)                              \
  CLEANUP_FREE char *var = win_prefix (arg);            \
  if (var == NULL) return -1

int
run_ls (const char *cmd, size_t argc, char *argv[])
{
  PATH_ARG (dir, argv[0]);
  return result_list (gk_ls (h, dir));
}

int
run_ll (const char *cmd, size_t argc, char *argv[])
{
  PATH_ARG (dir, argv[0]);
  return result_string (gk_ll (h, dir));
}

int
run_cat (const char *cmd, size_t argc, char *argv[])
{
  size_t size;
  PATH_ARG (path, argv[0]);
  /* cat returns a C string: output stops at the first NUL. */
  return result_string (gk_read_file (h, path, &size));
}

int
run_read_file (const char *cmd, size_t argc, char *argv[])
{
  size_t size;
  CLEANUP_FREE char *r = NULL;
  PATH_ARG (path, argv[0]);

  r = gk_read_file (h, path, &size);
  if (r == NULL)
    return -1;
  fflush (stdout);
  if (write (1, r, size) != (ssize_t) size) {
    perror ("write");
    return -1;
  }
  return 0;
}

/* head, head-n, tail, tail-n. */
int
run_head_tail (const char *cmd, size_t argc, char *argv[])
{
  bool tail = strncasecmp (cmd, "tail", 4) == 0;
  int64_t n = 10;
  size_t i = 0;

  if (argc == 2) {
    if (parse_int (cmd, "nrlines", argv[0], -(2LL << 30), (2LL << 30) - 1,
                   &n) == -1)
      return -1;
    i = 1;
  }
  PATH_ARG (path, argv[i]);
  return result_list (tail ? gk_tail (h, path, n)
                                 : gk_head (h, path, n));
}

/* write, write-append. */
int
run_write (const char *cmd, size_t argc, char *argv[])
{
  unsigned flags = strcasecmp (cmd, "write") == 0 ? 0 : GK_WRITE_APPEND;
  PATH_ARG (path, argv[0]);
  return gk_write (h, path, argv[1], strlen (argv[1]), flags);
}

int
run_touch (const char *cmd, size_t argc, char *argv[])
{
  PATH_ARG (path, argv[0]);
  return gk_touch (h, path);
}

/* mkdir, mkdir-p. */
int
run_mkdir (const char *cmd, size_t argc, char *argv[])
{
  unsigned flags = strcasecmp (cmd, "mkdir") == 0 ? 0 : GK_MKDIR_PARENTS;
  PATH_ARG (path, argv[0]);
  return gk_mkdir (h, path, flags);
}

/* rm, rm-f, rm-rf. */
int
run_rm (const char *cmd, size_t argc, char *argv[])
{
  unsigned flags = 0;
  PATH_ARG (path, argv[0]);

  if (strcasecmp (cmd, "rm-rf") == 0 || strcasecmp (cmd, "rm_rf") == 0)
    flags = GK_RM_RECURSIVE | GK_RM_FORCE;
  else if (strcasecmp (cmd, "rm-f") == 0 || strcasecmp (cmd, "rm_f") == 0)
    flags = GK_RM_FORCE;
  return gk_rm (h, path, flags);
}

int
run_rmdir (const char *cmd, size_t argc, char *argv[])
{
  PATH_ARG (path, argv[0]);
  return gk_rmdir (h, path);
}

/* cp, cp-a, mv. */
int
run_cp_mv (const char *cmd, size_t argc, char *argv[])
{
  PATH_ARG (src, argv[0]);
  PATH_ARG (dest, argv[1]);

  if (strcasecmp (cmd, "mv") == 0)
    return gk_mv (h, src, dest);
  return gk_cp (h, src, dest,
                strcasecmp (cmd, "cp") == 0 ? 0 : GK_CP_ARCHIVE);
}

int
run_ln_s (const char *cmd, size_t argc, char *argv[])
{
  PATH_ARG (linkname, argv[1]);
  /* The target is a plain string: it is stored as given. */
  return gk_ln_s (h, argv[0], linkname);
}

int
run_readlink (const char *cmd, size_t argc, char *argv[])
{
  PATH_ARG (path, argv[0]);
  return result_string (gk_readlink (h, path));
}

int
run_chmod (const char *cmd, size_t argc, char *argv[])
{
  int64_t mode;

  if (parse_int (cmd, "mode", argv[0], -(2LL << 30), (2LL << 30) - 1,
                 &mode) == -1)
    return -1;
  PATH_ARG (path, argv[1]);
  return gk_chmod (h, mode, path);
}

int
run_chown (const char *cmd, size_t argc, char *argv[])
{
  int64_t owner, group;

  if (parse_int (cmd, "owner", argv[0], -(2LL << 30), (2LL << 30) - 1,
                 &owner) == -1 ||
      parse_int (cmd, "group", argv[1], -(2LL << 30), (2LL << 30) - 1,
                 &group) == -1)
    return -1;
  PATH_ARG (path, argv[2]);
  return gk_chown (h, owner, group, path);
}

/* stat, lstat: struct guestfs_stat's fields, in its order. */
int
run_stat (const char *cmd, size_t argc, char *argv[])
{
  struct gk_stat st;
  unsigned flags = strcasecmp (cmd, "lstat") == 0 ? GK_STAT_NOFOLLOW : 0;
  PATH_ARG (path, argv[0]);

  if (gk_stat (h, path, &st, flags) == -1)
    return -1;
  printf ("dev: %" PRIi64 "\n" "ino: %" PRIi64 "\n" "mode: %" PRIi64 "\n"
          "nlink: %" PRIi64 "\n" "uid: %" PRIi64 "\n" "gid: %" PRIi64 "\n"
          "rdev: %" PRIi64 "\n" "size: %" PRIi64 "\n"
          "blksize: %" PRIi64 "\n" "blocks: %" PRIi64 "\n"
          "atime: %" PRIi64 "\n" "mtime: %" PRIi64 "\n"
          "ctime: %" PRIi64 "\n",
          st.dev, st.ino, st.mode, st.nlink, st.uid, st.gid, st.rdev,
          st.size, st.blksize, st.blocks, st.atime, st.mtime, st.ctime);
  return 0;
}

/* is-file, is-dir [followsymlinks:true|false]. */
int
run_is_file_dir (const char *cmd, size_t argc, char *argv[])
{
  static const char *const names[] = { "followsymlinks", NULL };
  const char *values[1] = { NULL };
  unsigned flags = 0;
  int follow;
  PATH_ARG (path, argv[0]);

  if (parse_optargs (cmd, argc, argv, 1, names, values) == -1)
    return -1;
  if (values[0]) {
    if (parse_bool (cmd, values[0], &follow) == -1)
      return -1;
    if (follow)
      flags |= GK_FOLLOW_SYMLINKS;
  }
  if (strcasecmp (cmd, "is-dir") == 0 || strcasecmp (cmd, "is_dir") == 0)
    return result_bool (gk_is_dir (h, path, flags));
  return result_bool (gk_is_file (h, path, flags));
}

int
run_exists (const char *cmd, size_t argc, char *argv[])
{
  PATH_ARG (path, argv[0]);
  return result_bool (gk_exists (h, path));
}

int
run_file (const char *cmd, size_t argc, char *argv[])
{
  PATH_ARG (path, argv[0]);
  return result_string (gk_file (h, path));
}

int
run_filesize (const char *cmd, size_t argc, char *argv[])
{
  PATH_ARG (path, argv[0]);
  return result_int64 (gk_filesize (h, path));
}

int
run_du (const char *cmd, size_t argc, char *argv[])
{
  PATH_ARG (path, argv[0]);
  return result_int64 (gk_du (h, path));
}

int
run_find (const char *cmd, size_t argc, char *argv[])
{
  PATH_ARG (dir, argv[0]);
  return result_list (gk_find (h, dir));
}

int
run_checksum (const char *cmd, size_t argc, char *argv[])
{
  PATH_ARG (path, argv[1]);
  return result_string (gk_checksum (h, argv[0], path));
}

int
run_upload (const char *cmd, size_t argc, char *argv[])
{
  CLEANUP_FREE char *tmpfile = NULL;
  int fd, must_close, r;
  PATH_ARG (path, argv[1]);

  fd = file_in_fd (argv[0], &must_close, &tmpfile);
  if (fd == -1)
    return -1;
  r = gk_upload (h, fd, path);
  if (must_close)
    close (fd);
  if (tmpfile)
    unlink (tmpfile);
  return r;
}

int
run_download (const char *cmd, size_t argc, char *argv[])
{
  int fd, must_close, r;
  PATH_ARG (path, argv[0]);

  fd = file_out_fd (argv[1], &must_close);
  if (fd == -1)
    return -1;
  r = gk_download (h, path, fd);
  if (must_close && close (fd) == -1 && r == 0) {
    perror (argv[1]);
    r = -1;
  }
  return r;
}

/* tar-in (file|-) dir [compress:..] [xattrs:..] [selinux:..] [acls:..] */
int
run_tar_in (const char *cmd, size_t argc, char *argv[])
{
  static const char *const names[] = {
    "compress", "xattrs", "selinux", "acls", NULL
  };
  const char *values[4] = { NULL };
  static const unsigned bits[] = { 0, GK_TAR_XATTRS, GK_TAR_SELINUX,
                                   GK_TAR_ACLS };
  CLEANUP_FREE char *tmpfile = NULL;
  unsigned flags = 0;
  int fd, must_close, r, b;
  size_t i;
  PATH_ARG (dir, argv[1]);

  if (parse_optargs (cmd, argc, argv, 2, names, values) == -1)
    return -1;
  for (i = 1; i < 4; ++i)
    if (values[i]) {
      if (parse_bool (cmd, values[i], &b) == -1)
        return -1;
      if (b)
        flags |= bits[i];
    }
  fd = file_in_fd (argv[0], &must_close, &tmpfile);
  if (fd == -1)
    return -1;
  r = gk_tar_in (h, fd, dir, values[0], flags);
  if (must_close)
    close (fd);
  if (tmpfile)
    unlink (tmpfile);
  return r;
}

/* tar-out dir (file|-) [compress:..] [numericowner:..] [excludes:..]
 * [xattrs:..] [selinux:..] [acls:..]
 */
int
run_tar_out (const char *cmd, size_t argc, char *argv[])
{
  static const char *const names[] = {
    "compress", "numericowner", "excludes", "xattrs", "selinux", "acls", NULL
  };
  static const unsigned bits[] = { 0, GK_TAR_NUMERICOWNER, 0, GK_TAR_XATTRS,
                                   GK_TAR_SELINUX, GK_TAR_ACLS };
  const char *values[6] = { NULL };
  CLEANUP_FREE_STRING_LIST char **excludes = NULL;
  unsigned flags = 0;
  int fd, must_close, r, b;
  size_t i;
  PATH_ARG (dir, argv[0]);

  if (parse_optargs (cmd, argc, argv, 2, names, values) == -1)
    return -1;
  for (i = 1; i < 6; ++i)
    if (values[i] && i != 2) {
      if (parse_bool (cmd, values[i], &b) == -1)
        return -1;
      if (b)
        flags |= bits[i];
    }
  if (values[2] && (excludes = parse_string_list (values[2])) == NULL)
    return -1;
  fd = file_out_fd (argv[1], &must_close);
  if (fd == -1)
    return -1;
  r = gk_tar_out (h, dir, fd, values[0], (const char *const *) excludes,
                  flags);
  if (must_close && close (fd) == -1 && r == 0) {
    perror (argv[1]);
    r = -1;
  }
  return r;
}

/* The devices, partitions and LVs matching a /dev/ pattern (fnmatch),
 * or the pattern itself if none do.
 */
static char **
expand_devices (const char *pattern)
{
  char **(*lists[]) (gk_h *) = { gk_list_devices, gk_list_partitions, gk_lvs };
  char **ret = calloc (1, sizeof *ret);
  size_t n = 0, i, j;

  if (ret == NULL) {
    perror ("calloc");
    return NULL;
  }
  for (i = 0; i < sizeof lists / sizeof lists[0]; ++i) {
    CLEANUP_FREE_STRING_LIST char **pp = lists[i] (h);

    if (pp == NULL) {
      gk_free_string_list (ret);
      return NULL;
    }
    for (j = 0; pp[j]; ++j) {
      char **r;

      if (fnmatch (pattern, pp[j], FNM_PATHNAME) != 0)
        continue;
      r = realloc (ret, (n + 2) * sizeof *ret);
      if (r == NULL || (r[n] = strdup (pp[j])) == NULL) {
        perror ("realloc");
        gk_free_string_list (r ? r : ret);
        return NULL;
      }
      ret = r;
      ret[++n] = NULL;
    }
  }
  if (n == 0) {
    ret = realloc (ret, 2 * sizeof *ret);
    if (ret == NULL || (ret[0] = strdup (pattern)) == NULL) {
      perror ("strdup");
      free (ret);
      return NULL;
    }
    ret[1] = NULL;
  }
  return ret;
}

/* glob CMD ARGS...: run CMD once for each combination (the last argument
 * varying fastest) of what the arguments expand to: guest paths through
 * the guest's glob (a directory gets a '/'), /dev/ patterns against the
 * devices, partitions and LVs.  An argument that matches nothing, or is
 * not a path, stands for itself.  A failing run does not stop the
 * others, but glob then fails.
 */
static int
glob_issue (char *cmd, size_t argc, char ***globs, size_t *posn, char **argv,
            size_t i)
{
  size_t j;
  int r = 0;

  if (i == argc) {
    for (j = 0; j < argc; ++j)
      argv[j] = globs[j][posn[j]];
    argv[argc] = NULL;
    return issue_command (cmd, argv, NULL, 0);
  }
  for (posn[i] = 0; globs[i][posn[i]] != NULL; posn[i]++)
    if (glob_issue (cmd, argc, globs, posn, argv, i + 1) == -1)
      r = -1;
  return r;
}

int
run_glob (const char *cmd, size_t argc, char *argv[])
{
  size_t n = argc - 1, i;
  char ***globs = calloc (n + 1, sizeof *globs);
  size_t *posn = calloc (n + 1, sizeof *posn);
  char **newargv = calloc (n + 1, sizeof *newargv);
  int r = -1;

  if (globs == NULL || posn == NULL || newargv == NULL) {
    perror ("calloc");
    goto out;
  }
  for (i = 0; i < n; ++i) {
    const char *arg = argv[i + 1];
    char **pp = NULL;

    if (strncmp (arg, "/dev/", 5) == 0) {
      if ((pp = expand_devices (arg)) == NULL)
        goto out;
    }
    else if (arg[0] == '/') {
      pp = gk_glob_expand (h, arg);
      if (pp == NULL) {
        fprintf (stderr, "glob: guestfs_glob_expand call failed: %s\n", arg);
        goto out;
      }
      if (pp[0] == NULL) {
        gk_free_string_list (pp);
        pp = NULL;
      }
    }
    if (pp == NULL) {
      pp = calloc (2, sizeof *pp);
      if (pp == NULL || (pp[0] = strdup (arg)) == NULL) {
        perror ("strdup");
        free (pp);
        goto out;
      }
    }
    globs[i] = pp;
  }
  r = glob_issue (argv[0], n, globs, posn, newargv, 0);

 out:
  if (globs)
    for (i = 0; i < n; ++i)
      gk_free_string_list (globs[i]);
  free (globs);
  free (posn);
  free (newargv);
  return r;
}
