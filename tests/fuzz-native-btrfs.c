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
 * make check-fuzz runs it under libFuzzer (tests/check-fuzz.sh); make
 * check builds it with tests/fuzz-replay.c, to replay files:
 * fuzz-native-btrfs FILE...
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
