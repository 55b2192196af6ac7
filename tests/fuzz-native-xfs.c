/* A fuzz target for the native xfs statvfs: any bytes as a sparse
 * device, probed, then read by gk_native_xfs_statvfs.  Nothing may
 * crash, hang or read out of bounds.
 *
 * An xfs filesystem is at least 300 MiB, and its metadata is spread
 * over it (a superblock and AGF in every AG, the log in the middle), so
 * the input is not the device itself but what is not zero in it: a list
 * of 520-byte records, each a big-endian 64-bit byte offset and 512
 * bytes of data, over a device of 1 TiB of zeros (a record past the end
 * is ignored; later records win).  A seed from a real image: every
 * non-zero 512-byte block of the first MiB of each AG and of the log.
 *
 * make check-fuzz runs it under libFuzzer (tests/check-fuzz.sh); make
 * check builds it with tests/fuzz-replay.c, to replay files:
 * fuzz-native-xfs FILE...
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "native/fs.h"

#define REC 520
#define DEVICE_SIZE (UINT64_C (1) << 40)

struct sparse {
  const uint8_t *data;
  size_t n;                     /* records */
};

static int
sparse_pread (gk_h *h, void *opaque, void *buf, size_t count,
              uint64_t offset)
{
  const struct sparse *s = opaque;
  size_t i;

  memset (buf, 0, count);
  for (i = 0; i < s->n; ++i) {
    const uint8_t *rec = s->data + i * REC;
    uint64_t off = 0, lo, hi;
    int k;

    for (k = 0; k < 8; ++k)
      off = off << 8 | rec[k];
    if (off >= DEVICE_SIZE - 512)
      continue;
    lo = off > offset ? off : offset;
    hi = off + 512 < offset + count ? off + 512 : offset + count;
    if (lo < hi)
      memcpy ((char *) buf + (lo - offset), rec + 8 + (lo - off), hi - lo);
  }
  return 0;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct sparse s = { .data = data, .n = size / REC };
  struct gk_reader r = {
    .pread = sparse_pread, .opaque = &s, .size = DEVICE_SIZE,
    .name = "fuzz.xfs",
  };
  struct gk_statvfs st;
  const char *type;
  char *why = NULL;
  gk_h *h = gk_create ();

  if (h == NULL)
    return 0;
  gk_set_error_handler (h, NULL, NULL);
  if (gk_native_fs_probe (h, &r, &type, &why) == 0 &&
      strcmp (type, "xfs") == 0)
    gk_native_xfs_statvfs (h, &r, &st, &why);
  free (why);
  gk_close (h);
  return 0;
}
