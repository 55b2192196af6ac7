/* main() for the fuzz targets (tests/fuzz-native-*.c) when they are not
 * built with libFuzzer: run LLVMFuzzerTestOneInput once on each file
 * named on the command line (crash reproducers, corrupt images, whole
 * test images), so that make check, valgrind and ASan replay them.
 * Files are mapped, not copied: test images are hundreds of MiB, mostly
 * holes, and copying them is slow under the sanitizers.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
main (int argc, char *argv[])
{
  static const uint8_t empty[1];
  int i;

  for (i = 1; i < argc; ++i) {
    int fd = open (argv[i], O_RDONLY);
    struct stat st;
    void *data;

    if (fd == -1 || fstat (fd, &st) == -1) {
      perror (argv[i]);
      exit (EXIT_FAILURE);
    }
    if (st.st_size == 0) {
      LLVMFuzzerTestOneInput (empty, 0);
      close (fd);
      continue;
    }
    data = mmap (NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (data == MAP_FAILED) {
      perror (argv[i]);
      exit (EXIT_FAILURE);
    }
    close (fd);
    LLVMFuzzerTestOneInput (data, st.st_size);
    munmap (data, st.st_size);
  }
  exit (EXIT_SUCCESS);
}
