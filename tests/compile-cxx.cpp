// The public header must compile alone in C++ and link from C++.
#include "guestkit.h"

int
main ()
{
  gk_h *h = gk_create ();
  int r = h ? 0 : 1;

  gk_close (h);
  return r;
}
