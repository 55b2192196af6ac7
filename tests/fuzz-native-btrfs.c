/* A fuzz target for the native btrfs reader: any bytes as the device,
 * then the probe, statvfs and the subvolumes.  Nothing may crash, hang
 * or read out of bounds.
 *
 * A btrfs is at least 114 MB, its metadata spread over it: too big for a
 * fuzzer's inputs.  So an input may also be a sparse device: "GKSPARSE",
 * its size (le64), then records of le64 offset, le32 length and data;
 * the rest reads as zeros.  Seeds in that form hold a real filesystem's
 * superblock and tree blocks only.
 *
 * libFuzzer (clang): compile this file with -DFUZZ_LIBFUZZER
 * -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (checksums are then not
 * checked, so that mutations reach the parsers behind them) and
 * -fsanitize=fuzzer,address,undefined together with lib/native/reader.c,
 * lib/native/fs.c, lib/native/fs-*.c, lib/errors.c, lib/handle.c and
 * common/utils (stubbing gk_int_appliance_free and gk_int_free_drive).
 * Without libFuzzer (as built by make check) it replays the files named
 * on its command line: fuzz-native-btrfs FILE...
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "internal.h"
#include "native/fs.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

struct sparse {
  const uint8_t *data;
  size_t size;
};

static uint64_t
get_le (const uint8_t *p, int n)
{
  uint64_t x = 0;

  while (n-- > 0)
    x = x << 8 | p[n];
  return x;
}

static int
sparse_pread (gk_h *h, void *opaque, void *buf, size_t count,
              uint64_t offset)
{
  const struct sparse *s = opaque;
  size_t pos = 16;

  (void) h;
  memset (buf, 0, count);
  while (s->size - pos >= 12) {
    uint64_t off = get_le (s->data + pos, 8);
    uint64_t len = get_le (s->data + pos + 8, 4);
    uint64_t a, b;

    pos += 12;
    if (len > s->size - pos)
      len = s->size - pos;
    /* The overlap of [off, off+len) and [offset, offset+count). */
    a = off > offset ? off : offset;
    b = off + len < offset + count ? off + len : offset + count;
    if (off + len >= off && a < b)
      memcpy ((char *) buf + (a - offset), s->data + pos + (a - off), b - a);
    pos += len;
  }
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct gk_reader dev;
  struct sparse sp;
  struct gk_statvfs st;
  const char *type;
  char *why = NULL;
  char **paths = NULL;
  gk_h *h = gk_create ();
  size_t i;

  if (h == NULL)
    return 0;
  gk_set_error_handler (h, NULL, NULL);
  if (size >= 16 && memcmp (data, "GKSPARSE", 8) == 0) {
    memset (&dev, 0, sizeof dev);
    dev.pread = sparse_pread;
    dev.opaque = &sp;
    dev.size = get_le (data + 8, 8) & ((UINT64_C(1) << 40) - 1);
    dev.name = "fuzz.btrfs";
    sp.data = data;
    sp.size = size;
  }
  else
    gk_reader_from_memory (&dev, data, size, "fuzz.btrfs");
  if (gk_native_fs_probe (h, &dev, &type, &why) == 0 &&
      strcmp (type, "btrfs") == 0) {
    free (why);
    why = NULL;
    gk_native_btrfs_statvfs (h, &dev, &st, &why);
    free (why);
    why = NULL;
    if (gk_native_btrfs_subvolumes (h, &dev, &paths, &why) == 0) {
      for (i = 0; paths[i] != NULL; ++i)
        free (paths[i]);
      free (paths);
    }
  }
  free (why);
  gk_close (h);
  return 0;
}

#ifndef FUZZ_LIBFUZZER
/* Replay: each file mapped, not read (the corpus holds whole btrfs
 * images of hundreds of MB, mostly holes; under valgrind or ASan a copy
 * would cost minutes).
 */
int
main (int argc, char *argv[])
{
  int i;

  for (i = 1; i < argc; ++i) {
    int fd = open (argv[i], O_RDONLY);
    struct stat stbuf;
    void *data;

    if (fd == -1 || fstat (fd, &stbuf) == -1) {
      perror (argv[i]);
      exit (EXIT_FAILURE);
    }
    if (stbuf.st_size == 0)
      LLVMFuzzerTestOneInput ((const uint8_t *) "", 0);
    else {
      data = mmap (NULL, stbuf.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (data == MAP_FAILED) {
        perror (argv[i]);
        exit (EXIT_FAILURE);
      }
      LLVMFuzzerTestOneInput (data, stbuf.st_size);
      munmap (data, stbuf.st_size);
    }
    close (fd);
  }
  exit (EXIT_SUCCESS);
}
#endif
