/* main() for the fuzz targets (tests/fuzz-native-*.c) when they are not
 * built with libFuzzer: run LLVMFuzzerTestOneInput once on each file
 * named on the command line (crash reproducers, corrupt images), so that
 * make check and valgrind replay them.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

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
    /* Volumes replayed are tens of MiB: grow the buffer by doubling
     * (linear time; growing by each chunk is quadratic under ASan).
     */
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
