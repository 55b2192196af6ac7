/* The public header must compile alone in strict ISO C99. */
#include "guestkit.h"

int
main (void)
{
  gk_h *h = gk_create ();
  int r = h ? 0 : 1;

  gk_close (h);
  return r;
}
