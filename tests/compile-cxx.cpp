// The public header must compile alone in C++ and link from C++,
// including the block-level and backup API a C++ backup tool uses.
#include <cerrno>

#include "guestkit.h"

static int
count (void *opaque, uint64_t, uint64_t length, unsigned)
{
  *static_cast<uint64_t *> (opaque) += length;
  return 0;
}

int
main ()
{
  gk_h *h = gk_create ();
  int r = h ? 0 : 1;

  if (h) {
    gk_backup_params p = gk_backup_params ();   // all zero
    uint64_t total = 0;

    gk_push_error_handler (h, NULL, NULL);
    // No source named: an error, not a crash.
    p.dir = "/nonexistent/guestkit-backup";
    if (gk_backup_full (h, &p) != NULL)
      r = 1;
    gk_extent_cb cb = count;
    gk_disk *d = gk_disk_open (h, "/nonexistent/disk.img", "raw", 0);
    if (d != NULL || gk_last_errno (h) != ENOENT || cb (&total, 0, 1, 0) != 0
        || total != 1)
      r = 1;
  }
  gk_close (h);
  return r;
}
