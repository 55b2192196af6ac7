/* A fuzz target for the native ext2/3/4 reader: any bytes as the
 * device, probed, then (when it says ext2, ext3 or ext4) its statvfs.
 * Nothing may crash, hang or read out of bounds.
 *
 * make check-fuzz runs it under libFuzzer (tests/check-fuzz.sh); make
 * check builds it with tests/fuzz-replay.c, to replay files:
 * fuzz-native-ext FILE...
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "native/fs.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct gk_reader dev;
  struct gk_statvfs st;
  const char *type;
  char *why = NULL;
  gk_h *h = gk_create ();

  if (h == NULL)
    return 0;
  gk_set_error_handler (h, NULL, NULL);
  gk_reader_from_memory (&dev, data, size, "fuzz.img");
  if (gk_native_fs_probe (h, &dev, &type, &why) == 0 &&
      (strcmp (type, "ext2") == 0 || strcmp (type, "ext3") == 0 ||
       strcmp (type, "ext4") == 0))
    gk_native_fs_statvfs (h, &dev, type, &st, &why);
  free (why);
  gk_close (h);
  return 0;
}
