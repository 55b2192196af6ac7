/* libguestkit native engine: the files of an ext2/3/4 filesystem,
 * read-only, through libext2fs (for guestmount's in-process mounts).
 *
 * What it shows is what the Linux kernel shows after "mount -o ro":
 * the same names, inode numbers, modes, owners (32-bit ids), sizes,
 * st_blocks, link counts, times with nanoseconds, device numbers,
 * symlink targets, contents and extended attributes.
 *
 * Opening is where the native engine says "unsure" (the caller then
 * uses the appliance): not an ext filesystem, a journal that needs
 * recovery or orphans to clean up (the kernel's mount would change the
 * tree), features libext2fs or this reader does not handle (encryption,
 * casefolding, unknown features), anything the kernel would refuse to
 * mount (the checks of gk_native_ext_statvfs, fs.h).
 *
 * After a successful open every call is thread-safe: one mutex per
 * filesystem serialises libext2fs (which is not thread-safe) and the
 * reads of the underlying reader.  The handle h given to gk_extfs_open
 * is used, under that mutex, for the reader's I/O errors: the caller
 * must not use it from another thread at the same time.  Callbacks
 * (gk_extfs_readdir) run without the mutex held, so they may call back
 * into this API.
 *
 * Paths are absolute inside the filesystem ("/", "/etc/passwd");
 * "." and ".." are looked up as directory entries; symbolic links are
 * followed in the middle of a path (relative to the filesystem's root,
 * at most 40 of them, else -ELOOP) but never as the last component.
 * Every call after open returns 0 (or a count) or a NEGATIVE errno:
 * -ENOENT, -ENOTDIR, -ENAMETOOLONG, -ELOOP, -EIO (an I/O error or a
 * corrupt structure), -EBADMSG (a bad metadata checksum, as the
 * kernel's EFSBADCRC), -ESTALE (an entry naming a free inode, as
 * ext4_iget), -ENOMEM, ...  None of them sets the handle's error except
 * for the reader's own I/O errors (which it also logs).
 */
#ifndef GUESTKIT_NATIVE_FS_EXT_FILES_H
#define GUESTKIT_NATIVE_FS_EXT_FILES_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "reader.h"

struct gk_extfs;
struct gk_extfs_file;

/* Open the filesystem on r read-only: 0 with *fs_rtn set; -1 with the
 * handle's error set (I/O error, out of memory); GK_NATIVE_UNSURE with
 * the reason in *why_rtn (when not NULL; the caller frees it).  r (and
 * h) must stay valid until gk_extfs_close.
 */
extern int gk_extfs_open (gk_h *h, const struct gk_reader *r,
                          struct gk_extfs **fs_rtn, char **why_rtn);
/* Free everything; open files must have been closed before.  NULL is
 * allowed.
 */
extern void gk_extfs_close (struct gk_extfs *fs);

/* lstat(2) of a path.  st_dev is 0. */
extern int gk_extfs_lstat (struct gk_extfs *fs, const char *path,
                           struct stat *st);

/* Call cb for every entry of the directory except "." and "..", in the
 * directory's on-disk order, with the entry's lstat; stop when cb
 * returns non-zero and return that value.  An entry whose inode cannot
 * be read is still passed on (as the kernel's readdir lists it), with
 * only st_ino and the file type bits of st_mode set.
 */
extern int gk_extfs_readdir (struct gk_extfs *fs, const char *path,
                             int (*cb) (void *opaque, const char *name,
                                        const struct stat *st),
                             void *opaque);

/* The target of a symbolic link: *target_rtn is malloc'd and
 * NUL-terminated.  -EINVAL if path is not a symbolic link.
 */
extern int gk_extfs_readlink (struct gk_extfs *fs, const char *path,
                              char **target_rtn);

/* Open any inode for reading (a directory gives -EISDIR at read time,
 * as read(2) does).  *f_rtn is freed by gk_extfs_close_file.
 */
extern int gk_extfs_open_file (struct gk_extfs *fs, const char *path,
                               struct gk_extfs_file **f_rtn);
/* Read up to count bytes at offset: the number of bytes read (fewer
 * only at the end of the file, 0 beyond it) or -errno.  Holes and
 * unwritten extents read as zeros.  Contiguous extents are read with
 * one pread of the underlying reader each.
 */
extern ssize_t gk_extfs_pread (struct gk_extfs_file *f, void *buf,
                               size_t count, uint64_t offset);
/* The file's lstat, as gk_extfs_lstat gives it. */
extern int gk_extfs_fstat (struct gk_extfs_file *f, struct stat *st);
/* NULL is allowed. */
extern void gk_extfs_close_file (struct gk_extfs_file *f);

/* statvfs(2) as the kernel's ext4 statfs reports it after a read-only
 * mount (see gk_native_ext_statvfs): computed once, at open.
 */
extern int gk_extfs_statvfs (struct gk_extfs *fs, struct statvfs *st);

/* Extended attributes as listxattr(2) and getxattr(2) show them: the
 * names with their namespace prefix ("user.", "trusted.", "security.",
 * "gnu.", "system.posix_acl_access", "system.posix_acl_default"), in
 * the kernel's order (those in the inode, then those in the block).
 * POSIX ACLs come in the kernel's xattr format (version 2).  Attributes
 * the kernel hides (inline data's "system.data", unknown namespaces)
 * are neither listed nor readable (-EOPNOTSUPP, as for the kernel).
 *
 * listxattr: *names_rtn is a malloc'd buffer of NUL-terminated names,
 * one after the other, *len_rtn bytes in all (0, and *names_rtn NULL,
 * when there is none).  getxattr: *value_rtn is malloc'd (non-NULL
 * even for an empty value), *len_rtn its length; -ENODATA if absent.
 */
extern int gk_extfs_listxattr (struct gk_extfs *fs, const char *path,
                               char **names_rtn, size_t *len_rtn);
extern int gk_extfs_getxattr (struct gk_extfs *fs, const char *path,
                              const char *name, void **value_rtn,
                              size_t *len_rtn);

#endif /* GUESTKIT_NATIVE_FS_EXT_FILES_H */
