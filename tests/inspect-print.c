/* Print what libguestkit's inspection finds in a disk image, one
 * "key: value" per line, for test-inspect.sh to compare with libguestfs.
 * Usage: inspect-print DISK [FORMAT]
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include "guestkit.h"

int
main (int argc, char *argv[])
{
  gk_h *h;
  char **roots;
  size_t i, j;

  if (argc < 2 || argc > 3) {
    fprintf (stderr, "usage: %s DISK [FORMAT]\n", argv[0]);
    exit (EXIT_FAILURE);
  }
  h = gk_create ();
  if (h == NULL) {
    fprintf (stderr, "%s\n", gk_last_error (NULL));
    exit (EXIT_FAILURE);
  }
  if (gk_add_drive (h, argv[1], argc == 3 ? argv[2] : NULL, 0, 0) == -1)
    exit (EXIT_FAILURE);
  roots = gk_inspect_os (h);
  if (roots == NULL)
    exit (EXIT_FAILURE);
  for (i = 0; roots[i] != NULL; ++i) {
    struct gk_os_info *info = gk_inspect_get_info (h, roots[i]);

    if (info == NULL)
      exit (EXIT_FAILURE);
    printf ("root: %s\n", info->root);
    printf ("type: %s\n", info->type);
    printf ("distro: %s\n", info->distro);
    printf ("product-name: %s\n", info->product_name);
    printf ("major-version: %d\n", info->major_version);
    printf ("minor-version: %d\n", info->minor_version);
    printf ("hostname: %s\n", info->hostname);
    printf ("arch: %s\n", info->arch);
    printf ("package-format: %s\n", info->package_format);
    for (j = 0; info->mountpoints[j] != NULL; j += 2)
      printf ("mountpoint: %s %s\n", info->mountpoints[j],
              info->mountpoints[j+1]);
    gk_free_os_info (info);
  }
  gk_free_string_list (roots);
  gk_close (h);
  exit (EXIT_SUCCESS);
}
