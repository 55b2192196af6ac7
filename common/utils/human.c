/* guestkit: sizes for humans (see human.h). */
#include <config.h>

#include <stdio.h>
#include <stdint.h>
#include <inttypes.h>
#include <string.h>

#include "human.h"

static const char suffix[] = " KMGTPEZY";
#define MAX_POWER 8

/* Round the exact value with long double if n * block_size does not fit in
 * 64 bits (more than 16 EiB: not a real filesystem, but never garbage).
 */
static char *
human_size_float (uint64_t n, uint64_t block_size, char *buf)
{
  long double v = (long double) n * block_size;
  long double e = 1;
  int power = 0;

  while (e * 1024 <= v && power < MAX_POWER) {
    e *= 1024;
    power++;
  }
  v /= e;
  if (v < 10 && power > 0)
    snprintf (buf, HUMAN_SIZE_BUFLEN, "%.1Lf%c", v, suffix[power]);
  else
    snprintf (buf, HUMAN_SIZE_BUFLEN, "%.0Lf%c", v, power ? suffix[power] : '\0');
  return buf;
}

char *
human_size (uint64_t n, uint64_t block_size, char *buf)
{
  uint64_t amount;
  /* What has been divided away so far, in tenths and a rounding state:
   *   0  exact
   *   1  below half a tenth
   *   2  exactly half a tenth
   *   3  above half a tenth
   */
  unsigned tenths = 0, rest = 0;
  int power = 0;
  char fraction[4] = "";

  if (block_size != 0 && n > UINT64_MAX / block_size)
    return human_size_float (n, block_size, buf);
  amount = n * block_size;

  if (amount >= 1024) {
    do {
      unsigned r10 = (amount % 1024) * 10 + tenths;
      unsigned r2 = (r10 % 1024) * 2 + (rest >> 1);

      amount /= 1024;
      tenths = r10 / 1024;
      if (r2 < 1024)
        rest = (r2 + rest) != 0;
      else
        rest = 2 + (1024 < r2 + rest);
      power++;
    } while (amount >= 1024 && power < MAX_POWER);

    /* Below 10 one decimal is shown: round to the nearest tenth. */
    if (amount < 10) {
      if (rest + (tenths & 1) > 2) {
        tenths++;
        rest = 0;
        if (tenths == 10) {
          amount++;
          tenths = 0;
        }
      }
      if (amount < 10) {
        snprintf (fraction, sizeof fraction, ".%u", tenths);
        tenths = rest = 0;
      }
    }
  }

  /* Round to the nearest integer, ties to even. */
  if (tenths + (rest + (amount & 1) > 0) > 5) {
    amount++;
    if (power > 0 && amount == 1024 && power < MAX_POWER) {
      power++;
      amount = 1;
      strcpy (fraction, ".0");
    }
  }

  if (power > 0)
    snprintf (buf, HUMAN_SIZE_BUFLEN, "%" PRIu64 "%s%c",
              amount, fraction, suffix[power]);
  else
    snprintf (buf, HUMAN_SIZE_BUFLEN, "%" PRIu64, amount);
  return buf;
}
