/* libguestkit: mount-local, guest filesystems on a host directory
 * through FUSE (guestmount(1)).  Internal.
 *
 * lib/mount-local.c is the FUSE filesystem: the operations, the metadata
 * cache and the open files.  Each operation goes to one of two engines:
 *
 *   native     lib/mount-local-native.c: read-only ext2/3/4 served in
 *              process by libext2fs (lib/native/fs-ext-files.c), when
 *              the native engine is sure of every filesystem mounted;
 *   appliance  the libguestfs appliance, through the gk_* file calls,
 *              one call at a time (libguestfs serialises them anyway).
 */
#ifndef GUESTKIT_MOUNT_LOCAL_H
#define GUESTKIT_MOUNT_LOCAL_H

#include <sys/stat.h>
#include <sys/statvfs.h>

#include "internal.h"

/* The native engine's tree: filesystems mounted at guest paths.  Every
 * function returns 0 or a negative errno, except where it says.
 */
struct ml_native;
struct ml_native_file;

/* Add mountable at mountpoint.  0; -1 with the handle's error set (the
 * drives cannot be read); or GK_NATIVE_UNSURE with the reason in *why_rtn
 * (the caller then mounts everything in the appliance).  *nat is created
 * on the first call.
 */
extern int gk_int_ml_native_add (gk_h *h, struct ml_native **nat,
                                 const char *mountable,
                                 const char *mountpoint, char **why_rtn);
/* The mounts in the order they were added, for mounting them in the
 * appliance instead: *mountable_rtn and *mountpoint_rtn for index i, or
 * -1 past the end.
 */
extern int gk_int_ml_native_mount (const struct ml_native *nat, size_t i,
                                   const char **mountable_rtn,
                                   const char **mountpoint_rtn);
extern void gk_int_ml_native_free (struct ml_native *nat);

extern int gk_int_ml_native_lstat (struct ml_native *nat, const char *path,
                                   struct stat *st);
extern int gk_int_ml_native_readdir (struct ml_native *nat, const char *path,
                                     int (*cb) (void *opaque,
                                                const char *name,
                                                const struct stat *st),
                                     void *opaque);
extern int gk_int_ml_native_readlink (struct ml_native *nat,
                                      const char *path, char **target_rtn);
extern int gk_int_ml_native_open (struct ml_native *nat, const char *path,
                                  struct ml_native_file **f_rtn);
/* Bytes read, or a negative errno. */
extern ssize_t gk_int_ml_native_pread (struct ml_native_file *f, void *buf,
                                       size_t count, uint64_t offset);
extern void gk_int_ml_native_close (struct ml_native_file *f);
extern int gk_int_ml_native_statvfs (struct ml_native *nat, const char *path,
                                     struct statvfs *st);
extern int gk_int_ml_native_listxattr (struct ml_native *nat,
                                       const char *path, char **names_rtn,
                                       size_t *len_rtn);
extern int gk_int_ml_native_getxattr (struct ml_native *nat,
                                      const char *path, const char *name,
                                      void **value_rtn, size_t *len_rtn);

#endif /* GUESTKIT_MOUNT_LOCAL_H */
