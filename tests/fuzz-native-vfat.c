/* A fuzz target for the native vfat reader: any bytes as the device,
 * probed, then (when the probe says vfat) its statvfs.  Nothing may
 * crash, hang or read out of bounds.
 *
 * make check-fuzz runs it under libFuzzer (tests/check-fuzz.sh); make
 * check builds it with tests/fuzz-replay.c, to replay files:
 * fuzz-native-vfat FILE...
 */
#include <config.h>

#include <stdint.h>
#include <stddef.h>

#include "fuzz-native-fs.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char *const types[] = { "vfat", NULL };

  return fuzz_fs (data, size, "fuzz.vfat", types);
}
