/* A fuzz target for the native ntfs reader: any bytes as the device,
 * probed, then (when the probe says ntfs) its statvfs.  Nothing may
 * crash, hang or read out of bounds.
 *
 * libFuzzer (clang): compile this file with -DFUZZ_LIBFUZZER and
 * -fsanitize=fuzzer,address,undefined together with lib/native/reader.c,
 * lib/native/fs.c, lib/native/fs-ntfs.c, lib/errors.c, lib/handle.c and
 * common/utils (stubbing gk_int_appliance_free, gk_int_free_drive and
 * the other filesystems' statvfs functions).
 * Without libFuzzer (as built by make check) it replays the files named
 * on its command line: fuzz-native-ntfs FILE...
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
  gk_reader_from_memory (&dev, data, size, "fuzz.ntfs");
  if (gk_native_fs_probe (h, &dev, &type, &why) == 0 &&
      strcmp (type, "ntfs") == 0)
    gk_native_fs_statvfs (h, &dev, type, &st, &why);
  free (why);
  gk_close (h);
  return 0;
}

#ifndef FUZZ_LIBFUZZER
int
main (int argc, char *argv[])
{
  int i;

  for (i = 1; i < argc; ++i) {
    FILE *fp = fopen (argv[i], "r");
    char *data = NULL;
    size_t size = 0, cap = 0, n;
    char chunk[65536];

    if (fp == NULL) {
      perror (argv[i]);
      exit (EXIT_FAILURE);
    }
    /* The volumes replayed are tens of MiB: grow the buffer by doubling. */
    while ((n = fread (chunk, 1, sizeof chunk, fp)) > 0) {
      if (size + n > cap) {
        char *p;

        cap = cap ? cap * 2 : 1024 * 1024;
        p = realloc (data, cap);
        if (p == NULL) {
          perror ("realloc");
          exit (EXIT_FAILURE);
        }
        data = p;
      }
      memcpy (data + size, chunk, n);
      size += n;
    }
    fclose (fp);
    LLVMFuzzerTestOneInput ((const uint8_t *) data, size);
    free (data);
  }
  exit (EXIT_SUCCESS);
}
#endif
