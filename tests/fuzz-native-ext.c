/* A fuzz target for the native ext2/3/4 reader: any bytes as the
 * device, probed, then (when it says ext2, ext3 or ext4) its statvfs.
 * Nothing may crash, hang or read out of bounds.
 *
 * make check-fuzz runs it under libFuzzer (tests/check-fuzz.sh); make
 * check builds it with tests/fuzz-replay.c, to replay files:
 * fuzz-native-ext FILE...
 */
#include <config.h>

#include <stdint.h>
#include <stddef.h>

#include "fuzz-native-fs.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char *const types[] = { "ext2", "ext3", "ext4", NULL };

  return fuzz_fs (data, size, "fuzz.img", types);
}
