/* A fuzz target for the native partition table and LVM2 readers: any
 * bytes as a disk; its partitions (as the tools list them and as Linux
 * does), then the LVs of the disk and of each partition, each LV's
 * first bytes read through its segments.  Nothing may crash, hang or
 * read out of bounds.  See tests/check-fuzz.sh and tests/fuzz-replay.c.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "native/parttable.h"
#include "native/lvm2.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
read_lvs (gk_h *h, const struct gk_reader *const *devs, size_t ndevs)
{
  static char buf[8192];
  struct gk_lv *lvs;
  size_t n, i;

  if (gk_native_lvm (h, devs, ndevs, &lvs, &n, NULL) != 0)
    return;
  for (i = 0; i < n; ++i)
    if (!lvs[i].unsure)
      gk_reader_pread (h, &lvs[i].reader, buf,
                       lvs[i].reader.size < sizeof buf ?
                       lvs[i].reader.size : sizeof buf, 0);
  gk_native_free_lvs (lvs, n);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  gk_h *h = gk_create ();
  struct gk_reader disk;
  struct gk_partition *parts;
  const struct gk_reader *devs[129];
  size_t n, i, ndevs = 0;
  unsigned flags;

  if (h == NULL)
    return 0;
  gk_set_error_handler (h, NULL, NULL);
  gk_reader_from_memory (&disk, data, size, "fuzz.img");
  devs[ndevs++] = &disk;
  for (flags = 0; flags <= GK_NATIVE_PARTS_AS_LINUX; ++flags) {
    if (gk_native_partitions_flags (h, &disk, 0, flags, &parts, &n,
                                    NULL) != 0)
      continue;
    if (flags == 0) {
      for (i = 0; i < n && ndevs < 129; ++i)
        if (!parts[i].extended)
          devs[ndevs++] = &parts[i].reader;
      read_lvs (h, devs, ndevs);
    }
    gk_native_free_partitions (parts, n);
  }
  gk_close (h);
  return 0;
}
