/* libguestkit native engine: LVM2 physical volumes, their text metadata,
 * and linear or striped logical volumes as readers.
 */
#ifndef GUESTKIT_NATIVE_LVM2_H
#define GUESTKIT_NATIVE_LVM2_H

#include <stdbool.h>
#include <stdint.h>

#include "reader.h"

/* lvm2's text metadata (its config format), parsed.  A section's items
 * are its keys in order; an array's items have no key and are integers
 * or strings.
 */
enum gk_lvm_type { GK_LVM_SECTION, GK_LVM_INT, GK_LVM_STRING, GK_LVM_ARRAY };

struct gk_lvm_node {
  char *key;                    /* NULL for an array's items and the root */
  enum gk_lvm_type type;
  int64_t i;                    /* GK_LVM_INT */
  char *s;                      /* GK_LVM_STRING, unescaped */
  struct gk_lvm_node *items;    /* GK_LVM_SECTION, GK_LVM_ARRAY */
  size_t n;
};

/* Parse len bytes of text (a NUL ends it early).  where names the text
 * in messages (the disk).  Returns 0 and the root section in *root_rtn
 * (free it with gk_native_lvm_free_config), or -1 with the handle's
 * error set ("WHERE: LVM metadata line N: ...").
 */
extern int gk_native_lvm_parse_config (gk_h *h, const char *text, size_t len,
                                       const char *where,
                                       struct gk_lvm_node **root_rtn);
extern void gk_native_lvm_free_config (struct gk_lvm_node *root);
/* The node at path "a/b/c" below section, or NULL. */
extern const struct gk_lvm_node *
gk_native_lvm_lookup (const struct gk_lvm_node *section, const char *path);

/* lvm2's checksum (CRC-32 without the final inversion), as in labels,
 * metadata area headers and metadata text.  Start from GK_LVM_INITIAL_CRC.
 */
#define GK_LVM_INITIAL_CRC 0xf597a6cf
extern uint32_t gk_native_lvm_crc (uint32_t initial, const void *buf,
                                   size_t len);

struct gk_lv {
  char *name;                   /* "/dev/VG/LV" */
  char *vg_name;
  char *lv_name;
  uint64_t size;                /* bytes */
  /* An LV this code cannot read (thin, cache, raid, mirror, snapshot or
   * origin, a missing PV, extents beyond a PV): why says why and reader
   * is not set up.  The caller uses the appliance for that LV.
   */
  bool unsure;
  char *why;
  struct gk_reader reader;      /* reads through the PV readers */
};

/* Scan devs (every disk and partition of one guest) for LVM2 physical
 * volumes, read the newest metadata of each volume group and list its
 * visible logical volumes, sorted by VG then LV name.  The readers in
 * devs must outlive the LVs' readers.
 *
 * Returns 0 and a malloc'd array (NULL when *n_rtn is 0; free it with
 * gk_native_free_lvs); -1 with the handle's error set (I/O error,
 * metadata that does not parse); or GK_NATIVE_UNSURE and a reason in
 * *why_rtn (when not NULL) when the volume groups as a whole are not
 * understood (two PVs with one id, two VGs with one name).
 */
extern int gk_native_lvm (gk_h *h, const struct gk_reader *const *devs,
                          size_t ndevs, struct gk_lv **lvs_rtn, size_t *n_rtn,
                          char **why_rtn);
extern void gk_native_free_lvs (struct gk_lv *lvs, size_t n);

#endif /* GUESTKIT_NATIVE_LVM2_H */
