/* libguestkit: usage of every filesystem in a guest (what virt-df shows).
 *
 * The steps are those of libguestfs's virt-df, so that the rows, their
 * order and their numbers are the same: list the filesystems, skip those
 * with no mountable content (empty type, swap, unknown), mount each of the
 * others read-only on /, statvfs, unmount.  A filesystem that fails to
 * mount is kept in the list with the reason, which virt-df -v prints.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include "internal.h"

void
gk_free_fs_usage (struct gk_fs_usage *usage, size_t n)
{
  size_t i;

  if (usage == NULL)
    return;
  for (i = 0; i < n; ++i) {
    free (usage[i].device);
    free (usage[i].fstype);
    free (usage[i].skip_reason);
  }
  free (usage);
}

/* Why a filesystem of this type has no usage, or NULL if it may have. */
static const char *
unmountable_reason (const char *fstype)
{
  if (strcmp (fstype, "") == 0)
    return "no filesystem type";
  if (strcmp (fstype, "swap") == 0)
    return "swap space is not a filesystem";
  if (strcmp (fstype, "unknown") == 0)
    return "unknown content (no filesystem found)";
  return NULL;
}

static void
ignore_error (gk_h *h, void *opaque, const char *msg)
{
}

/* libguestfs names btrfs subvolumes "btrfsvol:DEVICE/PATH" without
 * translating DEVICE from the appliance's names to the guest's: when the
 * appliance's own disk happens to be enumerated first (a race at boot),
 * a subvolume of /dev/sda1 is reported as btrfsvol:/dev/sdb1/PATH.  The
 * subvolumes follow their whole device in the list, so name them after
 * it.  (The mountable itself is left as the appliance gave it.)
 */
static char *
btrfsvol_display_name (gk_h *h, const char *mountable, const char *whole)
{
  const char *inner = mountable + strlen ("btrfsvol:");
  size_t len = strlen (whole);
  char *ret;

  if (strncmp (inner, "/dev/", 5) != 0 ||
      strncmp (whole, "/dev/", 5) != 0 || strlen (inner) <= len ||
      inner[len] != '/' || strncmp (inner, whole, len) == 0)
    return NULL;
  /* Out of memory: the caller falls back to the name as given. */
  if (asprintf (&ret, "btrfsvol:%s%s", whole, inner + len) == -1)
    return NULL;
  debug (h, "df: %s is a subvolume of %s: shown as %s", mountable, whole, ret);
  return ret;
}

static int
appliance_df (gk_h *h, struct gk_fs_usage **usage_rtn, size_t *n_rtn)
{
  CLEANUP_FREE_STRING_LIST char **devices = NULL;
  CLEANUP_FREE_STRING_LIST char **fses = NULL;
  struct gk_fs_usage *usage;
  size_t i, n = 0, nfs;
  const char *btrfs_whole = NULL;   /* the last whole btrfs device */

  /* virt-df lists the devices first; a failure there is an error. */
  devices = gk_list_devices (h);
  if (devices == NULL)
    return -1;
  fses = gk_list_filesystems (h);
  if (fses == NULL)
    return -1;

  for (nfs = 0; fses[nfs] != NULL; nfs += 2)
    ;
  nfs /= 2;
  usage = calloc (nfs + 1, sizeof *usage);
  if (usage == NULL) {
    perrorf (h, "df");
    return -1;
  }

  for (i = 0; fses[i] != NULL; i += 2) {
    struct gk_fs_usage *u = &usage[n];
    const char *reason = unmountable_reason (fses[i+1]);

    u->fstype = strdup (fses[i+1]);
    if (u->fstype == NULL)
      goto oom;
    if (reason == NULL) {
      /* Mounting may fail for good reasons (LUKS, a damaged filesystem):
       * that filesystem is left out, not an error of the whole call.
       */
      CLEANUP_FREE char *why = NULL;
      bool failed = false;

      gk_push_error_handler (h, ignore_error, NULL);
      if (gk_mount_ro (h, fses[i], "/") == -1)
        failed = true;
      else {
        if (gk_statvfs (h, "/", &u->st) == -1)
          failed = true;
        why = failed ? strdup (h->last_error) : NULL;
        gk_umount_all (h);
      }
      if (failed && why == NULL)
        why = strdup (h->last_error);
      gk_pop_error_handler (h);
      if (failed && why == NULL)
        goto oom;
      u->skip_reason = TAKE_PTR (why);
    }
    else if ((u->skip_reason = strdup (reason)) == NULL)
      goto oom;

    if (strncmp (fses[i], "btrfsvol:", 9) == 0 && btrfs_whole)
      u->device = btrfsvol_display_name (h, fses[i], btrfs_whole);
    else if (strcmp (fses[i+1], "btrfs") == 0)
      btrfs_whole = fses[i];
    if (u->device == NULL)
      u->device = gk_canonical_device_name (h, fses[i]);
    if (u->device == NULL) {
      gk_free_fs_usage (usage, n + 1);
      return -1;
    }
    n++;
  }
  *usage_rtn = usage;
  *n_rtn = n;
  return 0;

 oom:
  perrorf (h, "df");
  gk_free_fs_usage (usage, n + 1);
  return -1;
}

int
gk_df (gk_h *h, struct gk_fs_usage **usage_rtn, size_t *n_rtn)
{
  CLEANUP_FREE char *why = NULL;
  int r;

  trace (h, "gk_df");
  if (h->engine != GK_ENGINE_APPLIANCE) {
    r = gk_int_df_native (h, usage_rtn, n_rtn, &why);
    if (r != GK_NATIVE_UNSURE)
      return r;
    if (h->engine == GK_ENGINE_NATIVE) {
      error (h, "df: the native engine is not sure: %s", why ? why : "?");
      return -1;
    }
    debug (h, "df: the appliance reads this guest: %s", why ? why : "?");
  }
  return appliance_df (h, usage_rtn, n_rtn);
}
