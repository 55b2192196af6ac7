/* libguestkit: virtual-machine storage and disk images.
 *
 * This header is the whole public API.  Every function is documented in
 * guestkit(3).  Conventions:
 *
 * - Functions returning int return -1 on error; functions returning a
 *   pointer return NULL on error.  The error message and errno are then
 *   available from gk_last_error and gk_last_errno, and the handle's error
 *   handler has been called exactly once.
 * - Strings and lists returned to the caller are owned by the caller and
 *   freed with free(3) or the gk_free_* function named beside them.
 * - One handle must not be used by two threads at once; separate handles
 *   may be used from separate threads freely.
 */
#ifndef GUESTKIT_H
#define GUESTKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GK_VERSION_MAJOR 0
#define GK_VERSION_MINOR 1
#define GK_VERSION_RELEASE 0

typedef struct gk_h gk_h;

/* Handle. */
extern gk_h *gk_create (void);
extern void gk_close (gk_h *h);
extern const char *gk_version (void);

/* Errors.  gk_last_error (NULL) returns the reason the last gk_create in
 * this thread failed.
 */
typedef void (*gk_error_handler_cb) (gk_h *h, void *opaque, const char *msg);
extern const char *gk_last_error (gk_h *h);
extern int gk_last_errno (gk_h *h);
extern void gk_set_error_handler (gk_h *h, gk_error_handler_cb cb,
                                  void *opaque);
extern gk_error_handler_cb gk_get_error_handler (gk_h *h, void **opaque_rtn);
extern int gk_push_error_handler (gk_h *h, gk_error_handler_cb cb,
                                  void *opaque);
extern int gk_pop_error_handler (gk_h *h);

/* Debugging and tracing. */
#define GK_LOG_DEBUG 1
#define GK_LOG_TRACE 2
#define GK_LOG_WARNING 3
typedef void (*gk_log_cb) (gk_h *h, void *opaque, int level, const char *msg);
extern void gk_set_log_callback (gk_h *h, gk_log_cb cb, void *opaque);
extern void gk_set_verbose (gk_h *h, int verbose);
extern int gk_get_verbose (gk_h *h);
extern void gk_set_trace (gk_h *h, int trace);
extern int gk_get_trace (gk_h *h);

/* Drives.  A drive is a local file or block device, or a URI
 * (nbd://, iscsi://, rbd://, ssh://, http(s)://, ...).  Drives are
 * read-only unless GK_DRIVE_READWRITE is given.  format NULL means probe
 * (unsafe for untrusted raw images); blocksize 0 means the default.
 */
#define GK_DRIVE_READWRITE 1
extern int gk_add_drive (gk_h *h, const char *path_or_uri,
                         const char *format, int blocksize,
                         unsigned flags);
extern int gk_add_domain (gk_h *h, const char *name_or_uuid,
                          const char *libvirt_uri, unsigned flags);
extern size_t gk_nr_drives (gk_h *h);

/* libvirt domains. */
struct gk_domain {
  char *name;
  char *uuid;
};
extern int gk_list_domains (gk_h *h, const char *libvirt_uri,
                            struct gk_domain **domains_rtn, size_t *n_rtn);
extern void gk_free_domains (struct gk_domain *domains, size_t n);

/* Progress: done of total (bytes, or steps); non-zero to cancel where
 * the caller says so (gk_vol_upload, gk_clone_domain).
 */
typedef int (*gk_progress_cb) (void *opaque, uint64_t done, uint64_t total);

/* The engine: native (in-process, read-only) with the appliance as the
 * fallback (auto, the default), only the appliance, or only native.
 */
#define GK_ENGINE_AUTO 0
#define GK_ENGINE_APPLIANCE 1
#define GK_ENGINE_NATIVE 2
extern int gk_set_engine (gk_h *h, int engine);
extern int gk_get_engine (gk_h *h);

/* The appliance. */
#define GK_ACCEL_AUTO 0
#define GK_ACCEL_KVM 1
#define GK_ACCEL_TCG 2
extern int gk_set_accel (gk_h *h, int accel);
extern int gk_get_accel (gk_h *h);
extern int gk_set_launch_timeout (gk_h *h, int seconds);
extern int gk_launch (gk_h *h);
extern int gk_shutdown (gk_h *h);
/* Functions that need the appliance launch it (autolaunch, the default).
 * With autolaunch off they fail until gk_launch was called, with
 * libguestfs's own message ("ls0: call launch before using this
 * function"), as guestfish users expect.
 */
extern int gk_set_autolaunch (gk_h *h, int autolaunch);
extern int gk_is_launched (gk_h *h);
/* Progress of long appliance operations (upload, download, tar, ...):
 * cb(opaque, done, total) is called from the calling thread; its return
 * value is ignored.  NULL turns it off.
 */
extern void gk_set_progress_callback (gk_h *h, gk_progress_cb cb,
                                      void *opaque);

/* Block devices and filesystems. */
extern char **gk_list_devices (gk_h *h);
extern char **gk_list_filesystems (gk_h *h);
extern char *gk_canonical_device_name (gk_h *h, const char *device);
extern int gk_mount_ro (gk_h *h, const char *mountable,
                        const char *mountpoint);
extern int gk_umount_all (gk_h *h);

struct gk_statvfs {
  int64_t bsize;
  int64_t frsize;
  int64_t blocks;
  int64_t bfree;
  int64_t bavail;
  int64_t files;
  int64_t ffree;
  int64_t favail;
  int64_t fsid;
  int64_t flag;
  int64_t namemax;
};
extern int gk_statvfs (gk_h *h, const char *path, struct gk_statvfs *ret);

/* Usage of every filesystem in the guest (virt-df). */
struct gk_fs_usage {
  char *device;          /* canonical device name: /dev/sda1, /dev/VG/LV, ... */
  char *fstype;          /* vfs type: ext4, xfs, btrfs, vfat, ... */
  char *skip_reason;     /* NULL, or why no usage is available */
  struct gk_statvfs st;  /* valid only when skip_reason is NULL */
};
extern int gk_df (gk_h *h, struct gk_fs_usage **usage_rtn, size_t *n_rtn);
extern void gk_free_fs_usage (struct gk_fs_usage *usage, size_t n);

/* gk_df on each of several libvirt domains, each in its own appliance, up
 * to max_threads at a time (0 = as many as memory and CPUs allow).  cb is
 * called once per domain, in the order of the list, from the calling
 * thread: status 0 with the usage; 1 if the domain's disks could not be
 * added (skipped, as virt-df skips it); -1 with an error message.  Returns
 * 0 if every domain's status was 0 or 1, else -1 (the error is set).
 */
typedef void (*gk_df_domain_cb) (void *opaque, const struct gk_domain *dom,
                                 int status, const struct gk_fs_usage *usage,
                                 size_t n, const char *message);
extern int gk_df_domains (gk_h *h, const char *libvirt_uri,
                          const struct gk_domain *domains, size_t n,
                          size_t max_threads, gk_df_domain_cb cb,
                          void *opaque);

/* Operating system inspection. */
struct gk_os_info {
  char *root;            /* the root filesystem */
  char *type;            /* linux, windows, ... */
  char *distro;          /* debian, fedora, ... */
  char *product_name;
  int major_version;
  int minor_version;
  char *hostname;
  char *arch;
  char *package_format;  /* deb, rpm, ... */
  char **mountpoints;    /* mountpoint, device, ... NULL */
};
extern char **gk_inspect_os (gk_h *h);
extern struct gk_os_info *gk_inspect_get_info (gk_h *h, const char *root);
extern void gk_free_os_info (struct gk_os_info *info);

/* More of the OS inspection (guestfish's inspect-get-*).  The roots the
 * last gk_inspect_os found; one inspection field of a root by name
 * ("type", "distro", "product-name", "product-variant", "hostname",
 * "arch", "package-format", "package-management", "osinfo", "format",
 * "windows-systemroot", ...), as a string; the filesystems of a root.
 */
extern char **gk_inspect_get_roots (gk_h *h);
extern char *gk_inspect_get (gk_h *h, const char *root, const char *field);
extern char **gk_inspect_get_filesystems (gk_h *h, const char *root);
/* mountpoint, device pairs (NULL-terminated). */
extern char **gk_inspect_get_mountpoints (gk_h *h, const char *root);
/* Windows: drive letter, device pairs ("C", "/dev/sda2", ...). */
extern char **gk_inspect_get_drive_mappings (gk_h *h, const char *root);

/* The file-level API: the appliance engine, read-write where the drives
 * are.  These are what guestfish's commands call, and what a backup tool
 * links to read files out of a guest.  Paths are guest paths (absolute);
 * a filesystem must be mounted on / first.  Functions returning a count,
 * a size or a boolean return -1 on error.
 */

/* Mounting.  options NULL or "" means none; fstype NULL means probe. */
extern int gk_mount (gk_h *h, const char *mountable, const char *mountpoint,
                     const char *options, const char *fstype);
#define GK_UMOUNT_FORCE 1
#define GK_UMOUNT_LAZY  2
extern int gk_umount (gk_h *h, const char *path_or_device, unsigned flags);
/* Mounted devices; and device, mountpoint pairs (NULL-terminated). */
extern char **gk_mounts (gk_h *h);
extern char **gk_mountpoints (gk_h *h);
extern int gk_sync (gk_h *h);
/* Sync the disks when the appliance shuts down (default on). */
extern int gk_set_autosync (gk_h *h, int autosync);
/* Run the appliance in its own process group, so that a terminal's
 * Ctrl-C reaches only the program (which may call gk_user_cancel), not
 * qemu.  Takes effect at the next launch.  Default off.
 */
extern int gk_set_pgroup (gk_h *h, int pgroup);

/* Block devices, partitions, LVM. */
extern char **gk_list_partitions (gk_h *h);
extern char **gk_lvs (gk_h *h);
extern char **gk_vgs (gk_h *h);
extern char **gk_pvs (gk_h *h);
struct gk_part_entry {
  int32_t part_num;
  uint64_t part_start;           /* bytes */
  uint64_t part_end;             /* bytes, inclusive */
  uint64_t part_size;
};
extern int gk_part_list (gk_h *h, const char *device,
                         struct gk_part_entry **parts_rtn, size_t *n_rtn);
extern char *gk_part_get_parttype (gk_h *h, const char *device);
extern int64_t gk_blockdev_getsize64 (gk_h *h, const char *device);
extern char *gk_vfs_type (gk_h *h, const char *mountable);
extern char *gk_vfs_label (gk_h *h, const char *mountable);
extern char *gk_vfs_uuid (gk_h *h, const char *mountable);
/* blkid's key, value pairs (NULL-terminated). */
extern char **gk_blkid (gk_h *h, const char *device);
/* The text of df (human: df -h) over the mounted filesystems. */
#define GK_DF_HUMAN 1
extern char *gk_df_text (gk_h *h, unsigned flags);

/* Making disks (guestfish -N and its commands).  parttype: mbr, gpt. */
extern int gk_part_disk (gk_h *h, const char *device, const char *parttype);
extern int gk_mkfs (gk_h *h, const char *fstype, const char *device);
extern int gk_pvcreate (gk_h *h, const char *device);
extern int gk_vgcreate (gk_h *h, const char *vg, const char *const *pvs);
extern int gk_lvcreate (gk_h *h, const char *lv, const char *vg,
                        int megabytes);
extern int gk_lvcreate_free (gk_h *h, const char *lv, const char *vg,
                             int percent);

/* Directories and files. */
extern char **gk_ls (gk_h *h, const char *dir);
/* ls -la output, for humans. */
extern char *gk_ll (gk_h *h, const char *dir);
/* The whole file; *size_rtn gets its size (it may hold NUL bytes). */
extern char *gk_read_file (gk_h *h, const char *path, size_t *size_rtn);
/* The first (last) n lines.  n < 0: head gives all but the last -n
 * lines, tail the lines from line -n on (libguestfs's head_n, tail_n).
 */
extern char **gk_head (gk_h *h, const char *path, int n);
extern char **gk_tail (gk_h *h, const char *path, int n);
#define GK_WRITE_APPEND 1
extern int gk_write (gk_h *h, const char *path, const char *content,
                     size_t size, unsigned flags);
extern int gk_touch (gk_h *h, const char *path);
#define GK_MKDIR_PARENTS 1
extern int gk_mkdir (gk_h *h, const char *path, unsigned flags);
#define GK_RM_RECURSIVE 1
#define GK_RM_FORCE     2
extern int gk_rm (gk_h *h, const char *path, unsigned flags);
extern int gk_rmdir (gk_h *h, const char *path);
#define GK_CP_ARCHIVE 1
extern int gk_cp (gk_h *h, const char *src, const char *dest, unsigned flags);
extern int gk_mv (gk_h *h, const char *src, const char *dest);
extern int gk_ln_s (gk_h *h, const char *target, const char *linkname);
extern char *gk_readlink (gk_h *h, const char *path);
/* The guest path that a path names case-insensitively (Windows guests):
 * "/WINDOWS/system32" -> "/Windows/System32".
 */
extern char *gk_case_sensitive_path (gk_h *h, const char *path);
extern int gk_chmod (gk_h *h, int mode, const char *path);
extern int gk_chown (gk_h *h, int owner, int group, const char *path);
struct gk_stat {
  int64_t dev;
  int64_t ino;
  int64_t mode;
  int64_t nlink;
  int64_t uid;
  int64_t gid;
  int64_t rdev;
  int64_t size;
  int64_t blksize;
  int64_t blocks;
  int64_t atime;
  int64_t mtime;
  int64_t ctime;
  int64_t atime_nsec;
  int64_t mtime_nsec;
  int64_t ctime_nsec;
};
#define GK_STAT_NOFOLLOW 1      /* lstat */
extern int gk_stat (gk_h *h, const char *path, struct gk_stat *ret,
                    unsigned flags);
/* 1 or 0, or -1 on error.  GK_FOLLOW_SYMLINKS: a link to a file (dir)
 * counts as one.
 */
#define GK_FOLLOW_SYMLINKS 1
extern int gk_is_file (gk_h *h, const char *path, unsigned flags);
extern int gk_is_dir (gk_h *h, const char *path, unsigned flags);
extern int gk_exists (gk_h *h, const char *path);
/* file(1)'s description of a guest file. */
extern char *gk_file (gk_h *h, const char *path);
extern int64_t gk_filesize (gk_h *h, const char *path);

/* Random access to a guest file, by path (the mount-local layer and
 * backup tools).  gk_pread: a malloc'd buffer of up to count bytes (fewer
 * at the end of the file; *len_rtn says how many), count at most
 * GK_PREAD_MAX.  gk_pwrite: bytes written, or -1.
 */
#define GK_PREAD_MAX (2 * 1024 * 1024)
extern char *gk_pread (gk_h *h, const char *path, size_t count,
                       int64_t offset, size_t *len_rtn);
extern int gk_pwrite (gk_h *h, const char *path, const void *buf,
                      size_t count, int64_t offset);
extern int gk_truncate (gk_h *h, const char *path, int64_t size);
/* GK_UTIME_NOW / GK_UTIME_OMIT in a nanoseconds field, as utimensat(2). */
#define GK_UTIME_NOW  ((1LL << 30) - 1)
#define GK_UTIME_OMIT ((1LL << 30) - 2)
extern int gk_utimens (gk_h *h, const char *path,
                       int64_t atsecs, int64_t atnsecs,
                       int64_t mtsecs, int64_t mtnsecs);
extern int gk_rename (gk_h *h, const char *oldpath, const char *newpath);
extern int gk_ln (gk_h *h, const char *target, const char *linkname);
extern int gk_lchown (gk_h *h, int owner, int group, const char *path);
extern int gk_mknod (gk_h *h, int mode, int devmajor, int devminor,
                     const char *path);
/* A directory's entries (without "." and ".."), in the directory's
 * order.  With GK_READDIR_STAT each entry's lstat is filled too (one more
 * appliance call for the whole directory).  type: 'b' 'c' 'd' 'f' 'l'
 * 'p' 's' or 'u' (unknown), as libguestfs's readdir.
 */
struct gk_dirent {
  char *name;
  char type;
  int64_t ino;
  struct gk_stat st;        /* with GK_READDIR_STAT only */
};
#define GK_READDIR_STAT 1
extern int gk_readdir (gk_h *h, const char *dir, unsigned flags,
                       struct gk_dirent **ents_rtn, size_t *n_rtn);
extern void gk_free_dirents (struct gk_dirent *ents, size_t n);
/* Extended attributes of path itself (not following a symbolic link). */
struct gk_xattr {
  char *name;               /* "user.foo", "security.selinux", ... */
  char *value;              /* value_len bytes, not NUL-terminated */
  size_t value_len;
};
extern int gk_lgetxattrs (gk_h *h, const char *path,
                          struct gk_xattr **xattrs_rtn, size_t *n_rtn);
extern void gk_free_xattrs (struct gk_xattr *xattrs, size_t n);
extern int gk_lsetxattr (gk_h *h, const char *name, const void *value,
                         size_t value_len, const char *path);
extern int gk_lremovexattr (gk_h *h, const char *name, const char *path);

/* Mount-local (guestmount(1)): serve the guest's filesystems on a host
 * directory through FUSE.
 *
 * gk_mount_local_add mounts mountable at mountpoint in the guest's
 * namespace, like gk_mount, for the tree gk_mount_local serves.  On a
 * handle whose drives are all read-only and whose appliance is not
 * running, an ext2/3/4 filesystem that the native engine is sure of is
 * served in process, without the appliance; anything else (and then
 * everything) is mounted in the appliance.  options and fstype may be
 * NULL.
 *
 * gk_mount_local mounts the tree on localmountpoint (an existing empty
 * directory); fuse_options are extra FUSE mount options ("allow_other,
 * uid=1000", or NULL); cache_timeout is how long, in seconds, file
 * attributes, directory entries, symbolic links and extended attributes
 * are cached (-1: the default, 60; our own changes through the mount
 * invalidate what they touch at once).  gk_mount_local_run serves
 * requests on several threads until the directory is unmounted
 * (guestunmount(1), fusermount3 -u), gk_umount_local is called, or
 * SIGTERM, SIGINT or SIGHUP arrives: then it unmounts, and returns 0 or
 * -1.  gk_mount_local_engine says which engine serves the tree:
 * "native" or "appliance".
 */
extern int gk_mount_local_add (gk_h *h, const char *mountable,
                               const char *mountpoint, const char *options,
                               const char *fstype);
#define GK_MOUNT_LOCAL_READONLY    1  /* refuse every change (EROFS) */
#define GK_MOUNT_LOCAL_DEBUG_CALLS 2  /* trace every FUSE request */
extern int gk_mount_local (gk_h *h, const char *localmountpoint,
                           const char *fuse_options, int cache_timeout,
                           unsigned flags);
extern int gk_mount_local_run (gk_h *h);
extern int gk_umount_local (gk_h *h);
extern const char *gk_mount_local_engine (gk_h *h);
/* Unmount the FUSE filesystem at mountpoint (fusermount3 -u) and wait
 * until the guestmount process serving it (mount source "guestmount:PID")
 * has exited, so that its disk images are closed (guestunmount(1)).
 * Returns 0 (unmounted), 1 (nothing is mounted there, from
 * /proc/self/mountinfo), or -1 with errno ENOENT (no such path), ENOTSUP
 * (not FUSE: left mounted), EBUSY (fusermount3 still failed after the
 * retries), ETIMEDOUT (unmounted, but the process did not exit in time),
 * ENOPKG (no fusermount3).  retries: tries after the first, 1, 2, 4 ...
 * s apart; wait_timeout: seconds (-1: 600; 0: do not wait); flags: 0.
 */
extern int gk_fuse_unmount (gk_h *h, const char *mountpoint, int retries,
                            int wait_timeout, unsigned flags);
/* Disk usage in KiB (du -s). */
extern int64_t gk_du (gk_h *h, const char *path);
/* Every path under dir, relative to it ("/sub/file"), sorted. */
extern char **gk_find (gk_h *h, const char *dir);
/* csumtype: crc, md5, sha1, sha224, sha256, sha384, sha512. */
extern char *gk_checksum (gk_h *h, const char *csumtype, const char *path);
/* Guest paths matching a glob pattern. */
extern char **gk_glob_expand (gk_h *h, const char *pattern);

/* Streams.  The data goes from or to the file descriptor fd (a file, a
 * pipe, a terminal or a socket), at its current offset; fd is left open.
 */
extern int gk_upload (gk_h *h, int fd, const char *path);
extern int gk_download (gk_h *h, const char *path, int fd);
/* compress: NULL (none), "compress", "gzip", "bzip2", "xz", "lzop". */
#define GK_TAR_XATTRS       1
#define GK_TAR_SELINUX      2
#define GK_TAR_ACLS         4
#define GK_TAR_NUMERICOWNER 8
extern int gk_tar_in (gk_h *h, int fd, const char *dir, const char *compress,
                      unsigned flags);
extern int gk_tar_out (gk_h *h, const char *dir, int fd, const char *compress,
                       const char *const *excludes, unsigned flags);

/* The appliance's optional features: every group, and whether one is
 * available (1/0, -1 on error).
 */
extern char **gk_available_all_groups (gk_h *h);
extern int gk_feature_available (gk_h *h, const char *group);

/* Storage pools and volumes.  Definitions live as libvirt-compatible XML
 * in the state directory (default /var/lib/guestkit for root, else
 * $XDG_DATA_HOME/guestkit; GUESTKIT_STATE_DIR overrides).
 */
extern int gk_set_state_dir (gk_h *h, const char *dir);
extern const char *gk_get_state_dir (gk_h *h);

#define GK_POOL_INACTIVE 0
#define GK_POOL_RUNNING 1
struct gk_pool_info {
  char *name;
  char *type;                   /* dir, lvm, iscsi, rbd */
  char *uuid;
  int state;                    /* GK_POOL_INACTIVE or GK_POOL_RUNNING */
  int autostart;
  int persistent;
  uint64_t capacity;            /* bytes; 0 when inactive */
  uint64_t allocation;
  uint64_t available;
};

/* The parameters of gk_pool_define (virsh pool-define-as). */
struct gk_pool_params {
  const char *source_host;      /* "host" or "host:port" */
  const char *source_path;      /* a device (lvm, iscsi: target IQN) */
  const char *source_name;      /* VG or VG/THINPOOL (lvm), rados pool */
  const char *source_format;
  const char *target;           /* the directory (dir) */
  const char *auth_type;        /* chap, ceph */
  const char *auth_username;
  const char *auth_secret;      /* env:NAME or file:PATH, never the secret */
  const char *initiator;        /* initiator IQN (iscsi) */
};

#define GK_POOL_BUILD_OVERWRITE 1
extern int gk_pool_define_xml (gk_h *h, const char *xml);
extern int gk_pool_define (gk_h *h, const char *type, const char *name,
                           const struct gk_pool_params *params);
extern int gk_pool_undefine (gk_h *h, const char *name);
extern int gk_pool_build (gk_h *h, const char *name, unsigned flags);
extern int gk_pool_start (gk_h *h, const char *name);
extern int gk_pool_stop (gk_h *h, const char *name);
extern int gk_pool_refresh (gk_h *h, const char *name);
extern int gk_pool_delete (gk_h *h, const char *name);
/* Temporary volumes a killed copy left (GK_TMP_PREFIX names), as a
 * NULL-terminated list (empty if none); gk_pool_clean removes them all
 * and returns how many, or -1.
 */
extern char **gk_pool_list_leftovers (gk_h *h, const char *name);
extern int gk_pool_clean (gk_h *h, const char *name);
extern char **gk_pool_list (gk_h *h);
extern struct gk_pool_info *gk_pool_get_info (gk_h *h, const char *name);
extern void gk_free_pool_info (struct gk_pool_info *info);
extern char *gk_pool_get_xml (gk_h *h, const char *name);
extern int gk_pool_set_autostart (gk_h *h, const char *name, int autostart);

struct gk_vol_info {
  char *pool;
  char *name;
  char *path;                   /* file or device, or a URI */
  char *format;                 /* raw, qcow2, ... */
  char *backing;                /* NULL if none */
  char *backing_format;
  uint64_t capacity;            /* bytes the guest sees */
  uint64_t allocation;          /* bytes allocated on the storage */
};

#define GK_VOL_RESIZE_SHRINK 1
#define GK_VOL_CLONE_REFLINK 1  /* fail unless a reflink copy is possible */
#define GK_VOL_CLONE_LINKED 2   /* qcow2 overlay / layered clone */
extern int gk_vol_create_xml (gk_h *h, const char *pool, const char *xml);
/* The parameters of gk_vol_create (virsh vol-create-as). */
struct gk_vol_params {
  uint64_t capacity;            /* bytes */
  int64_t allocation;           /* bytes allocated now; -1 = all */
  const char *format;           /* NULL = raw */
  const char *backing;          /* backing file path, or NULL */
  const char *backing_format;   /* required with backing */
};
extern int gk_vol_create (gk_h *h, const char *pool, const char *name,
                          const struct gk_vol_params *params);
extern int gk_vol_delete (gk_h *h, const char *pool, const char *name);
extern int gk_vol_resize (gk_h *h, const char *pool, const char *name,
                          uint64_t capacity, unsigned flags);
extern int gk_vol_clone (gk_h *h, const char *src_pool, const char *src,
                         const char *dst_pool, const char *dst,
                         unsigned flags);
extern int gk_vol_wipe (gk_h *h, const char *pool, const char *name);
/* Rename a volume; EEXIST if new_name exists. */
extern int gk_vol_rename (gk_h *h, const char *pool, const char *old_name,
                          const char *new_name);
extern int gk_vol_upload (gk_h *h, const char *pool, const char *name,
                          const char *local_file, gk_progress_cb cb,
                          void *opaque);
extern int gk_vol_download (gk_h *h, const char *pool, const char *name,
                            const char *local_file, gk_progress_cb cb,
                            void *opaque);
extern char **gk_vol_list (gk_h *h, const char *pool);
extern struct gk_vol_info *gk_vol_get_info (gk_h *h, const char *pool,
                                            const char *name);
extern void gk_free_vol_info (struct gk_vol_info *info);
extern char *gk_vol_get_xml (gk_h *h, const char *pool, const char *name);
extern char *gk_vol_get_path (gk_h *h, const char *pool, const char *name);
extern int gk_add_volume (gk_h *h, const char *pool, const char *name,
                          unsigned flags);

/* Clone a libvirt domain (virt-clone).  See guestkit(3). */
#define GK_CLONE_AUTO           1  /* generate the name and disk paths */
#define GK_CLONE_NONSPARSE      2  /* allocate the copies fully */
#define GK_CLONE_PRESERVE_DATA  4  /* use the files as they are, no copy */
#define GK_CLONE_REFLINK        8  /* fail unless every copy is a reflink */
#define GK_CLONE_LINKED        16  /* qcow2 overlays / layered clones */
#define GK_CLONE_REPLACE       32  /* replace a domain of the new name */
#define GK_CLONE_CHECK_PATH_IN_USE 1
#define GK_CLONE_CHECK_DISK_SIZE   2
#define GK_CLONE_CHECK_PATH_EXISTS 4
#define GK_CLONE_CHECK_MAC_IN_USE  8
#define GK_CLONE_CHECK_ALL        15
struct gk_clone_params {
  const char *connect;          /* libvirt URI, NULL = libvirt's default */
  const char *original;         /* name or UUID of a shut-off domain */
  const char *original_xml;     /* or the domain XML itself */
  const char *name;             /* NULL: generated (needs GK_CLONE_AUTO) */
  const char *uuid;             /* NULL: random */
  const char *const *files;     /* NULL-terminated new disk paths, or NULL */
  const char *const *macs;      /* NULL-terminated, "RANDOM" allowed */
  const char *const *force_copy; /* NULL-terminated disk targets (hdc) */
  const char *const *skip_copy;
  const char *nvram;            /* new NVRAM path, NULL: generated */
  const char *pool;             /* guestkit pool for cloned volumes */
  unsigned flags;               /* GK_CLONE_* */
  unsigned checks;              /* GK_CLONE_CHECK_* that are on */
  gk_progress_cb progress;      /* copies' progress, may be NULL */
  void *progress_opaque;
  /* Called before each copy with the new path and its size. */
  void (*copy_start) (void *opaque, const char *path, uint64_t size);
};
extern char *gk_clone_domain_xml (gk_h *h, const struct gk_clone_params *p);
extern char *gk_clone_domain (gk_h *h, const struct gk_clone_params *p);
/* Block-level access for backup tools (guestkit(3), "BLOCK-LEVEL ACCESS").
 *
 * A gk_disk is one guest-visible disk: a file (raw, qcow2 with its
 * backing chain, any format qemu reads), a pool volume, an NBD/iSCSI/RBD
 * URI, or a disk of a libvirt domain.  It belongs to the handle it was
 * opened with; use one handle per thread.
 */
typedef struct gk_disk gk_disk;

#define GK_DISK_READWRITE 1     /* open for writing (restore targets) */
#define GK_DISK_QUIESCE   2     /* running domains: freeze the guest's
                                 * filesystems (guest agent) while the
                                 * backup job starts */

extern gk_disk *gk_disk_open (gk_h *h, const char *path_or_uri,
                              const char *format, unsigned flags);
extern gk_disk *gk_disk_open_volume (gk_h *h, const char *pool,
                                     const char *name, unsigned flags);
/* Every disk (not cdroms or floppies) of a libvirt domain.  Shut off: the
 * disks as files and volumes.  Running: a libvirt backup job (pull mode)
 * that exposes a point-in-time view of every disk until the disks are
 * closed; with a checkpoint (libvirt checkpoints, qcow2 disks only) named
 * new_checkpoint, and changes since the checkpoint since.
 */
extern int gk_disk_open_domain (gk_h *h, const char *name,
                                const char *libvirt_uri,
                                const char *since,
                                const char *new_checkpoint, unsigned flags,
                                gk_disk ***disks_rtn, size_t *n_rtn);
extern void gk_disk_close (gk_disk *d);
/* Closes every disk, then frees the array (from gk_disk_open_domain). */
extern void gk_disk_close_all (gk_disk **disks, size_t n);

extern uint64_t gk_disk_get_size (gk_disk *d);
/* The disk's name: its target ("vda") for a domain's disk, else the path
 * or the POOL/VOLUME it was opened with.
 */
extern const char *gk_disk_get_name (gk_disk *d);
/* Where its data lives (a path or URI), and its format. */
extern const char *gk_disk_get_source (gk_disk *d);
extern const char *gk_disk_get_format (gk_disk *d);

/* Extents. */
#define GK_EXTENT_DATA 0        /* data */
#define GK_EXTENT_ZERO 1        /* allocated, reads as zeros */
#define GK_EXTENT_HOLE 2        /* not allocated, reads as zeros */
/* Called with consecutive extents in order; non-zero stops the walk and
 * is returned by the caller.
 */
typedef int (*gk_extent_cb) (void *opaque, uint64_t offset, uint64_t length,
                             unsigned type);
extern int gk_disk_extents (gk_disk *d, uint64_t offset, uint64_t length,
                            gk_extent_cb cb, void *opaque);
extern int gk_disk_pread (gk_disk *d, void *buf, size_t count,
                          uint64_t offset);
extern int gk_disk_pwrite (gk_disk *d, const void *buf, size_t count,
                           uint64_t offset);
/* Make a range read as zeros (punching holes where the storage can). */
extern int gk_disk_zero (gk_disk *d, uint64_t offset, uint64_t length);
extern int gk_disk_flush (gk_disk *d);

/* Reads as a stream of extents: cb gets each data extent with its bytes
 * (in pieces of at most GK_DISK_READ_MAX) and each zero or hole extent
 * with data NULL.  With since, only what changed since that checkpoint
 * (gk_disk_changed_extents) is reported; the rest is not mentioned.
 */
#define GK_DISK_READ_MAX (4 * 1024 * 1024)
typedef int (*gk_data_cb) (void *opaque, uint64_t offset, uint64_t length,
                           unsigned type, const void *data);
extern int gk_disk_read_extents (gk_disk *d, uint64_t offset,
                                 uint64_t length, const char *since,
                                 gk_data_cb cb, void *opaque);

/* Checkpoints ("points" to take changes from): qcow2 persistent dirty
 * bitmaps (shut-off disks), rbd snapshots, libvirt checkpoints (running
 * domains).  Fails with ENOTSUP where the source keeps none (raw files,
 * iSCSI LUNs).  Creating one pins later reads to it where the source can
 * (rbd: reads come from the snapshot).
 */
extern int gk_disk_checkpoint_create (gk_disk *d, const char *name);
extern int gk_disk_checkpoint_delete (gk_disk *d, const char *name);
extern char **gk_disk_checkpoint_list (gk_disk *d);
/* The extents written since the checkpoint: only GK_EXTENT_DATA ranges
 * are reported (changed; read them to see their new contents).
 */
extern int gk_disk_changed_extents (gk_disk *d, const char *since,
                                    uint64_t offset, uint64_t length,
                                    gk_extent_cb cb, void *opaque);
/* Progress of gk_disk_read_extents in bytes of the range; a non-zero
 * return from cb cancels it (ECANCELED), as does gk_user_cancel.
 */
extern void gk_disk_set_progress_callback (gk_disk *d, gk_progress_cb cb,
                                           void *opaque);

/* Backups (guestkit(3), "BACKUPS"; guestkit-backup(1)).  A backup
 * directory holds a chain: a full backup, then incremental ones, each in
 * a subdirectory named by its ID with a manifest.json, one image per disk
 * (a full backup: qcow2 or raw; an incremental one: a qcow2 overlay of
 * the previous backup's image) and each disk's block checksums.
 */
struct gk_backup_params {
  /* The source: a domain, a pool volume, or a file. */
  const char *domain;
  const char *libvirt_uri;      /* NULL: the default */
  const char *pool;
  const char *volume;
  const char *file;
  const char *file_format;      /* NULL: probed (read-only) */
  const char *dir;              /* the backup directory */
  const char *out_format;       /* full backups: "qcow2" (NULL) or "raw" */
  unsigned flags;               /* GK_BACKUP_* */
  gk_progress_cb progress;      /* bytes of the current disk */
  void *progress_opaque;
  /* Called before each disk with its name and size. */
  void (*disk_start) (void *opaque, const char *disk, uint64_t size);
};
#define GK_BACKUP_QUIESCE 1     /* freeze a running guest's filesystems */
/* Returns the new backup's ID (the caller frees it). */
extern char *gk_backup_full (gk_h *h, const struct gk_backup_params *p);
extern char *gk_backup_inc (gk_h *h, const struct gk_backup_params *p);
/* The IDs of the directory's backups, oldest first (NULL-terminated). */
extern char **gk_backup_list (gk_h *h, const char *dir);
/* The manifest (JSON) of a backup; id NULL: the latest. */
extern char *gk_backup_get_manifest (gk_h *h, const char *dir,
                                     const char *id);
/* Rebuild a disk as it was at backup id (NULL: the latest) into a new
 * file (out_format "raw" or "qcow2"), or into a new volume of a pool.
 * disk may be NULL when the backup has one disk.  Nothing is left behind
 * on failure.
 */
struct gk_restore_params {
  const char *dir;
  const char *id;
  const char *disk;
  const char *out_file;
  const char *out_format;       /* NULL: raw */
  const char *pool;             /* or: a new volume in this pool */
  const char *volume;
  gk_progress_cb progress;
  void *progress_opaque;
};
extern int gk_backup_restore (gk_h *h, const struct gk_restore_params *p);
/* Re-read every disk of backup id (NULL: the latest) through its chain and
 * compare with the recorded checksums.  0: all equal; -1: an error or a
 * mismatch (the error names the disk and the first bad block).
 */
extern int gk_backup_verify (gk_h *h, const char *dir, const char *id,
                             gk_progress_cb cb, void *opaque);
/* Add a disk of backup id (NULL: latest) as a read-only drive of h, for
 * file-level access (gk_ls, gk_cat, gk_mount_local, ...).
 */
extern int gk_backup_add_drive (gk_h *h, const char *dir, const char *id,
                                const char *disk);

/* Async-signal-safe: make the running long operation fail and undo. */
extern void gk_user_cancel (gk_h *h);

/* Free a NULL-terminated list of strings. */
extern void gk_free_string_list (char **list);

#ifdef __cplusplus
}
#endif

#endif /* GUESTKIT_H */
