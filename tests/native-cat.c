/* Write the guest-visible bytes of a disk image to stdout, read by the
 * native engine's block sources, so that tests can compare them with
 * "qemu-img convert -O raw".
 *
 *   native-cat [-v] [--format raw|qcow2|FMT] IMAGE
 *
 * Exit status: 0 done; 1 error (the handle's message on stderr);
 * 2 unsure ("native-cat: unsure: REASON" on stderr).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <unistd.h>
#include <getopt.h>

#include "internal.h"
#include "native/block.h"

#define BUF (1024 * 1024)

int
main (int argc, char *argv[])
{
  static const struct option long_options[] = {
    { "format", required_argument, NULL, 'f' },
    { "verbose", no_argument, NULL, 'v' },
    { NULL, 0, NULL, 0 },
  };
  const char *format = NULL;
  struct gk_reader r;
  CLEANUP_FREE char *why = NULL, *buf = NULL;
  uint64_t offset;
  gk_h *h;
  int c, ret;

  while ((c = getopt_long (argc, argv, "f:v", long_options, NULL)) != -1) {
    switch (c) {
    case 'f': format = optarg; break;
    case 'v': setenv ("GUESTKIT_DEBUG", "1", 1); break;
    default:
      fprintf (stderr, "usage: native-cat [-v] [--format FMT] IMAGE\n");
      exit (EXIT_FAILURE);
    }
  }
  if (optind != argc - 1) {
    fprintf (stderr, "usage: native-cat [-v] [--format FMT] IMAGE\n");
    exit (EXIT_FAILURE);
  }

  h = gk_create ();
  if (h == NULL)
    exit (EXIT_FAILURE);
  if (getenv ("GUESTKIT_DEBUG"))
    gk_set_verbose (h, 1);
  ret = gk_reader_open_image (h, &r, argv[optind], format, &why);
  if (ret == GK_NATIVE_UNSURE) {
    fprintf (stderr, "native-cat: unsure: %s\n", why ? why : "?");
    gk_close (h);
    exit (2);
  }
  if (ret == -1) {
    gk_close (h);
    exit (EXIT_FAILURE);
  }

  buf = malloc (BUF);
  if (buf == NULL) {
    perror ("malloc");
    exit (EXIT_FAILURE);
  }
  for (offset = 0; offset < r.size; ) {
    size_t n = r.size - offset < BUF ? r.size - offset : BUF;

    if (gk_reader_pread (h, &r, buf, n, offset) == -1) {
      gk_reader_close (&r);
      gk_close (h);
      exit (EXIT_FAILURE);
    }
    if (fwrite (buf, 1, n, stdout) != n) {
      perror ("write");
      exit (EXIT_FAILURE);
    }
    offset += n;
  }
  gk_reader_close (&r);
  gk_close (h);
  if (fclose (stdout) != 0) {
    perror ("stdout");
    exit (EXIT_FAILURE);
  }
  exit (EXIT_SUCCESS);
}
