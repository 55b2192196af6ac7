/* guestfish: the command table.  One entry per command: its name (with
 * dashes; '_' is accepted for '-' and case is ignored, as in the
 * reference), aliases, synopsis, one-line description, the number of
 * arguments and the function that runs it (cmds-*.c, copy.c).  Sorted
 * by name: that is the order of "help --list" and "-h".
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guestfish.h"
#include "cmds.h"

const struct command commands[] = {
  { "add-domain", "domain", "add-domain dom [libvirturi:..] [readonly:true|false] [iface:..] [live:true|false] [allowuuid:true|false] [readonlydisk:..] [cachemode:..] [discard:..] [copyonread:true|false]",
    "add the disk(s) from a named libvirt domain", NULL, 1, 10, run_add_domain },
  { "add-drive", "add", "add-drive filename [readonly:true|false] [format:..] [iface:..] [name:..] [label:..] [protocol:..] [server:..] [username:..] [secret:..] [cachemode:..] [discard:..] [copyonread:true|false] [blocksize:N]",
    "add an image to examine or modify", NULL, 1, 14, run_add },
  { "add-drive-ro", "add-ro", "add-drive-ro filename",
    "add a drive in snapshot mode (read-only)", NULL, 1, 1, run_add },
  { "alloc", "allocate", NULL,
    "allocate and add a disk file", NULL, 0, -1, run_alloc },
  { "blkid", NULL, "blkid device",
    "print block device attributes", NULL, 1, 1, run_blkid },
  { "blockdev-getsize64", NULL, "blockdev-getsize64 device",
    "get total size of device in bytes", NULL, 1, 1, run_blockdev_getsize64 },
  { "cat", NULL, "cat path",
    "list the contents of a file", NULL, 1, 1, run_cat },
  { "checksum", NULL, "checksum csumtype path",
    "compute MD5, SHAx or CRC checksum of file", NULL, 2, 2, run_checksum },
  { "chmod", NULL, "chmod mode path",
    "change file mode", NULL, 2, 2, run_chmod },
  { "chown", NULL, "chown owner group path",
    "change file owner and group", NULL, 3, 3, run_chown },
  { "copy-in", NULL, NULL,
    "copy local files or directories into an image", "use 'copy-in <local> [<local>...] <remotedir>' to copy files into the image\n", 2, -1, run_copy_in },
  { "copy-out", NULL, NULL,
    "copy remote files or directories out of an image", "use 'copy-out <remote> [<remote>...] <localdir>' to copy files out of the image\n", 2, -1, run_copy_out },
  { "cp", NULL, "cp src dest",
    "copy a file", NULL, 2, 2, run_cp_mv },
  { "cp-a", NULL, "cp-a src dest",
    "copy a file or directory recursively", NULL, 2, 2, run_cp_mv },
  { "df", NULL, "df",
    "report file system disk space usage", NULL, 0, 0, run_df },
  { "df-h", NULL, "df-h",
    "report file system disk space usage (human readable)", NULL, 0, 0, run_df },
  { "download", NULL, "download remotefilename filename",
    "download a file to the local machine", NULL, 2, 2, run_download },
  { "du", NULL, "du path",
    "estimate file space usage", NULL, 1, 1, run_du },
  { "echo", NULL, NULL,
    "display a line of text", NULL, 0, -1, run_echo },
  { "edit", "vi emacs", NULL,
    "edit a file", "use '%s filename' to edit a file\n", 1, 1, run_edit },
  { "exists", NULL, "exists path",
    "test if file or directory exists", NULL, 1, 1, run_exists },
  { "file", NULL, "file path",
    "determine file type", NULL, 1, 1, run_file },
  { "filesize", NULL, "filesize file",
    "return the size of the file in bytes", NULL, 1, 1, run_filesize },
  { "find", NULL, "find directory",
    "find all files and directories", NULL, 1, 1, run_find },
  { "glob", NULL, NULL,
    "expand wildcards in command", "use 'glob command [args...]'\n", 1, -1, run_glob },
  { "head", NULL, "head path",
    "return first 10 lines of a file", NULL, 1, 1, run_head_tail },
  { "head-n", NULL, "head-n nrlines path",
    "return first N lines of a file", NULL, 2, 2, run_head_tail },
  { "help", NULL, NULL,
    "display a list of commands or help on a command",
    "use 'help', 'help <cmd>' or 'help -l|--list' to list all commands\n",
    0, 1, run_help },
  { "inspect-get-arch", NULL, "inspect-get-arch root",
    "get architecture of inspected operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-get-distro", NULL, "inspect-get-distro root",
    "get distro of inspected operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-get-drive-mappings", NULL, "inspect-get-drive-mappings root",
    "get drive letter mappings", NULL, 1, 1, run_inspect_get },
  { "inspect-get-filesystems", NULL, "inspect-get-filesystems root",
    "get filesystems associated with inspected operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-get-format", NULL, "inspect-get-format root",
    "get format of inspected operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-get-hostname", NULL, "inspect-get-hostname root",
    "get hostname of the operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-get-major-version", NULL, "inspect-get-major-version root",
    "get major version of inspected operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-get-minor-version", NULL, "inspect-get-minor-version root",
    "get minor version of inspected operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-get-mountpoints", NULL, "inspect-get-mountpoints root",
    "get mountpoints of inspected operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-get-osinfo", NULL, "inspect-get-osinfo root",
    "get a possible osinfo short ID corresponding to this operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-get-package-format", NULL, "inspect-get-package-format root",
    "get package format used by the operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-get-package-management", NULL, "inspect-get-package-management root",
    "get package management tool used by the operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-get-product-name", NULL, "inspect-get-product-name root",
    "get product name of inspected operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-get-product-variant", NULL, "inspect-get-product-variant root",
    "get product variant of inspected operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-get-roots", NULL, "inspect-get-roots",
    "return list of operating systems found by last inspection", NULL, 0, 0, run_inspect_get_roots },
  { "inspect-get-type", NULL, "inspect-get-type root",
    "get type of inspected operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-get-windows-current-control-set", NULL, "inspect-get-windows-current-control-set root",
    "get Windows CurrentControlSet of inspected operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-get-windows-software-hive", NULL, "inspect-get-windows-software-hive root",
    "get the path of the Windows software hive", NULL, 1, 1, run_inspect_get },
  { "inspect-get-windows-system-hive", NULL, "inspect-get-windows-system-hive root",
    "get the path of the Windows system hive", NULL, 1, 1, run_inspect_get },
  { "inspect-get-windows-systemroot", NULL, "inspect-get-windows-systemroot root",
    "get Windows systemroot of inspected operating system", NULL, 1, 1, run_inspect_get },
  { "inspect-os", NULL, "inspect-os",
    "inspect disk and return list of operating systems found", NULL, 0, 0, run_inspect_os },
  { "is-dir", NULL, "is-dir path [followsymlinks:true|false]",
    "test if a directory", NULL, 1, 2, run_is_file_dir },
  { "is-file", NULL, "is-file path [followsymlinks:true|false]",
    "test if a regular file", NULL, 1, 2, run_is_file_dir },
  { "launch", "run", "launch",
    "launch the backend", NULL, 0, 0, run_launch },
  { "lcd", NULL, NULL,
    "change working directory", "use 'lcd directory' to change local directory\n", 1, 1, run_lcd },
  { "list-devices", NULL, "list-devices",
    "list the block devices", NULL, 0, 0, run_list_devices },
  { "list-filesystems", NULL, "list-filesystems",
    "list filesystems", NULL, 0, 0, run_list_filesystems },
  { "list-partitions", NULL, "list-partitions",
    "list the partitions", NULL, 0, 0, run_list_partitions },
  { "ll", NULL, "ll directory",
    "list the files in a directory (long format)", NULL, 1, 1, run_ll },
  { "ln-s", NULL, "ln-s target linkname",
    "create a symbolic link", NULL, 2, 2, run_ln_s },
  { "ls", NULL, "ls directory",
    "list the files in a directory", NULL, 1, 1, run_ls },
  { "lstat", NULL, "lstat path",
    "get file information for a symbolic link", NULL, 1, 1, run_stat },
  { "lvcreate", NULL, "lvcreate logvol volgroup mbytes",
    "create an LVM logical volume", NULL, 3, 3, run_lvcreate },
  { "lvcreate-free", NULL, "lvcreate-free logvol volgroup percent",
    "create an LVM logical volume in % remaining free space", NULL, 3, 3, run_lvcreate },
  { "lvs", NULL, "lvs",
    "list the LVM logical volumes (LVs)", NULL, 0, 0, run_lvm_list },
  { "man", "manual", NULL,
    "open the manual", NULL, 0, 0, run_man },
  { "mkdir", NULL, "mkdir path",
    "create a directory", NULL, 1, 1, run_mkdir },
  { "mkdir-p", NULL, "mkdir-p path",
    "create a directory and parents", NULL, 1, 1, run_mkdir },
  { "mkfs", NULL, "mkfs fstype device [blocksize:N] [features:..] [inode:N] [sectorsize:N] [label:..]",
    "make a filesystem", NULL, 2, 2, run_mkfs },
  { "mount", NULL, "mount mountable mountpoint",
    "mount a guest disk at a position in the filesystem", NULL, 2, 2, run_mount },
  { "mount-options", NULL, "mount-options options mountable mountpoint",
    "mount a guest disk with mount options", NULL, 3, 3, run_mount },
  { "mount-ro", NULL, "mount-ro mountable mountpoint",
    "mount a guest disk, read-only", NULL, 2, 2, run_mount },
  { "mount-vfs", NULL, "mount-vfs options vfstype mountable mountpoint",
    "mount a guest disk with mount options and vfstype", NULL, 4, 4, run_mount },
  { "mountpoints", NULL, "mountpoints",
    "show mountpoints", NULL, 0, 0, run_mountpoints },
  { "mounts", NULL, "mounts",
    "show mounted filesystems", NULL, 0, 0, run_mounts },
  { "mv", NULL, "mv src dest",
    "move a file", NULL, 2, 2, run_cp_mv },
  { "part-disk", NULL, "part-disk device parttype",
    "partition whole disk with a single primary partition", NULL, 2, 2, run_part_disk },
  { "part-get-parttype", NULL, "part-get-parttype device",
    "get the partition table type", NULL, 1, 1, run_part_get_parttype },
  { "part-list", NULL, "part-list device",
    "list partitions on a device", NULL, 1, 1, run_part_list },
  { "pvcreate", NULL, "pvcreate device",
    "create an LVM physical volume", NULL, 1, 1, run_pvcreate },
  { "pvs", NULL, "pvs",
    "list the LVM physical volumes (PVs)", NULL, 0, 0, run_lvm_list },
  { "read-file", NULL, "read-file path",
    "read a file", NULL, 1, 1, run_read_file },
  { "readlink", NULL, "readlink path",
    "read the target of a symbolic link", NULL, 1, 1, run_readlink },
  { "reopen", NULL, NULL,
    "close and reopen libguestfs handle", "‘reopen’ command takes no parameters\n", 0, 0, run_reopen },
  { "rm", NULL, "rm path",
    "remove a file", NULL, 1, 1, run_rm },
  { "rm-f", NULL, "rm-f path",
    "remove a file ignoring errors", NULL, 1, 1, run_rm },
  { "rm-rf", NULL, "rm-rf path",
    "remove a file or directory recursively", NULL, 1, 1, run_rm },
  { "rmdir", NULL, "rmdir path",
    "remove a directory", NULL, 1, 1, run_rmdir },
  { "setenv", NULL, NULL,
    "set an environment variable", "use '%s VAR value' to set an environment variable\n", 2, 2, run_setenv },
  { "shutdown", NULL, "shutdown",
    "shutdown the backend", NULL, 0, 0, run_shutdown },
  { "sparse", NULL, NULL,
    "create a sparse disk image and add", NULL, 0, -1, run_alloc },
  { "stat", NULL, "stat path",
    "get file information", NULL, 1, 1, run_stat },
  { "statvfs", NULL, "statvfs path",
    "get file system statistics", NULL, 1, 1, run_statvfs },
  { "supported", NULL, NULL,
    "list supported groups of commands", NULL, 0, 0, run_supported },
  { "sync", NULL, "sync",
    "sync disks, writes are flushed through to the disk image", NULL, 0, 0, run_sync },
  { "tail", NULL, "tail path",
    "return last 10 lines of a file", NULL, 1, 1, run_head_tail },
  { "tail-n", NULL, "tail-n nrlines path",
    "return last N lines of a file", NULL, 2, 2, run_head_tail },
  { "tar-in", NULL, "tar-in tarfile directory [compress:..] [xattrs:true|false] [selinux:true|false] [acls:true|false]",
    "unpack tarfile to directory", NULL, 2, 6, run_tar_in },
  { "tar-out", NULL, "tar-out directory tarfile [compress:..] [numericowner:true|false] [excludes:..] [xattrs:true|false] [selinux:true|false] [acls:true|false]",
    "pack directory into tarfile", NULL, 2, 8, run_tar_out },
  { "time", NULL, NULL,
    "print elapsed time taken to run a command", NULL, 0, -1, run_time },
  { "touch", NULL, "touch path",
    "update file timestamps or create a new file", NULL, 1, 1, run_touch },
  { "umount", "unmount", "umount pathordevice [force:true|false] [lazyunmount:true|false]",
    "unmount a filesystem", NULL, 1, 3, run_umount },
  { "umount-all", "unmount-all", "umount-all",
    "unmount all filesystems", NULL, 0, 0, run_umount_all },
  { "unsetenv", NULL, NULL,
    "unset an environment variable", "use '%s VAR' to unset an environment variable\n", 1, 1, run_unsetenv },
  { "upload", NULL, "upload filename remotefilename",
    "upload a file from the local machine", NULL, 2, 2, run_upload },
  { "vfs-label", NULL, "vfs-label mountable",
    "get the filesystem label", NULL, 1, 1, run_vfs },
  { "vfs-type", NULL, "vfs-type mountable",
    "get the Linux VFS type corresponding to a mounted device", NULL, 1, 1, run_vfs },
  { "vfs-uuid", NULL, "vfs-uuid mountable",
    "get the filesystem UUID", NULL, 1, 1, run_vfs },
  { "vgcreate", NULL, "vgcreate volgroup physvols",
    "create an LVM volume group", NULL, 2, 2, run_vgcreate },
  { "vgs", NULL, "vgs",
    "list the LVM volume groups (VGs)", NULL, 0, 0, run_lvm_list },
  { "write", NULL, "write path content",
    "create a new file", NULL, 2, 2, run_write },
  { "write-append", NULL, "write-append path content",
    "append content to end of file", NULL, 2, 2, run_write },
};
const size_t nr_commands = sizeof commands / sizeof commands[0];

/* a equals b, ignoring case and taking '_' for '-'. */
static int
name_eq (const char *a, const char *b, size_t blen)
{
  size_t i;

  for (i = 0; i < blen; ++i) {
    char x = a[i] == '_' ? '-' : a[i], y = b[i] == '_' ? '-' : b[i];

    if (x == '\0' || (x | 0x20) != (y | 0x20))
      return 0;
  }
  return a[blen] == '\0';
}

const struct command *
lookup_command (const char *name)
{
  size_t i;

  for (i = 0; i < nr_commands; ++i) {
    const char *p = commands[i].aliases;

    if (name_eq (name, commands[i].name, strlen (commands[i].name)))
      return &commands[i];
    while (p && *p) {
      size_t len = strcspn (p, " ");

      if (name_eq (name, p, len))
        return &commands[i];
      p += len;
      p += strspn (p, " ");
    }
  }
  return NULL;
}

/* guestfish -h and help --list: names and aliases in one sorted list,
 * help and quit first, as the reference prints them.
 */
struct listing {
  char name[64];
  char key[64];                 /* the reference's order: '_' in names */
  const struct command *c;
  bool alias;
};

static int
compare_listing (const void *a, const void *b)
{
  return strcmp (((const struct listing *) a)->key,
                 ((const struct listing *) b)->key);
}

void
list_commands (void)
{
  struct listing *l = calloc (2 * nr_commands + 16, sizeof *l);
  size_t i, n = 0;

  if (l == NULL) {
    perror ("calloc");
    return;
  }
  for (i = 0; i < nr_commands; ++i) {
    const char *p = commands[i].aliases;

    if (strcmp (commands[i].name, "help") == 0)
      continue;
    snprintf (l[n].name, sizeof l[n].name, "%s", commands[i].name);
    snprintf (l[n].key, sizeof l[n].key, "%s", commands[i].name);
    for (char *k = l[n].key; *k; ++k)
      if (*k == '-')
        *k = '_';
    l[n++].c = &commands[i];
    while (p && *p) {
      size_t len = strcspn (p, " ");

      snprintf (l[n].name, sizeof l[n].name, "%.*s", (int) len, p);
      snprintf (l[n].key, sizeof l[n].key, "%s", l[n].name);
      l[n].alias = true;
      l[n++].c = &commands[i];
      p += len;
      p += strspn (p, " ");
    }
  }
  qsort (l, n, sizeof *l, compare_listing);
  printf ("    %-16s     %s\n", "Command", "Description");
  printf ("%-20s %s\n", "help", "display a list of commands or help on a command");
  printf ("%-20s %s\n", "quit", "quit guestfish");
  for (i = 0; i < n; ++i) {
    if (l[i].alias)
      printf ("%-20s alias for '%s'\n", l[i].name, l[i].c->name);
    else
      printf ("%-20s %s\n", l[i].name, l[i].c->shortdesc);
  }
  printf ("    %s\n",
          "Use -h <cmd> / help <cmd> to show detailed help for a command.");
  free (l);
}

/* guestfish -h CMD and help CMD. */
int
display_command (const char *cmd)
{
  const struct command *c = lookup_command (cmd);

  if (strcasecmp (cmd, "quit") == 0 || strcasecmp (cmd, "exit") == 0 ||
      strcasecmp (cmd, "q") == 0) {
    printf ("quit - quit guestfish\n"
            "     quit\n");
    return 0;
  }
  if (c == NULL) {
    fprintf (stderr, "%s: command not known: ", cmd);
    if (is_interactive)
      fprintf (stderr, "use 'help --list' to list all commands\n");
    else
      fprintf (stderr, "use -h to list all commands\n");
    return -1;
  }
  printf ("NAME\n    %s - %s\n\n", c->name, c->shortdesc);
  if (c->synopsis)
    printf ("SYNOPSIS\n     %s\n\n", c->synopsis);
  printf ("DESCRIPTION\n    See guestfish(1) for the description of ‘%s’.\n",
          c->name);
  if (c->aliases)
    printf ("\n    You can use '%s' as an alias for this command.\n",
            c->aliases);
  return 0;
}
