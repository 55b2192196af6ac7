/* libguestkit: the appliance engine's public functions.
 *
 * The engine itself (libguestfs) is the appliance module,
 * modules/appliance.c, loaded on first use: a program that never needs
 * the appliance (virt-df on disks the native engine reads) then never
 * loads libguestfs and its dozens of libraries.  These functions trace,
 * check what needs no appliance, and forward.
 */
#include <config.h>

#include <stdlib.h>
#include <inttypes.h>
#include <errno.h>
#include <sys/stat.h>

#include "internal.h"
#include "modules.h"

/* The module once it is loaded, for gk_int_appliance_cancel: that runs
 * in signal handlers, so it must not load the module (dlopen and the
 * loader's mutex are not async-signal-safe), only read this pointer.
 */
static const struct gk_appliance_module *loaded_module;

static const struct gk_appliance_module *
appliance_module (gk_h *h)
{
  const struct gk_appliance_module *m;

  m = gk_int_module_get (h, "appliance", sizeof (struct gk_appliance_module));
  if (m)
    __atomic_store_n (&loaded_module, m, __ATOMIC_RELEASE);
  /* A call the native file API does not serve: the filesystems mounted
   * natively go into the appliance first (lib/files-native.c).
   */
  if (m && h->nfiles &&
      gk_int_files_native_to_appliance (h, m->mount_ro) == -1)
    return NULL;
  return m;
}

/* The module, or return ERR from the calling function. */
#define MODULE_OR_RETURN(m, err)                \
  do {                                          \
    if (((m) = appliance_module (h)) == NULL)   \
      return (err);                             \
  } while (0)

/* Refuse a NULL argument, or return ERR from the calling function. */
#define NOT_NULL_OR_RETURN(fn, arg, err)                                \
  do {                                                                  \
    if ((arg) == NULL) {                                                \
      error_errno (h, EINVAL, "%s: %s must not be NULL", (fn), #arg);   \
      return (err);                                                     \
    }                                                                   \
  } while (0)

/* Refuse a negative file descriptor, or return ERR. */
#define FD_OR_RETURN(fn, fd, err)                                       \
  do {                                                                  \
    if ((fd) < 0) {                                                     \
      error_errno (h, EBADF, "%s: %d is not a file descriptor",         \
                   (fn), (fd));                                         \
      return (err);                                                     \
    }                                                                   \
  } while (0)

void
gk_int_appliance_free (gk_h *h)
{
  const struct gk_appliance_module *m;

  /* No appliance was ever made: do not load the module just to say so. */
  if (h->appliance == NULL)
    return;
  /* It was loaded when the appliance was made, and is never unloaded. */
  m = appliance_module (h);
  if (m)
    m->appliance_free (h);
}

void
gk_int_appliance_cancel (gk_h *h)
{
  const struct gk_appliance_module *m;

  /* An appliance exists only if the module made it. */
  m = __atomic_load_n (&loaded_module, __ATOMIC_ACQUIRE);
  if (h->appliance != NULL && m != NULL)
    m->user_cancel (h);
}

int
gk_launch (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_launch");
  if (h->drives.len == 0) {
    error_errno (h, EINVAL, "launch: no drives were added");
    return -1;
  }
  MODULE_OR_RETURN (m, -1);
  return m->launch (h);
}

int
gk_set_launch_timeout (gk_h *h, int seconds)
{
  trace (h, "gk_set_launch_timeout %d", seconds);
  if (seconds <= 0) {
    error_errno (h, EINVAL, "set_launch_timeout: %d is not a positive "
                 "number of seconds", seconds);
    return -1;
  }
  h->launch_timeout = seconds;
  return 0;
}

int
gk_shutdown (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_shutdown");
  if (h->appliance == NULL)
    return 0;
  MODULE_OR_RETURN (m, -1);
  return m->shutdown (h);
}

int
gk_set_autolaunch (gk_h *h, int autolaunch)
{
  trace (h, "gk_set_autolaunch %d", autolaunch);
  h->autolaunch = autolaunch != 0;
  return 0;
}

int
gk_is_launched (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_is_launched");
  if (h->appliance == NULL)
    return 0;
  MODULE_OR_RETURN (m, -1);
  return m->is_launched (h);
}

void
gk_set_progress_callback (gk_h *h, gk_progress_cb cb, void *opaque)
{
  /* Read by the module's event callback, which is always subscribed. */
  h->progress_cb = cb;
  h->progress_cb_opaque = opaque;
}

char **
gk_list_devices (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_list_devices");
  MODULE_OR_RETURN (m, NULL);
  return m->list_devices (h);
}

char **
gk_list_filesystems (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_list_filesystems");
  MODULE_OR_RETURN (m, NULL);
  return m->list_filesystems (h);
}

char *
gk_canonical_device_name (gk_h *h, const char *device)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_canonical_device_name \"%s\"", device);
  MODULE_OR_RETURN (m, NULL);
  return m->canonical_device_name (h, device);
}

int
gk_mount_ro (gk_h *h, const char *mountable, const char *mountpoint)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_mount_ro \"%s\" \"%s\"", mountable, mountpoint);
  NOT_NULL_OR_RETURN ("mount_ro", mountable, -1);
  NOT_NULL_OR_RETURN ("mount_ro", mountpoint, -1);
  switch (gk_int_files_native_mount (h, mountable, mountpoint)) {
  case 0: return 0;
  case -1: return -1;
  }
  MODULE_OR_RETURN (m, -1);
  return m->mount_ro (h, mountable, mountpoint);
}

int
gk_umount_all (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_umount_all");
  if (h->nfiles && h->appliance == NULL) {
    gk_int_files_native_free (h);
    return 0;
  }
  MODULE_OR_RETURN (m, -1);
  return m->umount_all (h);
}

int
gk_statvfs (gk_h *h, const char *path, struct gk_statvfs *ret)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_statvfs \"%s\"", path);
  MODULE_OR_RETURN (m, -1);
  return m->statvfs (h, path, ret);
}

char **
gk_inspect_os (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_inspect_os");
  MODULE_OR_RETURN (m, NULL);
  return m->inspect_os (h);
}

void
gk_free_os_info (struct gk_os_info *info)
{
  if (info == NULL)
    return;
  free (info->root);
  free (info->type);
  free (info->distro);
  free (info->product_name);
  free (info->hostname);
  free (info->arch);
  free (info->package_format);
  free_string_list (info->mountpoints);
  free (info);
}

struct gk_os_info *
gk_inspect_get_info (gk_h *h, const char *root)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_inspect_get_info \"%s\"", root);
  MODULE_OR_RETURN (m, NULL);
  return m->inspect_get_info (h, root);
}

/* More of the OS inspection. */

char **
gk_inspect_get_roots (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_inspect_get_roots");
  MODULE_OR_RETURN (m, NULL);
  return m->inspect_get_roots (h);
}

char *
gk_inspect_get (gk_h *h, const char *root, const char *field)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_inspect_get \"%s\" \"%s\"", root, field);
  NOT_NULL_OR_RETURN ("inspect_get", root, NULL);
  NOT_NULL_OR_RETURN ("inspect_get", field, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->inspect_get (h, root, field);
}

char **
gk_inspect_get_filesystems (gk_h *h, const char *root)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_inspect_get_filesystems \"%s\"", root);
  NOT_NULL_OR_RETURN ("inspect_get_filesystems", root, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->inspect_get_filesystems (h, root);
}

char **
gk_inspect_get_drive_mappings (gk_h *h, const char *root)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_inspect_get_drive_mappings \"%s\"", root);
  NOT_NULL_OR_RETURN ("inspect_get_drive_mappings", root, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->inspect_get_drive_mappings (h, root);
}

char **
gk_inspect_get_mountpoints (gk_h *h, const char *root)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_inspect_get_mountpoints \"%s\"", root);
  NOT_NULL_OR_RETURN ("inspect_get_mountpoints", root, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->inspect_get_mountpoints (h, root);
}

/* Mounting. */

int
gk_mount (gk_h *h, const char *mountable, const char *mountpoint,
          const char *options, const char *fstype)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_mount \"%s\" \"%s\" %s %s", mountable, mountpoint,
         options ? options : "NULL", fstype ? fstype : "NULL");
  NOT_NULL_OR_RETURN ("mount", mountable, -1);
  NOT_NULL_OR_RETURN ("mount", mountpoint, -1);
  MODULE_OR_RETURN (m, -1);
  return m->mount (h, mountable, mountpoint, options, fstype);
}

int
gk_umount (gk_h *h, const char *path_or_device, unsigned flags)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_umount \"%s\" %u", path_or_device, flags);
  NOT_NULL_OR_RETURN ("umount", path_or_device, -1);
  MODULE_OR_RETURN (m, -1);
  return m->umount (h, path_or_device, flags);
}

char **
gk_mounts (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_mounts");
  MODULE_OR_RETURN (m, NULL);
  return m->mounts (h);
}

char **
gk_mountpoints (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_mountpoints");
  MODULE_OR_RETURN (m, NULL);
  return m->mountpoints (h);
}

int
gk_sync (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_sync");
  MODULE_OR_RETURN (m, -1);
  return m->sync (h);
}

int
gk_set_pgroup (gk_h *h, int pgroup)
{
  trace (h, "gk_set_pgroup %d", pgroup);
  /* Read by the module's launch. */
  h->pgroup = pgroup != 0;
  return 0;
}

int
gk_set_autosync (gk_h *h, int autosync)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_set_autosync %d", autosync);
  h->autosync = autosync != 0;
  /* No libguestfs handle yet: it gets h->autosync when it is made. */
  if (h->appliance == NULL)
    return 0;
  MODULE_OR_RETURN (m, -1);
  return m->set_autosync (h, h->autosync);
}

/* Block devices, partitions, LVM. */

char **
gk_list_partitions (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_list_partitions");
  MODULE_OR_RETURN (m, NULL);
  return m->list_partitions (h);
}

char **
gk_lvs (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_lvs");
  MODULE_OR_RETURN (m, NULL);
  return m->lvs (h);
}

char **
gk_vgs (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_vgs");
  MODULE_OR_RETURN (m, NULL);
  return m->vgs (h);
}

char **
gk_pvs (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_pvs");
  MODULE_OR_RETURN (m, NULL);
  return m->pvs (h);
}

int
gk_part_list (gk_h *h, const char *device, struct gk_part_entry **parts_rtn,
              size_t *n_rtn)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_part_list \"%s\"", device);
  NOT_NULL_OR_RETURN ("part_list", device, -1);
  NOT_NULL_OR_RETURN ("part_list", parts_rtn, -1);
  NOT_NULL_OR_RETURN ("part_list", n_rtn, -1);
  MODULE_OR_RETURN (m, -1);
  return m->part_list (h, device, parts_rtn, n_rtn);
}

char *
gk_part_get_parttype (gk_h *h, const char *device)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_part_get_parttype \"%s\"", device);
  NOT_NULL_OR_RETURN ("part_get_parttype", device, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->part_get_parttype (h, device);
}

int64_t
gk_blockdev_getsize64 (gk_h *h, const char *device)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_blockdev_getsize64 \"%s\"", device);
  NOT_NULL_OR_RETURN ("blockdev_getsize64", device, -1);
  MODULE_OR_RETURN (m, -1);
  return m->blockdev_getsize64 (h, device);
}

char *
gk_vfs_type (gk_h *h, const char *mountable)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_vfs_type \"%s\"", mountable);
  NOT_NULL_OR_RETURN ("vfs_type", mountable, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->vfs_type (h, mountable);
}

char *
gk_vfs_label (gk_h *h, const char *mountable)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_vfs_label \"%s\"", mountable);
  NOT_NULL_OR_RETURN ("vfs_label", mountable, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->vfs_label (h, mountable);
}

char *
gk_vfs_uuid (gk_h *h, const char *mountable)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_vfs_uuid \"%s\"", mountable);
  NOT_NULL_OR_RETURN ("vfs_uuid", mountable, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->vfs_uuid (h, mountable);
}

char **
gk_blkid (gk_h *h, const char *device)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_blkid \"%s\"", device);
  NOT_NULL_OR_RETURN ("blkid", device, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->blkid (h, device);
}

char *
gk_df_text (gk_h *h, unsigned flags)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_df_text %u", flags);
  MODULE_OR_RETURN (m, NULL);
  return m->df_text (h, flags);
}

/* Making disks. */

int
gk_part_disk (gk_h *h, const char *device, const char *parttype)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_part_disk \"%s\" \"%s\"", device, parttype);
  NOT_NULL_OR_RETURN ("part_disk", device, -1);
  NOT_NULL_OR_RETURN ("part_disk", parttype, -1);
  MODULE_OR_RETURN (m, -1);
  return m->part_disk (h, device, parttype);
}

int
gk_mkfs (gk_h *h, const char *fstype, const char *device)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_mkfs \"%s\" \"%s\"", fstype, device);
  NOT_NULL_OR_RETURN ("mkfs", fstype, -1);
  NOT_NULL_OR_RETURN ("mkfs", device, -1);
  MODULE_OR_RETURN (m, -1);
  return m->mkfs (h, fstype, device);
}

int
gk_pvcreate (gk_h *h, const char *device)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_pvcreate \"%s\"", device);
  NOT_NULL_OR_RETURN ("pvcreate", device, -1);
  MODULE_OR_RETURN (m, -1);
  return m->pvcreate (h, device);
}

int
gk_vgcreate (gk_h *h, const char *vg, const char *const *pvs)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_vgcreate \"%s\"", vg);
  NOT_NULL_OR_RETURN ("vgcreate", vg, -1);
  NOT_NULL_OR_RETURN ("vgcreate", pvs, -1);
  MODULE_OR_RETURN (m, -1);
  return m->vgcreate (h, vg, pvs);
}

int
gk_lvcreate (gk_h *h, const char *lv, const char *vg, int megabytes)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_lvcreate \"%s\" \"%s\" %d", lv, vg, megabytes);
  NOT_NULL_OR_RETURN ("lvcreate", lv, -1);
  NOT_NULL_OR_RETURN ("lvcreate", vg, -1);
  MODULE_OR_RETURN (m, -1);
  return m->lvcreate (h, lv, vg, megabytes);
}

int
gk_lvcreate_free (gk_h *h, const char *lv, const char *vg, int percent)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_lvcreate_free \"%s\" \"%s\" %d", lv, vg, percent);
  NOT_NULL_OR_RETURN ("lvcreate_free", lv, -1);
  NOT_NULL_OR_RETURN ("lvcreate_free", vg, -1);
  MODULE_OR_RETURN (m, -1);
  return m->lvcreate_free (h, lv, vg, percent);
}

/* Directories and files. */

char **
gk_ls (gk_h *h, const char *dir)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_ls \"%s\"", dir);
  NOT_NULL_OR_RETURN ("ls", dir, NULL);
  if (h->nfiles)
    return gk_int_files_native_ls (h, dir);
  MODULE_OR_RETURN (m, NULL);
  return m->ls (h, dir);
}

char *
gk_ll (gk_h *h, const char *dir)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_ll \"%s\"", dir);
  NOT_NULL_OR_RETURN ("ll", dir, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->ll (h, dir);
}

char *
gk_read_file (gk_h *h, const char *path, size_t *size_rtn)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_read_file \"%s\"", path);
  NOT_NULL_OR_RETURN ("read_file", path, NULL);
  if (h->nfiles)
    return gk_int_files_native_read_file (h, path, size_rtn);
  MODULE_OR_RETURN (m, NULL);
  return m->read_file (h, path, size_rtn);
}

char **
gk_head (gk_h *h, const char *path, int n)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_head \"%s\" %d", path, n);
  NOT_NULL_OR_RETURN ("head", path, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->head (h, path, n);
}

char **
gk_tail (gk_h *h, const char *path, int n)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_tail \"%s\" %d", path, n);
  NOT_NULL_OR_RETURN ("tail", path, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->tail (h, path, n);
}

int
gk_write (gk_h *h, const char *path, const char *content, size_t size,
          unsigned flags)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_write \"%s\" %zu %u", path, size, flags);
  NOT_NULL_OR_RETURN ("write", path, -1);
  if (content == NULL && size > 0) {
    error_errno (h, EINVAL, "write: content must not be NULL");
    return -1;
  }
  MODULE_OR_RETURN (m, -1);
  return m->write (h, path, content, size, flags);
}

int
gk_touch (gk_h *h, const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_touch \"%s\"", path);
  NOT_NULL_OR_RETURN ("touch", path, -1);
  MODULE_OR_RETURN (m, -1);
  return m->touch (h, path);
}

int
gk_mkdir (gk_h *h, const char *path, unsigned flags)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_mkdir \"%s\" %u", path, flags);
  NOT_NULL_OR_RETURN ("mkdir", path, -1);
  MODULE_OR_RETURN (m, -1);
  return m->mkdir (h, path, flags);
}

int
gk_rm (gk_h *h, const char *path, unsigned flags)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_rm \"%s\" %u", path, flags);
  NOT_NULL_OR_RETURN ("rm", path, -1);
  MODULE_OR_RETURN (m, -1);
  return m->rm (h, path, flags);
}

int
gk_rmdir (gk_h *h, const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_rmdir \"%s\"", path);
  NOT_NULL_OR_RETURN ("rmdir", path, -1);
  MODULE_OR_RETURN (m, -1);
  return m->rmdir (h, path);
}

int
gk_cp (gk_h *h, const char *src, const char *dest, unsigned flags)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_cp \"%s\" \"%s\" %u", src, dest, flags);
  NOT_NULL_OR_RETURN ("cp", src, -1);
  NOT_NULL_OR_RETURN ("cp", dest, -1);
  MODULE_OR_RETURN (m, -1);
  return m->cp (h, src, dest, flags);
}

int
gk_mv (gk_h *h, const char *src, const char *dest)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_mv \"%s\" \"%s\"", src, dest);
  NOT_NULL_OR_RETURN ("mv", src, -1);
  NOT_NULL_OR_RETURN ("mv", dest, -1);
  MODULE_OR_RETURN (m, -1);
  return m->mv (h, src, dest);
}

int
gk_ln_s (gk_h *h, const char *target, const char *linkname)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_ln_s \"%s\" \"%s\"", target, linkname);
  NOT_NULL_OR_RETURN ("ln_s", target, -1);
  NOT_NULL_OR_RETURN ("ln_s", linkname, -1);
  MODULE_OR_RETURN (m, -1);
  return m->ln_s (h, target, linkname);
}

char *
gk_readlink (gk_h *h, const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_readlink \"%s\"", path);
  NOT_NULL_OR_RETURN ("readlink", path, NULL);
  if (h->nfiles)
    return gk_int_files_native_readlink (h, path);
  MODULE_OR_RETURN (m, NULL);
  return m->readlink (h, path);
}

char *
gk_case_sensitive_path (gk_h *h, const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_case_sensitive_path \"%s\"", path);
  NOT_NULL_OR_RETURN ("case_sensitive_path", path, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->case_sensitive_path (h, path);
}

int
gk_chmod (gk_h *h, int mode, const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_chmod 0%o \"%s\"", (unsigned) mode, path);
  NOT_NULL_OR_RETURN ("chmod", path, -1);
  MODULE_OR_RETURN (m, -1);
  return m->chmod (h, mode, path);
}

int
gk_chown (gk_h *h, int owner, int group, const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_chown %d %d \"%s\"", owner, group, path);
  NOT_NULL_OR_RETURN ("chown", path, -1);
  MODULE_OR_RETURN (m, -1);
  return m->chown (h, owner, group, path);
}

int
gk_stat (gk_h *h, const char *path, struct gk_stat *ret, unsigned flags)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_stat \"%s\" %u", path, flags);
  NOT_NULL_OR_RETURN ("stat", path, -1);
  NOT_NULL_OR_RETURN ("stat", ret, -1);
  if (h->nfiles)
    return gk_int_files_native_stat (h, path, ret, flags);
  MODULE_OR_RETURN (m, -1);
  return m->stat (h, path, ret, flags);
}

int
gk_is_file (gk_h *h, const char *path, unsigned flags)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_is_file \"%s\" %u", path, flags);
  NOT_NULL_OR_RETURN ("is_file", path, -1);
  if (h->nfiles)
    return gk_int_files_native_is (h, path, flags, S_IFREG);
  MODULE_OR_RETURN (m, -1);
  return m->is_file (h, path, flags);
}

int
gk_is_dir (gk_h *h, const char *path, unsigned flags)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_is_dir \"%s\" %u", path, flags);
  NOT_NULL_OR_RETURN ("is_dir", path, -1);
  if (h->nfiles)
    return gk_int_files_native_is (h, path, flags, S_IFDIR);
  MODULE_OR_RETURN (m, -1);
  return m->is_dir (h, path, flags);
}

int
gk_exists (gk_h *h, const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_exists \"%s\"", path);
  NOT_NULL_OR_RETURN ("exists", path, -1);
  if (h->nfiles)
    return gk_int_files_native_is (h, path, 0, 0);
  MODULE_OR_RETURN (m, -1);
  return m->exists (h, path);
}

char *
gk_file (gk_h *h, const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_file \"%s\"", path);
  NOT_NULL_OR_RETURN ("file", path, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->file (h, path);
}

int64_t
gk_filesize (gk_h *h, const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_filesize \"%s\"", path);
  NOT_NULL_OR_RETURN ("filesize", path, -1);
  MODULE_OR_RETURN (m, -1);
  return m->filesize (h, path);
}

int64_t
gk_du (gk_h *h, const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_du \"%s\"", path);
  NOT_NULL_OR_RETURN ("du", path, -1);
  MODULE_OR_RETURN (m, -1);
  return m->du (h, path);
}

char **
gk_find (gk_h *h, const char *dir)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_find \"%s\"", dir);
  NOT_NULL_OR_RETURN ("find", dir, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->find (h, dir);
}

char *
gk_checksum (gk_h *h, const char *csumtype, const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_checksum \"%s\" \"%s\"", csumtype, path);
  NOT_NULL_OR_RETURN ("checksum", csumtype, NULL);
  NOT_NULL_OR_RETURN ("checksum", path, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->checksum (h, csumtype, path);
}

char **
gk_glob_expand (gk_h *h, const char *pattern)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_glob_expand \"%s\"", pattern);
  NOT_NULL_OR_RETURN ("glob_expand", pattern, NULL);
  MODULE_OR_RETURN (m, NULL);
  return m->glob_expand (h, pattern);
}

/* Streams: the module passes the descriptor as /dev/fd/N. */

int
gk_upload (gk_h *h, int fd, const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_upload %d \"%s\"", fd, path);
  FD_OR_RETURN ("upload", fd, -1);
  NOT_NULL_OR_RETURN ("upload", path, -1);
  MODULE_OR_RETURN (m, -1);
  return m->upload (h, fd, path);
}

int
gk_download (gk_h *h, const char *path, int fd)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_download \"%s\" %d", path, fd);
  NOT_NULL_OR_RETURN ("download", path, -1);
  FD_OR_RETURN ("download", fd, -1);
  if (h->nfiles)
    return gk_int_files_native_download (h, path, fd);
  MODULE_OR_RETURN (m, -1);
  return m->download (h, path, fd);
}

int
gk_tar_in (gk_h *h, int fd, const char *dir, const char *compress,
           unsigned flags)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_tar_in %d \"%s\" %s %u",
         fd, dir, compress ? compress : "NULL", flags);
  FD_OR_RETURN ("tar_in", fd, -1);
  NOT_NULL_OR_RETURN ("tar_in", dir, -1);
  MODULE_OR_RETURN (m, -1);
  return m->tar_in (h, fd, dir, compress, flags);
}

int
gk_tar_out (gk_h *h, const char *dir, int fd, const char *compress,
            const char *const *excludes, unsigned flags)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_tar_out \"%s\" %d %s %u",
         dir, fd, compress ? compress : "NULL", flags);
  NOT_NULL_OR_RETURN ("tar_out", dir, -1);
  FD_OR_RETURN ("tar_out", fd, -1);
  MODULE_OR_RETURN (m, -1);
  return m->tar_out (h, dir, fd, compress, excludes, flags);
}

/* The appliance's optional features. */

char **
gk_available_all_groups (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_available_all_groups");
  MODULE_OR_RETURN (m, NULL);
  return m->available_all_groups (h);
}

int
gk_feature_available (gk_h *h, const char *group)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_feature_available \"%s\"", group);
  NOT_NULL_OR_RETURN ("feature_available", group, -1);
  MODULE_OR_RETURN (m, -1);
  return m->feature_available (h, group);
}

/* Random access and the rest of what mount-local needs
 * (lib/mount-local.c).  Trace lines stay short: a read or write's data is
 * never printed.
 */
char *
gk_pread (gk_h *h, const char *path, size_t count, int64_t offset,
          size_t *len_rtn)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_pread \"%s\" %zu %" PRIi64, path, count, offset);
  NOT_NULL_OR_RETURN ("pread", path, NULL);
  NOT_NULL_OR_RETURN ("pread", len_rtn, NULL);
  if (count > GK_PREAD_MAX || offset < 0) {
    error_errno (h, EINVAL, "pread: %s: count %zu or offset %" PRIi64
                 " out of range", path, count, offset);
    return NULL;
  }
  MODULE_OR_RETURN (m, NULL);
  return m->pread (h, path, count, offset, len_rtn);
}

int
gk_pwrite (gk_h *h, const char *path, const void *buf, size_t count,
           int64_t offset)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_pwrite \"%s\" %zu %" PRIi64, path, count, offset);
  NOT_NULL_OR_RETURN ("pwrite", path, -1);
  NOT_NULL_OR_RETURN ("pwrite", buf, -1);
  if (count > GK_PREAD_MAX || offset < 0) {
    error_errno (h, EINVAL, "pwrite: %s: count %zu or offset %" PRIi64
                 " out of range", path, count, offset);
    return -1;
  }
  MODULE_OR_RETURN (m, -1);
  return m->pwrite (h, path, buf, count, offset);
}

int
gk_truncate (gk_h *h, const char *path, int64_t size)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_truncate \"%s\" %" PRIi64, path, size);
  NOT_NULL_OR_RETURN ("truncate", path, -1);
  MODULE_OR_RETURN (m, -1);
  return m->truncate (h, path, size);
}

int
gk_utimens (gk_h *h, const char *path, int64_t atsecs, int64_t atnsecs,
            int64_t mtsecs, int64_t mtnsecs)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_utimens \"%s\" %" PRIi64 ".%09" PRIi64 " %" PRIi64
         ".%09" PRIi64, path, atsecs, atnsecs, mtsecs, mtnsecs);
  NOT_NULL_OR_RETURN ("utimens", path, -1);
  MODULE_OR_RETURN (m, -1);
  return m->utimens (h, path, atsecs, atnsecs, mtsecs, mtnsecs);
}

int
gk_rename (gk_h *h, const char *oldpath, const char *newpath)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_rename \"%s\" \"%s\"", oldpath, newpath);
  NOT_NULL_OR_RETURN ("rename", oldpath, -1);
  NOT_NULL_OR_RETURN ("rename", newpath, -1);
  MODULE_OR_RETURN (m, -1);
  return m->rename (h, oldpath, newpath);
}

int
gk_ln (gk_h *h, const char *target, const char *linkname)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_ln \"%s\" \"%s\"", target, linkname);
  NOT_NULL_OR_RETURN ("ln", target, -1);
  NOT_NULL_OR_RETURN ("ln", linkname, -1);
  MODULE_OR_RETURN (m, -1);
  return m->ln (h, target, linkname);
}

int
gk_lchown (gk_h *h, int owner, int group, const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_lchown %d %d \"%s\"", owner, group, path);
  NOT_NULL_OR_RETURN ("lchown", path, -1);
  MODULE_OR_RETURN (m, -1);
  return m->lchown (h, owner, group, path);
}

int
gk_mknod (gk_h *h, int mode, int devmajor, int devminor, const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_mknod 0%o %d %d \"%s\"", (unsigned) mode, devmajor, devminor,
         path);
  NOT_NULL_OR_RETURN ("mknod", path, -1);
  MODULE_OR_RETURN (m, -1);
  return m->mknod (h, mode, devmajor, devminor, path);
}

int
gk_readdir (gk_h *h, const char *dir, unsigned flags,
            struct gk_dirent **ents_rtn, size_t *n_rtn)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_readdir \"%s\" %u", dir, flags);
  NOT_NULL_OR_RETURN ("readdir", dir, -1);
  NOT_NULL_OR_RETURN ("readdir", ents_rtn, -1);
  NOT_NULL_OR_RETURN ("readdir", n_rtn, -1);
  if (h->nfiles)
    return gk_int_files_native_readdir (h, dir, flags, ents_rtn, n_rtn);
  MODULE_OR_RETURN (m, -1);
  return m->readdir (h, dir, flags, ents_rtn, n_rtn);
}

void
gk_free_dirents (struct gk_dirent *ents, size_t n)
{
  size_t i;

  if (ents == NULL)
    return;
  for (i = 0; i < n; ++i)
    free (ents[i].name);
  free (ents);
}

int
gk_lgetxattrs (gk_h *h, const char *path, struct gk_xattr **xattrs_rtn,
               size_t *n_rtn)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_lgetxattrs \"%s\"", path);
  NOT_NULL_OR_RETURN ("lgetxattrs", path, -1);
  NOT_NULL_OR_RETURN ("lgetxattrs", xattrs_rtn, -1);
  NOT_NULL_OR_RETURN ("lgetxattrs", n_rtn, -1);
  MODULE_OR_RETURN (m, -1);
  return m->lgetxattrs (h, path, xattrs_rtn, n_rtn);
}

void
gk_free_xattrs (struct gk_xattr *xattrs, size_t n)
{
  size_t i;

  if (xattrs == NULL)
    return;
  for (i = 0; i < n; ++i) {
    free (xattrs[i].name);
    free (xattrs[i].value);
  }
  free (xattrs);
}

int
gk_lsetxattr (gk_h *h, const char *name, const void *value, size_t value_len,
              const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_lsetxattr \"%s\" %zu \"%s\"", name, value_len, path);
  NOT_NULL_OR_RETURN ("lsetxattr", name, -1);
  NOT_NULL_OR_RETURN ("lsetxattr", value, -1);
  NOT_NULL_OR_RETURN ("lsetxattr", path, -1);
  MODULE_OR_RETURN (m, -1);
  return m->lsetxattr (h, name, value, value_len, path);
}

int
gk_lremovexattr (gk_h *h, const char *name, const char *path)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_lremovexattr \"%s\" \"%s\"", name, path);
  NOT_NULL_OR_RETURN ("lremovexattr", name, -1);
  NOT_NULL_OR_RETURN ("lremovexattr", path, -1);
  MODULE_OR_RETURN (m, -1);
  return m->lremovexattr (h, name, path);
}
