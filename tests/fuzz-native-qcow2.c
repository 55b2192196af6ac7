/* A fuzz target for the native qcow2 reader: any bytes as the image
 * file, then the allocation map of the guest's first 256 MiB and the
 * guest's first MiB read through it (over a backing reader of zeros).
 * Nothing may crash, hang or read out of bounds.
 *
 * make check-fuzz runs it under libFuzzer (tests/check-fuzz.sh); make
 * check builds it with tests/fuzz-replay.c, to replay files:
 * fuzz-native-qcow2 FILE...
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "native/block.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
count_extent (void *opaque, uint64_t offset, uint64_t length, unsigned type)
{
  /* Stop a walk of a huge image after many extents (a fuzzed L1 table
   * can describe an exabyte of alternating clusters).
   */
  return ++*(unsigned *) opaque > 100000;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static char zeros[65536];
  static char buf[65536];
  struct gk_reader file, q, backing;
  gk_h *h = gk_create ();
  uint64_t offset;

  if (h == NULL)
    return 0;
  gk_set_error_handler (h, NULL, NULL);
  gk_reader_from_memory (&file, data, size, "fuzz.qcow2");
  if (gk_reader_open_qcow2 (h, &q, &file, NULL) == 0) {
    gk_reader_from_memory (&backing, zeros, sizeof zeros, "backing");
    gk_qcow2_set_backing (&q, &backing);
    {
      unsigned n = 0;

      /* At most 256 MiB: a walk is cluster by cluster (L2 entries). */
      gk_reader_extents (h, &q, 0, q.size < (256 << 20) ? q.size : 256 << 20,
                         count_extent, &n);
    }
    for (offset = 0; offset < q.size && offset < 1024 * 1024;
         offset += sizeof buf) {
      size_t n = q.size - offset < sizeof buf ? q.size - offset : sizeof buf;

      if (gk_reader_pread (h, &q, buf, n, offset) == -1)
        break;
    }
    gk_reader_close (&q);
  }
  gk_close (h);
  return 0;
}
