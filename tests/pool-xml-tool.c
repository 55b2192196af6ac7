/* The pool and volume XML code of libguestkit on the command line, for
 * tests that compare it with libvirt when guestkit has no backend for a
 * pool type (the XML does not depend on one):
 *   pool-xml-tool pool < POOL.xml      parse, then format again
 *   pool-xml-tool vol TYPE NAME PATH CAPACITY ALLOCATION FORMAT
 *                                      the volume XML for a volume state
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include "internal.h"
#include "pool-xml.h"

int
main (int argc, char *argv[])
{
  gk_h *h = gk_create ();
  char *xml = NULL;

  if (h == NULL)
    return EXIT_FAILURE;
  if (argc == 2 && strcmp (argv[1], "pool") == 0) {
    char *in = NULL;
    size_t n = 0;
    struct pool_def *def;

    if (getdelim (&in, &n, '\0', stdin) == -1) {
      perror ("stdin");
      return EXIT_FAILURE;
    }
    def = gk_int_parse_pool_xml (h, in);
    free (in);
    if (def == NULL)
      return EXIT_FAILURE;      /* the error handler printed why */
    xml = gk_int_format_pool_xml (h, def, NULL);
    gk_int_free_pool_def (def);
  }
  else if (argc == 8 && strcmp (argv[1], "vol") == 0) {
    struct vol_state st = {
      .name = argv[3], .path = argv[4], .format = argv[7],
      .capacity = strtoull (argv[5], NULL, 10),
      .allocation = strtoull (argv[6], NULL, 10),
    };

    xml = gk_int_format_vol_xml (h, &st, argv[2]);
  }
  else {
    fprintf (stderr, "usage: %s pool < XML | vol TYPE NAME PATH CAPACITY "
             "ALLOCATION FORMAT\n", argv[0]);
    return EXIT_FAILURE;
  }
  if (xml == NULL)
    return EXIT_FAILURE;
  fputs (xml, stdout);
  free (xml);
  gk_close (h);
  return EXIT_SUCCESS;
}
