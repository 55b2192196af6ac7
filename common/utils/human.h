/* guestkit: sizes for humans, as df -h and virt-df -h print them.
 *
 * human_size (n, block_size, buf) writes n * block_size bytes in the form
 * "512", "7.4G", "16M": powers of 1024, one decimal below 10, rounded to
 * nearest (ties to even), suffixes K M G T P E Z Y.  This is the rounding of
 * gnulib's human_readable() with round_to_nearest|autoscale|base_1024|SI,
 * which libguestfs's virt-df uses; output must match it to the byte.
 * buf must hold HUMAN_SIZE_BUFLEN bytes.  Returns buf.
 */
#ifndef GUESTKIT_HUMAN_H
#define GUESTKIT_HUMAN_H

#include <stdint.h>

#define HUMAN_SIZE_BUFLEN 32

extern char *human_size (uint64_t n, uint64_t block_size, char *buf);

#endif /* GUESTKIT_HUMAN_H */
