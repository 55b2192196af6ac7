/* guestfish: commands on block devices, filesystems, mounts, LVM and OS
 * inspection, and the ones that make disks (part-disk, mkfs, LVM).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <inttypes.h>

#include "guestfish.h"
#include "cleanups.h"
#include "cmds.h"

int
run_list_devices (const char *cmd, size_t argc, char *argv[])
{
  return result_list (gk_list_devices (h));
}

int
run_list_partitions (const char *cmd, size_t argc, char *argv[])
{
  return result_list (gk_list_partitions (h));
}

int
run_list_filesystems (const char *cmd, size_t argc, char *argv[])
{
  return result_table (gk_list_filesystems (h));
}

/* lvs, vgs, pvs. */
int
run_lvm_list (const char *cmd, size_t argc, char *argv[])
{
  if (strcasecmp (cmd, "lvs") == 0)
    return result_list (gk_lvs (h));
  if (strcasecmp (cmd, "vgs") == 0)
    return result_list (gk_vgs (h));
  return result_list (gk_pvs (h));
}

int
run_part_list (const char *cmd, size_t argc, char *argv[])
{
  struct gk_part_entry *parts;
  size_t n, i;

  if (gk_part_list (h, argv[0], &parts, &n) == -1)
    return -1;
  for (i = 0; i < n; ++i)
    printf ("[%zu] = {\n"
            "  part_num: %" PRIi32 "\n"
            "  part_start: %" PRIu64 "\n"
            "  part_end: %" PRIu64 "\n"
            "  part_size: %" PRIu64 "\n"
            "}\n", i, parts[i].part_num, parts[i].part_start,
            parts[i].part_end, parts[i].part_size);
  free (parts);
  return 0;
}

int
run_part_get_parttype (const char *cmd, size_t argc, char *argv[])
{
  return result_string (gk_part_get_parttype (h, argv[0]));
}

int
run_blockdev_getsize64 (const char *cmd, size_t argc, char *argv[])
{
  return result_int64 (gk_blockdev_getsize64 (h, argv[0]));
}

/* vfs-type, vfs-label, vfs-uuid. */
int
run_vfs (const char *cmd, size_t argc, char *argv[])
{
  const char *what = cmd + 4;

  if (strcasecmp (what, "type") == 0)
    return result_string (gk_vfs_type (h, argv[0]));
  if (strcasecmp (what, "label") == 0)
    return result_string (gk_vfs_label (h, argv[0]));
  return result_string (gk_vfs_uuid (h, argv[0]));
}

int
run_blkid (const char *cmd, size_t argc, char *argv[])
{
  return result_table (gk_blkid (h, argv[0]));
}

int
run_statvfs (const char *cmd, size_t argc, char *argv[])
{
  struct gk_statvfs st;
  CLEANUP_FREE char *path = win_prefix (argv[0]);

  if (path == NULL || gk_statvfs (h, path, &st) == -1)
    return -1;
  printf ("bsize: %" PRIi64 "\n" "frsize: %" PRIi64 "\n"
          "blocks: %" PRIi64 "\n" "bfree: %" PRIi64 "\n"
          "bavail: %" PRIi64 "\n" "files: %" PRIi64 "\n"
          "ffree: %" PRIi64 "\n" "favail: %" PRIi64 "\n"
          "fsid: %" PRIi64 "\n" "flag: %" PRIi64 "\n"
          "namemax: %" PRIi64 "\n",
          st.bsize, st.frsize, st.blocks, st.bfree, st.bavail, st.files,
          st.ffree, st.favail, st.fsid, st.flag, st.namemax);
  return 0;
}

/* df, df-h. */
int
run_df (const char *cmd, size_t argc, char *argv[])
{
  return result_string (gk_df_text (h, strcasecmp (cmd, "df") == 0
                                    ? 0 : GK_DF_HUMAN));
}

/* mount, mount-ro, mount-options, mount-vfs. */
int
run_mount (const char *cmd, size_t argc, char *argv[])
{
  const char *c = cmd + 5;      /* after "mount" */
  CLEANUP_FREE char *mp = win_prefix (argv[argc - 1]);

  if (mp == NULL)
    return -1;
  if (*c == '\0')
    return gk_mount (h, argv[0], mp, NULL, NULL);
  if (strcasecmp (c + 1, "ro") == 0)
    return gk_mount_ro (h, argv[0], mp);
  if (strcasecmp (c + 1, "options") == 0)
    return gk_mount (h, argv[1], mp, argv[0], NULL);
  return gk_mount (h, argv[2], mp, argv[0], argv[1]);   /* mount-vfs */
}

/* umount pathordevice [force:..] [lazyunmount:..] */
int
run_umount (const char *cmd, size_t argc, char *argv[])
{
  static const char *const names[] = { "force", "lazyunmount", NULL };
  const char *values[2] = { NULL };
  unsigned flags = 0;
  int b;
  CLEANUP_FREE char *path = win_prefix (argv[0]);

  if (path == NULL ||
      parse_optargs (cmd, argc, argv, 1, names, values) == -1)
    return -1;
  if (values[0]) {
    if (parse_bool (cmd, values[0], &b) == -1)
      return -1;
    if (b) flags |= GK_UMOUNT_FORCE;
  }
  if (values[1]) {
    if (parse_bool (cmd, values[1], &b) == -1)
      return -1;
    if (b) flags |= GK_UMOUNT_LAZY;
  }
  return gk_umount (h, path, flags);
}

int
run_umount_all (const char *cmd, size_t argc, char *argv[])
{
  return gk_umount_all (h);
}

int
run_mounts (const char *cmd, size_t argc, char *argv[])
{
  return result_list (gk_mounts (h));
}

int
run_mountpoints (const char *cmd, size_t argc, char *argv[])
{
  return result_table (gk_mountpoints (h));
}

int
run_sync (const char *cmd, size_t argc, char *argv[])
{
  return gk_sync (h);
}

/* Making disks. */
int
run_part_disk (const char *cmd, size_t argc, char *argv[])
{
  return gk_part_disk (h, argv[0], argv[1]);
}

int
run_mkfs (const char *cmd, size_t argc, char *argv[])
{
  return gk_mkfs (h, argv[0], argv[1]);
}

int
run_pvcreate (const char *cmd, size_t argc, char *argv[])
{
  return gk_pvcreate (h, argv[0]);
}

int
run_vgcreate (const char *cmd, size_t argc, char *argv[])
{
  CLEANUP_FREE_STRING_LIST char **pvs = parse_string_list (argv[1]);

  if (pvs == NULL)
    return -1;
  return gk_vgcreate (h, argv[0], (const char *const *) pvs);
}

/* lvcreate logvol volgroup mbytes; lvcreate-free logvol volgroup percent */
int
run_lvcreate (const char *cmd, size_t argc, char *argv[])
{
  bool free_ = strcasecmp (cmd, "lvcreate") != 0;
  int64_t n;

  if (parse_int (cmd, free_ ? "percent" : "mbytes", argv[2],
                 -(2LL << 30), (2LL << 30) - 1, &n) == -1)
    return -1;
  if (free_)
    return gk_lvcreate_free (h, argv[0], argv[1], n);
  return gk_lvcreate (h, argv[0], argv[1], n);
}

/* Inspection. */
int
run_inspect_os (const char *cmd, size_t argc, char *argv[])
{
  return result_list (gk_inspect_os (h));
}

int
run_inspect_get_roots (const char *cmd, size_t argc, char *argv[])
{
  return result_list (gk_inspect_get_roots (h));
}

/* inspect-get-FIELD root: a string, except for the versions (ints),
 * the mountpoints (a table) and the filesystems (a list).
 */
int
run_inspect_get (const char *cmd, size_t argc, char *argv[])
{
  char field[64];
  size_t i;

  snprintf (field, sizeof field, "%s", cmd + strlen ("inspect-get-"));
  for (i = 0; field[i]; ++i)
    if (field[i] == '_')
      field[i] = '-';
  if (strcasecmp (field, "mountpoints") == 0)
    return result_table (gk_inspect_get_mountpoints (h, argv[0]));
  if (strcasecmp (field, "filesystems") == 0)
    return result_list (gk_inspect_get_filesystems (h, argv[0]));
  if (strcasecmp (field, "drive-mappings") == 0)
    return result_table (gk_inspect_get_drive_mappings (h, argv[0]));
  return result_string (gk_inspect_get (h, argv[0], field));
}

/* -i: inspect, then mount the root's filesystems, shortest mountpoint
 * first, read-only with --ro.  Only "/" failing is fatal.
 */
static int
compare_keys_len (const void *a, const void *b)
{
  const char *ka = *(char *const *) a, *kb = *(char *const *) b;
  int c = (int) strlen (ka) - (int) strlen (kb);

  return c ? c : strcmp (ka, kb);
}

static char *inspected_root;

int
inspect_mount (void)
{
  static const char advice[] =
    "\n"
    "If using guestfish ‘-i’ option, remove this option and instead\n"
    "use the commands ‘run’ followed by ‘list-filesystems’.\n"
    "You can then mount filesystems you want by hand using the\n"
    "‘mount’ or ‘mount-ro’ command.\n"
    "\n"
    "If using guestmount ‘-i’, remove this option and choose the\n"
    "filesystem(s) you want to see by manually adding ‘-m’ option(s).\n"
    "Use ‘virt-filesystems’ to see what filesystems are available.\n"
    "\n";
  CLEANUP_FREE_STRING_LIST char **roots = gk_inspect_os (h);
  CLEANUP_FREE_STRING_LIST char **mps = NULL;
  size_t i, n, errors = 0;

  if (roots == NULL)
    return -1;
  if (roots[0] == NULL || roots[1] != NULL) {
    fprintf (stderr, "guestfish: %s\n%s",
             roots[0] == NULL ? "no operating system was found on this disk"
             : "multi-boot operating systems are not supported", advice);
    fprintf (stderr, "If using other virt tools, %s won’t work\n"
             "with these tools.  Use the guestfish equivalent commands\n"
             "(see the virt tool manual page).\n",
             roots[0] == NULL ? "this disk image"
             : "multi-boot operating systems");
    return -1;
  }
  free (inspected_root);
  inspected_root = strdup (roots[0]);
  mps = gk_inspect_get_mountpoints (h, roots[0]);
  if (mps == NULL)
    return -1;
  for (n = 0; mps[n]; n += 2)
    ;
  qsort (mps, n / 2, 2 * sizeof (char *), compare_keys_len);
  for (i = 0; mps[i]; i += 2) {
    int r = read_only ? gk_mount_ro (h, mps[i + 1], mps[i])
                      : gk_mount (h, mps[i + 1], mps[i], NULL, NULL);
    if (r == -1) {
      if (strcmp (mps[i], "/") == 0)
        return -1;
      errors++;
    }
  }
  if (errors)
    fprintf (stderr, "guestfish: some filesystems could not be mounted "
             "(ignored)\n");
  return 0;
}

static int
compare_keys (const void *a, const void *b)
{
  return strcasecmp (*(char *const *) a, *(char *const *) b);
}

/* After the welcome banner, with -i: what was found and mounted, by
 * mountpoint, then a blank line.
 */
void
print_inspect_prompt (void)
{
  CLEANUP_FREE char *name = NULL;
  CLEANUP_FREE_STRING_LIST char **mps = NULL;
  size_t i, n;

  if (inspected_root == NULL)
    return;
  name = gk_inspect_get (h, inspected_root, "product-name");
  if (name && strcmp (name, "unknown") != 0)
    printf ("Operating system: %s\n", name);
  mps = gk_inspect_get_mountpoints (h, inspected_root);
  if (mps != NULL) {
    for (n = 0; mps[n]; n += 2)
      ;
    qsort (mps, n / 2, 2 * sizeof (char *), compare_keys);
    for (i = 0; mps[i]; i += 2) {
      CLEANUP_FREE char *dev = NULL;

      /* Canonical names where the appliance knows them. */
      gk_push_error_handler (h, NULL, NULL);
      dev = gk_canonical_device_name (h, mps[i + 1]);
      gk_pop_error_handler (h);
      printf ("%s mounted on %s\n", dev ? dev : mps[i + 1], mps[i]);
    }
  }
  printf ("\n");
}
