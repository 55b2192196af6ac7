/* Test helper: an upload cancelled half-way must leave the volume as it
 * was.  Usage: vol-upload-cancel POOL VOL FILE
 * (the state dir from GUESTKIT_STATE_DIR).  Uploads FILE, and cancels
 * from the progress callback once AFTER bytes are done (some of the file
 * has been written by then).  Exits 0 if the upload failed as cancelled,
 * 1 otherwise; the caller then checks the volume's content.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <stdint.h>

#include "guestkit.h"

#define AFTER (8 * 1024 * 1024)

static int
cancel_later (void *opaque, uint64_t done, uint64_t total)
{
  int *calls = opaque;

  ++*calls;
  return done >= AFTER && done < total ? -1 : 0;
}

int
main (int argc, char *argv[])
{
  gk_h *h;
  int calls = 0, r, err;

  if (argc != 4) {
    fprintf (stderr, "usage: %s POOL VOL FILE\n", argv[0]);
    exit (EXIT_FAILURE);
  }
  h = gk_create ();
  if (h == NULL) {
    fprintf (stderr, "gk_create: %s\n", gk_last_error (NULL));
    exit (EXIT_FAILURE);
  }
  gk_set_error_handler (h, NULL, NULL);
  r = gk_vol_upload (h, argv[1], argv[2], argv[3], cancel_later, &calls);
  err = gk_last_errno (h);
  if (r == 0 || err != ECANCELED) {
    fprintf (stderr, "%s: upload %s (%d progress calls): %s\n", argv[0],
             r == 0 ? "was not cancelled" : "failed otherwise", calls,
             r == 0 ? "" : gk_last_error (h));
    gk_close (h);
    exit (EXIT_FAILURE);
  }
  printf ("cancelled after %d progress calls: %s\n", calls, gk_last_error (h));
  gk_close (h);
  exit (EXIT_SUCCESS);
}
