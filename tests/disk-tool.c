/* Test helper: block-level disks (gk_disk) on the command line, through
 * the public API only.
 *
 *   disk-tool [--rw] SOURCE COMMAND [ARGS] [+ COMMAND [ARGS]]...
 *
 * SOURCE is --vol POOL/VOLUME (gk_disk_open_volume; pools from
 * GUESTKIT_STATE_DIR) or -a FILE|URI [--format FORMAT] (gk_disk_open).
 * The commands, separated by "+", run in order on the one open disk (so
 * that a test can create a checkpoint, change the storage meanwhile with
 * "sh", and read again):
 *
 *   size                         the size in bytes
 *   extents [OFF LEN]            "OFFSET LENGTH data|zero|hole" lines
 *   changed SNAP [OFF LEN]       "OFFSET LENGTH" of each changed range
 *   cat [--since SNAP]           the disk on stdout (gk_disk_read_extents):
 *                                zeros for holes, or nothing (a sparse
 *                                file) if stdout is a regular file; with
 *                                --since only the changed ranges, written
 *                                at their offsets into stdout, which must
 *                                be a regular file (1<>FILE)
 *   read OFF LEN                 gk_disk_pread to stdout
 *   write OFF                    stdin, gk_disk_pwrite at OFF (--rw)
 *   zero OFF LEN                 gk_disk_zero (--rw)
 *   flush                        gk_disk_flush (--rw)
 *   snap-create NAME             gk_disk_checkpoint_create
 *   snap-delete NAME             gk_disk_checkpoint_delete
 *   snap-list                    gk_disk_checkpoint_list, one per line
 *   sh COMMAND                   run COMMAND with /bin/sh
 *
 * Errors go to stderr, one line each (the handle's default handler);
 * the exit status is 1 on the first failed command.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <errno.h>
#include <inttypes.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "guestkit.h"

static const char *prog = "disk-tool";

static void
usage (void)
{
  fprintf (stderr, "usage: %s [--rw] --vol POOL/VOLUME | -a FILE "
           "[--format FORMAT] COMMAND [ARGS] [+ COMMAND [ARGS]]...\n", prog);
  exit (EXIT_FAILURE);
}

static uint64_t
number (const char *s)
{
  char *end;
  unsigned long long n;

  errno = 0;
  n = strtoull (s, &end, 0);
  if (errno || end == s || *end || *s == '-') {
    fprintf (stderr, "%s: not a number: %s\n", prog, s);
    exit (EXIT_FAILURE);
  }
  return n;
}

static int
write_all (int fd, const void *buf, size_t len, bool at, uint64_t off)
{
  const char *p = buf;

  while (len > 0) {
    ssize_t n = at ? pwrite (fd, p, len, off) : write (fd, p, len);

    if (n == -1) {
      if (errno == EINTR)
        continue;
      fprintf (stderr, "%s: write: %s\n", prog, strerror (errno));
      return -1;
    }
    p += n;
    len -= n;
    off += n;
  }
  return 0;
}

static const char *
type_name (unsigned type)
{
  switch (type) {
  case GK_EXTENT_DATA: return "data";
  case GK_EXTENT_ZERO: return "zero";
  case GK_EXTENT_HOLE: return "hole";
  default: return "?";
  }
}

static int
print_extent (void *opaque, uint64_t offset, uint64_t length, unsigned type)
{
  bool with_type = opaque != NULL;

  if (with_type)
    printf ("%" PRIu64 " %" PRIu64 " %s\n", offset, length,
            type_name (type));
  else
    printf ("%" PRIu64 " %" PRIu64 "\n", offset, length);
  return 0;
}

/* cat: to stdout, in order (a pipe) or at the offsets (a regular file). */
struct cat {
  bool seekable;
  bool since;
};

static int
cat_cb (void *opaque, uint64_t offset, uint64_t length, unsigned type,
        const void *data)
{
  static const char zeros[65536];
  struct cat *c = opaque;

  if (data)
    return write_all (STDOUT_FILENO, data, length, c->seekable, offset);
  /* Holes and zeros: nothing in a file, which the final size extends. */
  if (c->seekable)
    return 0;
  while (length > 0) {
    size_t n = length < sizeof zeros ? length : sizeof zeros;

    if (write_all (STDOUT_FILENO, zeros, n, false, 0) == -1)
      return -1;
    length -= n;
  }
  return 0;
}

static int
do_cat (gk_disk *d, const char *since)
{
  struct cat c = { .since = since != NULL };
  struct stat sb;
  uint64_t size = gk_disk_get_size (d);

  fflush (stdout);
  c.seekable = fstat (STDOUT_FILENO, &sb) == 0 && S_ISREG (sb.st_mode);
  if (since && !c.seekable) {
    fprintf (stderr, "%s: cat --since: stdout must be a regular file\n",
             prog);
    return -1;
  }
  /* A file written from the start: its old content is not the disk's. */
  if (c.seekable && !since && ftruncate (STDOUT_FILENO, 0) == -1) {
    fprintf (stderr, "%s: truncate: %s\n", prog, strerror (errno));
    return -1;
  }
  if (gk_disk_read_extents (d, 0, size, since, cat_cb, &c) != 0)
    return -1;
  if (c.seekable && !since && ftruncate (STDOUT_FILENO, size) == -1) {
    fprintf (stderr, "%s: truncate: %s\n", prog, strerror (errno));
    return -1;
  }
  return 0;
}

static int
do_read (gk_disk *d, uint64_t off, uint64_t len)
{
  char *buf = malloc (len ? len : 1);
  int r = -1;

  if (buf == NULL) {
    perror ("malloc");
    return -1;
  }
  fflush (stdout);
  if (gk_disk_pread (d, buf, len, off) == 0 &&
      write_all (STDOUT_FILENO, buf, len, false, 0) == 0)
    r = 0;
  free (buf);
  return r;
}

static int
do_write (gk_disk *d, uint64_t off)
{
  char *buf = NULL;
  size_t len = 0, cap = 0;
  ssize_t n;
  int r;

  for (;;) {
    if (len == cap) {
      char *nb = realloc (buf, cap = cap ? cap * 2 : 65536);

      if (nb == NULL) {
        perror ("realloc");
        free (buf);
        return -1;
      }
      buf = nb;
    }
    n = read (STDIN_FILENO, buf + len, cap - len);
    if (n == -1 && errno == EINTR)
      continue;
    if (n == -1) {
      fprintf (stderr, "%s: read: %s\n", prog, strerror (errno));
      free (buf);
      return -1;
    }
    if (n == 0)
      break;
    len += n;
  }
  r = gk_disk_pwrite (d, buf, len, off);
  free (buf);
  return r;
}

static int
do_list (gk_disk *d)
{
  char **names = gk_disk_checkpoint_list (d);
  size_t i;

  if (names == NULL)
    return -1;
  for (i = 0; names[i]; ++i)
    printf ("%s\n", names[i]);
  gk_free_string_list (names);
  return 0;
}

/* One command: argv[0..argc-1].  0 or -1. */
static int
run (gk_disk *d, int argc, char **argv)
{
  const char *cmd = argv[0];
  uint64_t size = gk_disk_get_size (d);
  int r;

#define NARGS(n) if (argc != (n) + 1) goto bad
  if (strcmp (cmd, "size") == 0) {
    NARGS (0);
    printf ("%" PRIu64 "\n", size);
    r = 0;
  }
  else if (strcmp (cmd, "extents") == 0) {
    if (argc != 1 && argc != 3)
      goto bad;
    r = gk_disk_extents (d, argc == 3 ? number (argv[1]) : 0,
                         argc == 3 ? number (argv[2]) : size, print_extent,
                         (void *) "typed");
  }
  else if (strcmp (cmd, "changed") == 0) {
    if (argc != 2 && argc != 4)
      goto bad;
    r = gk_disk_changed_extents (d, argv[1], argc == 4 ? number (argv[2]) : 0,
                                 argc == 4 ? number (argv[3]) : size,
                                 print_extent, NULL);
  }
  else if (strcmp (cmd, "cat") == 0) {
    if (argc == 3 && strcmp (argv[1], "--since") == 0)
      r = do_cat (d, argv[2]);
    else {
      NARGS (0);
      r = do_cat (d, NULL);
    }
  }
  else if (strcmp (cmd, "read") == 0) {
    NARGS (2);
    r = do_read (d, number (argv[1]), number (argv[2]));
  }
  else if (strcmp (cmd, "write") == 0) {
    NARGS (1);
    r = do_write (d, number (argv[1]));
  }
  else if (strcmp (cmd, "zero") == 0) {
    NARGS (2);
    r = gk_disk_zero (d, number (argv[1]), number (argv[2]));
  }
  else if (strcmp (cmd, "flush") == 0) {
    NARGS (0);
    r = gk_disk_flush (d);
  }
  else if (strcmp (cmd, "snap-create") == 0) {
    NARGS (1);
    r = gk_disk_checkpoint_create (d, argv[1]);
  }
  else if (strcmp (cmd, "snap-delete") == 0) {
    NARGS (1);
    r = gk_disk_checkpoint_delete (d, argv[1]);
  }
  else if (strcmp (cmd, "snap-list") == 0) {
    NARGS (0);
    r = do_list (d);
  }
  else if (strcmp (cmd, "sh") == 0) {
    NARGS (1);
    fflush (stdout);
    r = system (argv[1]);
    if (r != 0)
      fprintf (stderr, "%s: sh: %s: exit status %d\n", prog, argv[1],
               WIFEXITED (r) ? WEXITSTATUS (r) : -1);
  }
  else {
    fprintf (stderr, "%s: unknown command ‘%s’\n", prog, cmd);
    return -1;
  }
#undef NARGS
  fflush (stdout);
  return r == 0 ? 0 : -1;

 bad:
  fprintf (stderr, "%s: %s: wrong number of arguments\n", prog, cmd);
  return -1;
}

int
main (int argc, char *argv[])
{
  const char *vol = NULL, *file = NULL, *format = NULL;
  unsigned flags = 0;
  gk_h *h;
  gk_disk *d;
  int i, start, ret = EXIT_SUCCESS;

  for (i = 1; i < argc && argv[i][0] == '-'; ++i) {
    if (strcmp (argv[i], "--rw") == 0)
      flags |= GK_DISK_READWRITE;
    else if (strcmp (argv[i], "--vol") == 0 && i + 1 < argc)
      vol = argv[++i];
    else if (strcmp (argv[i], "-a") == 0 && i + 1 < argc)
      file = argv[++i];
    else if (strcmp (argv[i], "--format") == 0 && i + 1 < argc)
      format = argv[++i];
    else
      usage ();
  }
  if ((vol == NULL) == (file == NULL) || (format && !file) || i >= argc)
    usage ();

  h = gk_create ();
  if (h == NULL) {
    fprintf (stderr, "%s: gk_create: %s\n", prog, gk_last_error (NULL));
    exit (EXIT_FAILURE);
  }
  if (vol) {
    const char *slash = strchr (vol, '/');
    char *pool;

    if (slash == NULL || slash == vol || slash[1] == '\0')
      usage ();
    pool = strndup (vol, slash - vol);
    if (pool == NULL) {
      perror ("strndup");
      exit (EXIT_FAILURE);
    }
    d = gk_disk_open_volume (h, pool, slash + 1, flags);
    free (pool);
  }
  else
    d = gk_disk_open (h, file, format, flags);
  if (d == NULL) {
    gk_close (h);
    exit (EXIT_FAILURE);
  }

  /* The commands, split at each "+". */
  for (start = i; start < argc; start = i + 1) {
    for (i = start; i < argc && strcmp (argv[i], "+") != 0; ++i)
      ;
    if (i == start)
      usage ();
    if (run (d, i - start, &argv[start]) == -1) {
      ret = EXIT_FAILURE;
      break;
    }
  }

  gk_disk_close (d);
  gk_close (h);
  exit (ret);
}
