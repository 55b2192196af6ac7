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
#include <errno.h>

#include "internal.h"
#include "modules.h"

static const struct gk_appliance_module *
appliance_module (gk_h *h)
{
  return gk_int_module_get (h, "appliance",
                            sizeof (struct gk_appliance_module));
}

/* The module, or return ERR from the calling function. */
#define MODULE_OR_RETURN(m, err)                \
  do {                                          \
    if (((m) = appliance_module (h)) == NULL)   \
      return (err);                             \
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
  MODULE_OR_RETURN (m, -1);
  return m->mount_ro (h, mountable, mountpoint);
}

int
gk_umount_all (gk_h *h)
{
  const struct gk_appliance_module *m;

  trace (h, "gk_umount_all");
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
