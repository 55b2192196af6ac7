/* The body shared by the fuzz targets of filesystems whose device is
 * the input as is (ext, vfat, ntfs): any bytes as the device, probed,
 * then, when the probe names one of the target's types, its statvfs.
 * Each target defines LLVMFuzzerTestOneInput as a call to fuzz_fs.
 */
#ifndef GUESTKIT_FUZZ_NATIVE_FS_H
#define GUESTKIT_FUZZ_NATIVE_FS_H

#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "native/fs.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* types: NULL-terminated list of the probe's names this target reads. */
static inline int
fuzz_fs (const uint8_t *data, size_t size, const char *name,
         const char *const *types)
{
  struct gk_reader dev;
  struct gk_statvfs st;
  const char *type;
  char *why = NULL;
  gk_h *h = gk_create ();
  size_t i;

  if (h == NULL)
    return 0;
  gk_set_error_handler (h, NULL, NULL);
  gk_reader_from_memory (&dev, data, size, name);
  if (gk_native_fs_probe (h, &dev, &type, &why) == 0)
    for (i = 0; types[i] != NULL; ++i)
      if (strcmp (type, types[i]) == 0) {
        gk_native_fs_statvfs (h, &dev, type, &st, &why);
        break;
      }
  free (why);
  gk_close (h);
  return 0;
}

#endif /* GUESTKIT_FUZZ_NATIVE_FS_H */
