/* libguestkit: the loadable modules (internal ABI).
 *
 * The parts of the library that need a heavy shared library are built as
 * modules in $(pkglibdir) (modules/Makefile.am) and dlopen'd on first use,
 * so that a program that never uses them (virt-df with the native engine)
 * never loads libguestfs, libvirt, librbd, librados, libiscsi or their
 * dependencies:
 *
 *   appliance.so    libguestfs   struct gk_appliance_module  (modules/appliance.c)
 *   domain.so       libvirt      struct gk_libvirt_module    (modules/domain.c)
 *   pool-rbd.so     librbd       struct pool_backend         (pools/rbd/rbd.c)
 *   pool-iscsi.so   libiscsi     struct pool_backend         (pools/iscsi/iscsi.c)
 *
 * Each module exports exactly one symbol, GK_MODULE_SYMBOL, pointing to
 * its struct.  The modules call back into libguestkit's internal helpers
 * (gk_int_*), exported for them in the GUESTKIT_PRIVATE version node.
 *
 * The ABI is internal: a module always comes from the same build as the
 * library.  Still, a stale module found in the module directory must not
 * crash the program, so every struct starts with its size and an ABI
 * version that the loader checks (as nbdkit does for its plugins).
 */
#ifndef GUESTKIT_MODULES_H
#define GUESTKIT_MODULES_H

#include <stddef.h>

#include "internal.h"

/* Bump when any module struct changes incompatibly. */
#define GK_MODULE_ABI_VERSION 3

#define GK_MODULE_SYMBOL "guestkit_module"

/* Every module struct starts with this header. */
struct gk_module_header {
  size_t size;                  /* sizeof the whole struct */
  int abi_version;              /* GK_MODULE_ABI_VERSION */
  const char *name;             /* "appliance", "domain", ... */
};

/* appliance.so: the libguestfs engine.  Each function is the body of the
 * gk_* function of the same name (lib/appliance.c traces and forwards).
 */
struct gk_appliance_module {
  struct gk_module_header hdr;
  int (*launch) (gk_h *h);
  int (*shutdown) (gk_h *h);
  void (*appliance_free) (gk_h *h);
  char **(*list_devices) (gk_h *h);
  char **(*list_filesystems) (gk_h *h);
  char *(*canonical_device_name) (gk_h *h, const char *device);
  int (*mount_ro) (gk_h *h, const char *mountable, const char *mountpoint);
  int (*umount_all) (gk_h *h);
  int (*statvfs) (gk_h *h, const char *path, struct gk_statvfs *ret);
  char **(*inspect_os) (gk_h *h);
  struct gk_os_info *(*inspect_get_info) (gk_h *h, const char *root);

  /* ABI 3: guestfish's calls.  1/0: a launched appliance exists. */
  int (*is_launched) (gk_h *h);
  /* Async-signal-safe: cancel the file transfer in progress. */
  void (*user_cancel) (gk_h *h);
  /* Only called once the appliance exists (else h->autosync is used). */
  int (*set_autosync) (gk_h *h, int autosync);
  char **(*inspect_get_roots) (gk_h *h);
  /* Unknown fields are refused before launching. */
  char *(*inspect_get) (gk_h *h, const char *root, const char *field);
  char **(*inspect_get_filesystems) (gk_h *h, const char *root);
  char **(*inspect_get_mountpoints) (gk_h *h, const char *root);
  int (*mount) (gk_h *h, const char *mountable, const char *mountpoint,
                const char *options, const char *fstype);
  int (*umount) (gk_h *h, const char *path_or_device, unsigned flags);
  char **(*mounts) (gk_h *h);
  char **(*mountpoints) (gk_h *h);
  int (*sync) (gk_h *h);
  char **(*list_partitions) (gk_h *h);
  char **(*lvs) (gk_h *h);
  char **(*vgs) (gk_h *h);
  char **(*pvs) (gk_h *h);
  int (*part_list) (gk_h *h, const char *device,
                    struct gk_part_entry **parts_rtn, size_t *n_rtn);
  char *(*part_get_parttype) (gk_h *h, const char *device);
  int64_t (*blockdev_getsize64) (gk_h *h, const char *device);
  char *(*vfs_type) (gk_h *h, const char *mountable);
  char *(*vfs_label) (gk_h *h, const char *mountable);
  char *(*vfs_uuid) (gk_h *h, const char *mountable);
  char **(*blkid) (gk_h *h, const char *device);
  char *(*df_text) (gk_h *h, unsigned flags);
  int (*part_disk) (gk_h *h, const char *device, const char *parttype);
  int (*mkfs) (gk_h *h, const char *fstype, const char *device);
  int (*pvcreate) (gk_h *h, const char *device);
  int (*vgcreate) (gk_h *h, const char *vg, const char *const *pvs);
  int (*lvcreate) (gk_h *h, const char *lv, const char *vg, int megabytes);
  int (*lvcreate_free) (gk_h *h, const char *lv, const char *vg,
                        int percent);
  char **(*ls) (gk_h *h, const char *dir);
  char *(*ll) (gk_h *h, const char *dir);
  char *(*read_file) (gk_h *h, const char *path, size_t *size_rtn);
  char **(*head) (gk_h *h, const char *path, int n);
  char **(*tail) (gk_h *h, const char *path, int n);
  int (*write) (gk_h *h, const char *path, const char *content, size_t size,
                unsigned flags);
  int (*touch) (gk_h *h, const char *path);
  int (*mkdir) (gk_h *h, const char *path, unsigned flags);
  int (*rm) (gk_h *h, const char *path, unsigned flags);
  int (*rmdir) (gk_h *h, const char *path);
  int (*cp) (gk_h *h, const char *src, const char *dest, unsigned flags);
  int (*mv) (gk_h *h, const char *src, const char *dest);
  int (*ln_s) (gk_h *h, const char *target, const char *linkname);
  char *(*readlink) (gk_h *h, const char *path);
  int (*chmod) (gk_h *h, int mode, const char *path);
  int (*chown) (gk_h *h, int owner, int group, const char *path);
  int (*stat) (gk_h *h, const char *path, struct gk_stat *ret,
               unsigned flags);
  int (*is_file) (gk_h *h, const char *path, unsigned flags);
  int (*is_dir) (gk_h *h, const char *path, unsigned flags);
  int (*exists) (gk_h *h, const char *path);
  char *(*file) (gk_h *h, const char *path);
  int64_t (*filesize) (gk_h *h, const char *path);
  int64_t (*du) (gk_h *h, const char *path);
  char **(*find) (gk_h *h, const char *dir);
  char *(*checksum) (gk_h *h, const char *csumtype, const char *path);
  char **(*glob_expand) (gk_h *h, const char *pattern);
  int (*upload) (gk_h *h, int fd, const char *path);
  int (*download) (gk_h *h, const char *path, int fd);
  int (*tar_in) (gk_h *h, int fd, const char *dir, const char *compress,
                 unsigned flags);
  int (*tar_out) (gk_h *h, const char *dir, int fd, const char *compress,
                  const char *const *excludes, unsigned flags);
  char **(*available_all_groups) (gk_h *h);
  int (*feature_available) (gk_h *h, const char *group);
  /* win: paths (guestfish). */
  char **(*inspect_get_drive_mappings) (gk_h *h, const char *root);
  char *(*case_sensitive_path) (gk_h *h, const char *path);
  /* Random access and the rest of what mount-local needs. */
  char *(*pread) (gk_h *h, const char *path, size_t count, int64_t offset,
                  size_t *len_rtn);
  int (*pwrite) (gk_h *h, const char *path, const void *buf, size_t count,
                 int64_t offset);
  int (*truncate) (gk_h *h, const char *path, int64_t size);
  int (*utimens) (gk_h *h, const char *path, int64_t atsecs, int64_t atnsecs,
                  int64_t mtsecs, int64_t mtnsecs);
  int (*rename) (gk_h *h, const char *oldpath, const char *newpath);
  int (*ln) (gk_h *h, const char *target, const char *linkname);
  int (*lchown) (gk_h *h, int owner, int group, const char *path);
  int (*mknod) (gk_h *h, int mode, int devmajor, int devminor,
                const char *path);
  int (*readdir) (gk_h *h, const char *dir, unsigned flags,
                  struct gk_dirent **ents_rtn, size_t *n_rtn);
  int (*lgetxattrs) (gk_h *h, const char *path, struct gk_xattr **xattrs_rtn,
                     size_t *n_rtn);
  int (*lsetxattr) (gk_h *h, const char *name, const void *value,
                    size_t value_len, const char *path);
  int (*lremovexattr) (gk_h *h, const char *name, const char *path);
};

/* domain.so: the libvirt API (lib/domain.c forwards). */
struct gk_libvirt_module {
  struct gk_module_header hdr;
  int (*add_domain) (gk_h *h, const char *name, const char *libvirt_uri,
                     unsigned flags);
  int (*list_domains) (gk_h *h, const char *libvirt_uri,
                       struct gk_domain **domains_rtn, size_t *n_rtn);
  char **(*domains_using_path) (gk_h *h, const char *path);
  /* virt-clone (lib/clone.c).  The inactive XML of a domain (secure
   * fields too); *shutoff_rtn says whether it is shut off.
   */
  char *(*get_domain_xml) (gk_h *h, const char *uri, const char *name,
                           bool *shutoff_rtn);
  /* The inactive XML of every defined domain, NULL-terminated. */
  char **(*all_domain_xml) (gk_h *h, const char *uri);
  /* 1 if a domain of this name exists, 0 if not, -1 on error. */
  int (*domain_exists) (gk_h *h, const char *uri, const char *name);
  int (*define_xml) (gk_h *h, const char *uri, const char *xml);
  /* Stop (if running) and undefine, keeping NVRAM and TPM state. */
  int (*undefine) (gk_h *h, const char *uri, const char *name);
  /* The hypervisor driver's name: "QEMU", "Test", ... */
  char *(*driver_type) (gk_h *h, const char *uri);
  /* gk_disk_open_domain (lib/disk.c, guestkit.h): every disk of the
   * domain as a gk_disk.  Shut off: files and volumes (gk_disk_open,
   * gk_disk_open_volume), since and new_checkpoint unused.  Running: a
   * libvirt pull-mode backup job (lib/disk-internal.h has the ops).
   */
  int (*disk_open_domain) (gk_h *h, const char *name, const char *uri,
                           const char *since, const char *new_checkpoint,
                           unsigned flags, gk_disk ***disks_rtn,
                           size_t *n_rtn);
};

/* pool-rbd.so, pool-iscsi.so: a storage pool backend (pools/registry.c
 * loads it when a pool of that type is used).
 */
struct pool_backend;
struct gk_pool_module {
  struct gk_module_header hdr;
  const struct pool_backend *backend;
};

/* lib/module.c: the module's struct, loading it on first use (once per
 * process; a module is never unloaded).  On failure: NULL with the
 * handle's error set ("cannot load the NAME module PATH: ...").
 * struct_size is the size the caller expects of the struct.
 */
extern const void *gk_int_module_get (gk_h *h, const char *name,
                                      size_t struct_size);

/* Define a module's exported struct. */
#define GK_MODULE_HEADER(struct_type, module_name) \
  { .size = sizeof (struct_type), .abi_version = GK_MODULE_ABI_VERSION, \
    .name = (module_name) }

#endif /* GUESTKIT_MODULES_H */
