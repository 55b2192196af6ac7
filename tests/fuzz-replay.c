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
    size_t size = 0, n;
    char chunk[65536];

    if (fp == NULL) {
      perror (argv[i]);
      exit (EXIT_FAILURE);
    }
    while ((n = fread (chunk, 1, sizeof chunk, fp)) > 0) {
      char *p = realloc (data, size + n);

      if (p == NULL) {
        perror ("realloc");
        exit (EXIT_FAILURE);
      }
      data = p;
      memcpy (data + size, chunk, n);
      size += n;
    }
    fclose (fp);
    LLVMFuzzerTestOneInput ((const uint8_t *) data, size);
    free (data);
  }
  exit (EXIT_SUCCESS);
}
