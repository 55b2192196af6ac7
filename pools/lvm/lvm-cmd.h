/* guestkit: the lvm2 command lines of the lvm pool backend, built by pure
 * functions (no handle, no I/O) so that tests/test-lvm-cmd.c can compare
 * each with a golden file, as libvirt's storagepoolxml2argvtest does.
 *
 * Every lvm_cmd_* builder fills an empty string_vector with the command
 * and its arguments, NULL-terminated (argv.ptr is an execvp argv), and
 * returns 0; or -1 with errno set (ENOMEM) and the vector freed.  The
 * caller frees it with string_vector_free_all.
 *
 * Sizes are bytes, passed to lvm2 with the unit "b".  lvm2 rounds LV
 * sizes up to a whole number of extents by itself; the builders that take
 * an extent size round up first, so that the argv says what lvm2 will
 * really make (and a resize to the current size can be seen as a no-op).
 */
#ifndef GUESTKIT_LVM_CMD_H
#define GUESTKIT_LVM_CMD_H

#include <stdint.h>
#include <stdbool.h>

#include "vector.h"

/* The report columns the backend reads (lvm-report.h parses them). */
#define LVM_VGS_FIELDS "vg_name,vg_size,vg_free,vg_extent_size"
#define LVM_PVS_FIELDS "pv_name,vg_name"
#define LVM_LVS_FIELDS \
  "lv_name,lv_path,lv_size,segtype,pool_lv,origin,data_percent,discards," \
  "chunk_size"

/* Name rules of lvm2 (lvm(8) "VALID NAMES") for VGs and LVs: NULL if
 * name is valid, else a short reason ("contains ‘/’", ...).
 */
extern const char *lvm_name_invalid (const char *name);

/* size rounded up to a multiple of extent (extent 0: size). */
extern uint64_t lvm_round_up (uint64_t size, uint64_t extent);

/* Split free VG space for a thin pool that takes most of the VG: the
 * metadata LV (*meta, at least 4 MiB, about 1/256 of the space, rounded
 * up to extents) and, as lvm2 keeps a spare metadata LV of the same size
 * (the "pmspare" used by lvconvert --repair), data = free - 2 * meta,
 * rounded down to extents.  -1 (ENOSPC) if nothing is left for data.
 */
extern int lvm_thin_pool_sizes (uint64_t vg_free, uint64_t extent,
                                uint64_t *data, uint64_t *meta);

/* pvcreate DEV.  Without overwrite, -qq answers "no" to lvm2's "wipe the
 * existing signature?" prompt: a device holding a filesystem or another
 * label is refused, never wiped.  With overwrite, --yes wipes it.
 */
extern int lvm_cmd_pvcreate (string_vector *argv, const char *dev,
                             bool overwrite);
extern int lvm_cmd_pvremove (string_vector *argv, const char *dev);
/* devs: NULL-terminated. */
extern int lvm_cmd_vgcreate (string_vector *argv, const char *vg,
                             const char *const *devs);
/* --force: also removes the (empty) thin pool LV of a thin pool. */
extern int lvm_cmd_vgremove (string_vector *argv, const char *vg);
extern int lvm_cmd_vgchange (string_vector *argv, const char *vg,
                             bool activate);

/* Reports: --reportformat json --units b --nosuffix -o FIELDS. */
extern int lvm_cmd_vgs (string_vector *argv, const char *vg);
extern int lvm_cmd_pvs (string_vector *argv, const char *dev);
/* lv NULL: every (visible) LV of the VG. */
extern int lvm_cmd_lvs (string_vector *argv, const char *vg, const char *lv);

extern int lvm_cmd_lvcreate_linear (string_vector *argv, const char *vg,
                                    const char *lv, uint64_t size,
                                    uint64_t extent);
extern int lvm_cmd_lvcreate_thin_pool (string_vector *argv, const char *vg,
                                       const char *tp, uint64_t data,
                                       uint64_t meta);
extern int lvm_cmd_lvcreate_thin (string_vector *argv, const char *vg,
                                  const char *tp, const char *lv,
                                  uint64_t size, uint64_t extent);
/* A thin snapshot of VG/origin, activated now and by vgchange -ay. */
extern int lvm_cmd_lvcreate_thin_snapshot (string_vector *argv,
                                           const char *vg, const char *origin,
                                           const char *lv);
extern int lvm_cmd_lvremove (string_vector *argv, const char *vg,
                             const char *lv);
/* lvrename VG OLD NEW (lvm2 refuses an existing NEW itself). */
extern int lvm_cmd_lvrename (string_vector *argv, const char *vg,
                             const char *old_lv, const char *new_lv);
/* shrink adds --force (lvm2 asks before reducing otherwise).  The library
 * passes it only for gk_vol_resize (..., GK_VOL_RESIZE_SHRINK).
 */
extern int lvm_cmd_lvresize (string_vector *argv, const char *vg,
                             const char *lv, uint64_t size, uint64_t extent,
                             bool shrink);

#endif /* GUESTKIT_LVM_CMD_H */
