/* The native engine's filesystem readers on the command line, for the
 * per-filesystem differential tests against the appliance's statvfs.
 *
 *   native-statvfs [-v] [-f FORMAT] [-o OFFSET -s SIZE] IMAGE
 *
 * probes the image (or the byte range of it given by -o/-s, e.g. a
 * partition) and prints "vfs-type: TYPE", then, for a filesystem, the
 * statvfs fields in the shape of guestfish's "statvfs" command, then
 * for btrfs one "subvolume: PATH" line per subvolume (as the appliance's
 * list-filesystems adds them).
 * Exit status: 0, 1 on an error, 2 when unsure (the reason on stderr).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <unistd.h>

#include "internal.h"
#include "native/block.h"
#include "native/fs.h"

static int
unsure (gk_h *h, const char *why)
{
  fprintf (stderr, "native-statvfs: unsure: %s\n", why ? why : "?");
  gk_close (h);
  exit (2);
}

int
main (int argc, char *argv[])
{
  const char *format = NULL, *type;
  uint64_t offset = 0, size = 0;
  struct gk_reader img, part, *r = &img;
  struct gk_statvfs st;
  CLEANUP_FREE char *why = NULL;
  gk_h *h;
  int c, ret;

  while ((c = getopt (argc, argv, "vf:o:s:")) != -1) {
    switch (c) {
    case 'v': setenv ("GUESTKIT_DEBUG", "1", 1); break;
    case 'f': format = optarg; break;
    case 'o': offset = strtoull (optarg, NULL, 0); break;
    case 's': size = strtoull (optarg, NULL, 0); break;
    default:
    usage:
      fprintf (stderr, "usage: native-statvfs [-v] [-f FORMAT] "
               "[-o OFFSET -s SIZE] IMAGE\n");
      exit (EXIT_FAILURE);
    }
  }
  if (optind != argc - 1)
    goto usage;

  h = gk_create ();
  if (h == NULL)
    exit (EXIT_FAILURE);
  if (getenv ("GUESTKIT_DEBUG"))
    gk_set_verbose (h, 1);
  ret = gk_reader_open_image (h, &img, argv[optind], format, &why);
  if (ret == GK_NATIVE_UNSURE)
    unsure (h, why);
  if (ret == -1)
    goto err;
  if (size > 0) {
    if (gk_reader_slice (h, &part, &img, offset, size, "part") == -1)
      goto err;
    r = &part;
  }

  ret = gk_native_fs_probe (h, r, &type, &why);
  if (ret == GK_NATIVE_UNSURE)
    unsure (h, why);
  if (ret == -1)
    goto err;
  printf ("vfs-type: %s\n", type);
  if (strcmp (type, "") == 0 || strcmp (type, "swap") == 0 ||
      strcmp (type, "LVM2_member") == 0 || strcmp (type, "crypto_LUKS") == 0)
    goto out;

  ret = gk_native_fs_statvfs (h, r, type, &st, &why);
  if (ret == GK_NATIVE_UNSURE)
    unsure (h, why);
  if (ret == -1)
    goto err;
  printf ("bsize: %" PRIi64 "\n", st.bsize);
  printf ("frsize: %" PRIi64 "\n", st.frsize);
  printf ("blocks: %" PRIi64 "\n", st.blocks);
  printf ("bfree: %" PRIi64 "\n", st.bfree);
  printf ("bavail: %" PRIi64 "\n", st.bavail);
  printf ("files: %" PRIi64 "\n", st.files);
  printf ("ffree: %" PRIi64 "\n", st.ffree);
  printf ("favail: %" PRIi64 "\n", st.favail);
  printf ("fsid: %" PRIi64 "\n", st.fsid);
  printf ("flag: %" PRIi64 "\n", st.flag);
  printf ("namemax: %" PRIi64 "\n", st.namemax);

  if (strcmp (type, "btrfs") == 0) {
    CLEANUP_FREE_STRING_LIST char **paths = NULL;
    size_t i;

    ret = gk_native_btrfs_subvolumes (h, r, &paths, &why);
    if (ret == GK_NATIVE_UNSURE)
      unsure (h, why);
    if (ret == -1)
      goto err;
    for (i = 0; paths[i] != NULL; ++i)
      printf ("subvolume: %s\n", paths[i]);
  }

 out:
  if (r == &part)
    gk_reader_close (&part);
  gk_reader_close (&img);
  gk_close (h);
  exit (EXIT_SUCCESS);
 err:
  gk_close (h);
  exit (EXIT_FAILURE);
}
