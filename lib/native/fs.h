/* libguestkit native engine: filesystems.
 *
 * gk_native_fs_probe names what a device holds, as blkid's TYPE does
 * (the appliance's vfs-type): "ext2", "ext3", "ext4", "xfs", "btrfs",
 * "vfat", "ntfs", "swap", "crypto_LUKS", "LVM2_member",
 * "linux_raid_member", ... or "" for nothing recognised.
 *
 * gk_native_<fs>_statvfs fills *st exactly as statvfs(2) reports it in
 * the appliance after a read-only mount of that filesystem (the kernel's
 * statfs for ext2/3/4, xfs, btrfs and vfat; ntfs-3g's for ntfs).  Each
 * returns 0, -1 with the handle's error set (the device could not be
 * read), or GK_NATIVE_UNSURE with a malloc'd reason in *why_rtn (an
 * unknown feature, a dirty log that would change the counts, a layout
 * the parser does not handle): the caller asks the appliance.
 * A corrupt filesystem is "unsure" (the appliance decides what it is).
 */
#ifndef GUESTKIT_NATIVE_FS_H
#define GUESTKIT_NATIVE_FS_H

#include "reader.h"

/* What the device holds: *type_rtn is a static string.  0, -1, or
 * GK_NATIVE_UNSURE when something is there that blkid may name
 * differently from us.
 */
extern int gk_native_fs_probe (gk_h *h, const struct gk_reader *r,
                               const char **type_rtn, char **why_rtn);

/* statvfs of a filesystem of the given (probed) type. */
extern int gk_native_fs_statvfs (gk_h *h, const struct gk_reader *r,
                                 const char *type, struct gk_statvfs *st,
                                 char **why_rtn);

extern int gk_native_ext_statvfs (gk_h *h, const struct gk_reader *r,
                                  struct gk_statvfs *st, char **why_rtn);
extern int gk_native_xfs_statvfs (gk_h *h, const struct gk_reader *r,
                                  struct gk_statvfs *st, char **why_rtn);
extern int gk_native_btrfs_statvfs (gk_h *h, const struct gk_reader *r,
                                    struct gk_statvfs *st, char **why_rtn);
extern int gk_native_vfat_statvfs (gk_h *h, const struct gk_reader *r,
                                   struct gk_statvfs *st, char **why_rtn);
extern int gk_native_ntfs_statvfs (gk_h *h, const struct gk_reader *r,
                                   struct gk_statvfs *st, char **why_rtn);

/* btrfs: the subvolumes the appliance's list-filesystems adds after the
 * device itself, in its order (that of `btrfs subvolume list`, by
 * subvolume ID), without the default subvolume: paths relative to the
 * top level ("sub1", "dir/sub2").  *paths_rtn is a NULL-terminated,
 * malloc'd list.  0, -1 or GK_NATIVE_UNSURE.
 */
extern int gk_native_btrfs_subvolumes (gk_h *h, const struct gk_reader *r,
                                       char ***paths_rtn, char **why_rtn);

#endif /* GUESTKIT_NATIVE_FS_H */
