/* Test helper: gk_disk_open_domain as a backup tool uses it.
 *
 *   disk-domain-tool DOMAIN [--uri URI] [--since X] [--checkpoint Y]
 *                    [--quiesce] [--cat-dir DIR] [--wait]
 *                    [--list-checkpoints] [--delete-checkpoint Z]
 *
 * Opens every disk of the domain and prints "disk NAME SIZE FORMAT
 * SOURCE" for each.  --wait then prints "ready" and waits for a line (or
 * end of file) on stdin: the test changes the guest meanwhile.  Then,
 * for each disk: --checkpoint creates checkpoint Y; --cat-dir writes the
 * disk's contents read with gk_disk_read_extents to DIR/NAME (a sparse
 * file of the disk's size; with --since only the changed ranges are
 * written) and each extent reported to DIR/NAME.map ("OFFSET LENGTH
 * TYPE", TYPE data, zero or hole); a disk that tracks no changes
 * (ENOTSUP) is read whole, and says so.  --list-checkpoints prints
 * "checkpoints NAME: A B ...", --delete-checkpoint deletes one.  Then the
 * disks are closed.
 * Exit status: 0; 1 if the domain could not be opened or a read failed;
 * 2 if only checkpoint calls failed (each error is printed as
 * "disk-domain-tool: NAME: ERROR (errno NAME)").
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <getopt.h>
#include <inttypes.h>

#include "guestkit.h"

static const char *prog = "disk-domain-tool";

struct cat {
  int fd;
  FILE *map;
};

static int
cat_cb (void *opaque, uint64_t offset, uint64_t length, unsigned type,
        const void *data)
{
  struct cat *c = opaque;
  const char *types[] = { "data", "zero", "hole" };

  fprintf (c->map, "%" PRIu64 " %" PRIu64 " %s\n", offset, length,
           type <= GK_EXTENT_HOLE ? types[type] : "?");
  if (data && pwrite (c->fd, data, length, offset) != (ssize_t) length) {
    perror ("pwrite");
    return -1;
  }
  return 0;
}

static const char *
errno_name (int e)
{
  switch (e) {
  case 0: return "0";
  case ENOTSUP: return "ENOTSUP";
  case EINVAL: return "EINVAL";
  case ENOENT: return "ENOENT";
  case EBUSY: return "EBUSY";
  case EEXIST: return "EEXIST";
  default: return strerror (e);
  }
}

static void
report (gk_h *h, const char *what)
{
  fprintf (stderr, "%s: %s: %s (errno %s)\n", prog, what, gk_last_error (h),
           errno_name (gk_last_errno (h)));
}

/* Read the disk into DIR/NAME and DIR/NAME.map. */
static int
cat_disk (gk_h *h, gk_disk *d, const char *dir, const char *since)
{
  char path[4096], mappath[4096 + 8];
  struct cat c;
  int r;

  snprintf (path, sizeof path, "%s/%s", dir, gk_disk_get_name (d));
  snprintf (mappath, sizeof mappath, "%s.map", path);
  c.fd = open (path, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644);
  c.map = fopen (mappath, "w");
  if (c.fd == -1 || c.map == NULL ||
      ftruncate (c.fd, gk_disk_get_size (d)) == -1) {
    perror (path);
    exit (EXIT_FAILURE);
  }
  r = gk_disk_read_extents (d, 0, gk_disk_get_size (d), since, cat_cb, &c);
  if (r == -1 && since && gk_last_errno (h) == ENOTSUP) {
    printf ("%s: no changes tracked (%s): reading all\n",
            gk_disk_get_name (d), gk_last_error (h));
    rewind (c.map);
    if (ftruncate (fileno (c.map), 0) == -1) {
      perror (mappath);
      exit (EXIT_FAILURE);
    }
    r = gk_disk_read_extents (d, 0, gk_disk_get_size (d), NULL, cat_cb, &c);
  }
  if (r == -1)
    report (h, gk_disk_get_name (d));
  if (close (c.fd) == -1 || fclose (c.map) == EOF) {
    perror (path);
    exit (EXIT_FAILURE);
  }
  return r;
}

int
main (int argc, char *argv[])
{
  enum { OPT_URI = 256, OPT_SINCE, OPT_CHECKPOINT, OPT_QUIESCE, OPT_CAT,
         OPT_WAIT, OPT_LIST, OPT_DELETE };
  static const struct option long_options[] = {
    { "uri", required_argument, NULL, OPT_URI },
    { "since", required_argument, NULL, OPT_SINCE },
    { "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
    { "quiesce", no_argument, NULL, OPT_QUIESCE },
    { "cat-dir", required_argument, NULL, OPT_CAT },
    { "wait", no_argument, NULL, OPT_WAIT },
    { "list-checkpoints", no_argument, NULL, OPT_LIST },
    { "delete-checkpoint", required_argument, NULL, OPT_DELETE },
    { NULL, 0, NULL, 0 }
  };
  const char *uri = NULL, *since = NULL, *checkpoint = NULL, *dir = NULL;
  const char *delete = NULL;
  bool wait = false, list = false;
  unsigned flags = 0;
  gk_h *h;
  gk_disk **disks;
  size_t n, i, j;
  int c, status = EXIT_SUCCESS;

  while ((c = getopt_long (argc, argv, "", long_options, NULL)) != -1) {
    switch (c) {
    case OPT_URI: uri = optarg; break;
    case OPT_SINCE: since = optarg; break;
    case OPT_CHECKPOINT: checkpoint = optarg; break;
    case OPT_QUIESCE: flags |= GK_DISK_QUIESCE; break;
    case OPT_CAT: dir = optarg; break;
    case OPT_WAIT: wait = true; break;
    case OPT_LIST: list = true; break;
    case OPT_DELETE: delete = optarg; break;
    default: exit (EXIT_FAILURE);
    }
  }
  if (optind != argc - 1) {
    fprintf (stderr, "usage: %s DOMAIN [--uri URI] [--since X] "
             "[--checkpoint Y] [--quiesce] [--cat-dir DIR] [--wait] "
             "[--list-checkpoints] [--delete-checkpoint Z]\n", prog);
    exit (EXIT_FAILURE);
  }
  h = gk_create ();
  if (h == NULL) {
    fprintf (stderr, "%s: gk_create: %s\n", prog, gk_last_error (NULL));
    exit (EXIT_FAILURE);
  }
  gk_set_error_handler (h, NULL, NULL);
  if (gk_disk_open_domain (h, argv[optind], uri, since, checkpoint, flags,
                           &disks, &n) == -1) {
    report (h, argv[optind]);
    gk_close (h);
    exit (EXIT_FAILURE);
  }
  for (i = 0; i < n; ++i)
    printf ("disk %s %" PRIu64 " %s %s\n", gk_disk_get_name (disks[i]),
            gk_disk_get_size (disks[i]), gk_disk_get_format (disks[i]),
            gk_disk_get_source (disks[i]));
  fflush (stdout);
  if (wait) {
    char line[256];

    printf ("ready\n");
    fflush (stdout);
    if (fgets (line, sizeof line, stdin) == NULL && ferror (stdin))
      perror ("stdin");
  }
  for (i = 0; i < n; ++i) {
    gk_disk *d = disks[i];

    if (checkpoint && gk_disk_checkpoint_create (d, checkpoint) == -1) {
      report (h, gk_disk_get_name (d));
      status = 2;
    }
    if (dir && cat_disk (h, d, dir, since) == -1) {
      gk_disk_close_all (disks, n);
      gk_close (h);
      exit (EXIT_FAILURE);
    }
    if (list) {
      char **names = gk_disk_checkpoint_list (d);

      if (names == NULL) {
        report (h, gk_disk_get_name (d));
        status = 2;
      }
      else {
        printf ("checkpoints %s:", gk_disk_get_name (d));
        for (j = 0; names[j]; ++j)
          printf (" %s", names[j]);
        printf ("\n");
        gk_free_string_list (names);
      }
    }
    if (delete && gk_disk_checkpoint_delete (d, delete) == -1) {
      report (h, gk_disk_get_name (d));
      status = 2;
    }
  }
  gk_disk_close_all (disks, n);
  gk_close (h);
  fflush (stdout);
  exit (status);
}
