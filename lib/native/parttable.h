/* libguestkit native engine: partition tables (MBR with extended and
 * logical partitions, GPT with its backup header).
 *
 * The partitions are the ones Linux would create for the disk, numbered
 * as Linux numbers them, so that /dev/sdXN names match the appliance's.
 */
#ifndef GUESTKIT_NATIVE_PARTTABLE_H
#define GUESTKIT_NATIVE_PARTTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "reader.h"

struct gk_partition {
  int number;               /* MBR: 1-4 primaries, 5... logicals in EBR
                             * chain order; GPT: entry index + 1 */
  uint64_t start;           /* bytes from the start of the disk */
  uint64_t size;            /* bytes, as the table says */
  bool gpt;
  bool extended;            /* an MBR extended partition (container) */
  uint8_t mbr_type;         /* MBR: the type byte; GPT: 0 */
  char type_guid[37];       /* GPT: "0FC63DAF-8483-..." (upper case); MBR: "" */
  char part_guid[37];       /* GPT: the partition's unique GUID; MBR: "" */
  char *name;               /* GPT: the entry's name in UTF-8; MBR: NULL */
  /* A reader over the partition.  For an extended partition it offers
   * only what Linux exposes (1 KiB, one sector if larger), so that
   * nothing probes the logical partitions through it.  Its parent is
   * the disk reader, which must outlive it.
   */
  struct gk_reader reader;
  char *reader_name;        /* storage for reader.name */
};

/* Read the partition table of disk.  sector_size is 512 or 4096, or 0:
 * MBR is read with 512-byte sectors, GPT is looked for at 512 then 4096.
 *
 * Returns 0 and a malloc'd array in *parts_rtn (NULL when *n_rtn is 0:
 * no partition table, a whole-disk filesystem); -1 with the handle's
 * error set (I/O error, both GPT headers corrupt, an EBR loop); or
 * GK_NATIVE_UNSURE with a malloc'd reason in *why_rtn (when not NULL):
 * a table this code does not read like Linux (BSD, Solaris, Apple...)
 * or a partition past the end of the disk.  Free the array with
 * gk_native_free_partitions.
 */
extern int gk_native_partitions (gk_h *h, const struct gk_reader *disk,
                                 unsigned sector_size,
                                 struct gk_partition **parts_rtn,
                                 size_t *n_rtn, char **why_rtn);
/* The same, with flags: GK_NATIVE_PARTS_AS_LINUX gives the partitions
 * the Linux kernel (the appliance's) creates for the disk: GPT only
 * from the primary header at sector_size (0: 512), and none when that
 * header is invalid, as Linux does unless booted with "gpt".
 */
#define GK_NATIVE_PARTS_AS_LINUX 1
extern int gk_native_partitions_flags (gk_h *h, const struct gk_reader *disk,
                                       unsigned sector_size, unsigned flags,
                                       struct gk_partition **parts_rtn,
                                       size_t *n_rtn, char **why_rtn);
extern void gk_native_free_partitions (struct gk_partition *parts, size_t n);

/* GUID bytes as on disk (mixed endian) to "XXXXXXXX-XXXX-..." (37 bytes). */
extern void gk_native_guid_to_string (const uint8_t guid[16], char out[37]);

#endif /* GUESTKIT_NATIVE_PARTTABLE_H */
