/* guestfish: the functions behind the command table (cmds.c). */
#ifndef GUESTFISH_CMDS_H
#define GUESTFISH_CMDS_H

#include <stddef.h>

extern int run_add (const char *cmd, size_t argc, char *argv[]);
extern int run_add_domain (const char *cmd, size_t argc, char *argv[]);
extern int run_alloc (const char *cmd, size_t argc, char *argv[]);
extern int run_blkid (const char *cmd, size_t argc, char *argv[]);
extern int run_blockdev_getsize64 (const char *cmd, size_t argc, char *argv[]);
extern int run_cat (const char *cmd, size_t argc, char *argv[]);
extern int run_checksum (const char *cmd, size_t argc, char *argv[]);
extern int run_chmod (const char *cmd, size_t argc, char *argv[]);
extern int run_chown (const char *cmd, size_t argc, char *argv[]);
extern int run_copy_in (const char *cmd, size_t argc, char *argv[]);
extern int run_copy_out (const char *cmd, size_t argc, char *argv[]);
extern int run_cp_mv (const char *cmd, size_t argc, char *argv[]);
extern int run_df (const char *cmd, size_t argc, char *argv[]);
extern int run_download (const char *cmd, size_t argc, char *argv[]);
extern int run_du (const char *cmd, size_t argc, char *argv[]);
extern int run_echo (const char *cmd, size_t argc, char *argv[]);
extern int run_edit (const char *cmd, size_t argc, char *argv[]);
extern int run_exists (const char *cmd, size_t argc, char *argv[]);
extern int run_file (const char *cmd, size_t argc, char *argv[]);
extern int run_filesize (const char *cmd, size_t argc, char *argv[]);
extern int run_find (const char *cmd, size_t argc, char *argv[]);
extern int run_glob (const char *cmd, size_t argc, char *argv[]);
extern int run_head_tail (const char *cmd, size_t argc, char *argv[]);
extern int run_help (const char *cmd, size_t argc, char *argv[]);
extern int run_inspect_get (const char *cmd, size_t argc, char *argv[]);
extern int run_inspect_get_roots (const char *cmd, size_t argc, char *argv[]);
extern int run_inspect_os (const char *cmd, size_t argc, char *argv[]);
extern int run_is_file_dir (const char *cmd, size_t argc, char *argv[]);
extern int run_launch (const char *cmd, size_t argc, char *argv[]);
extern int run_lcd (const char *cmd, size_t argc, char *argv[]);
extern int run_list_devices (const char *cmd, size_t argc, char *argv[]);
extern int run_list_filesystems (const char *cmd, size_t argc, char *argv[]);
extern int run_list_partitions (const char *cmd, size_t argc, char *argv[]);
extern int run_ll (const char *cmd, size_t argc, char *argv[]);
extern int run_ln_s (const char *cmd, size_t argc, char *argv[]);
extern int run_ls (const char *cmd, size_t argc, char *argv[]);
extern int run_lvcreate (const char *cmd, size_t argc, char *argv[]);
extern int run_lvm_list (const char *cmd, size_t argc, char *argv[]);
extern int run_man (const char *cmd, size_t argc, char *argv[]);
extern int run_mkdir (const char *cmd, size_t argc, char *argv[]);
extern int run_mkfs (const char *cmd, size_t argc, char *argv[]);
extern int run_mount (const char *cmd, size_t argc, char *argv[]);
extern int run_mountpoints (const char *cmd, size_t argc, char *argv[]);
extern int run_mounts (const char *cmd, size_t argc, char *argv[]);
extern int run_part_disk (const char *cmd, size_t argc, char *argv[]);
extern int run_part_get_parttype (const char *cmd, size_t argc, char *argv[]);
extern int run_part_list (const char *cmd, size_t argc, char *argv[]);
extern int run_pvcreate (const char *cmd, size_t argc, char *argv[]);
extern int run_read_file (const char *cmd, size_t argc, char *argv[]);
extern int run_readlink (const char *cmd, size_t argc, char *argv[]);
extern int run_reopen (const char *cmd, size_t argc, char *argv[]);
extern int run_rm (const char *cmd, size_t argc, char *argv[]);
extern int run_rmdir (const char *cmd, size_t argc, char *argv[]);
extern int run_setenv (const char *cmd, size_t argc, char *argv[]);
extern int run_shutdown (const char *cmd, size_t argc, char *argv[]);
extern int run_stat (const char *cmd, size_t argc, char *argv[]);
extern int run_statvfs (const char *cmd, size_t argc, char *argv[]);
extern int run_supported (const char *cmd, size_t argc, char *argv[]);
extern int run_sync (const char *cmd, size_t argc, char *argv[]);
extern int run_tar_in (const char *cmd, size_t argc, char *argv[]);
extern int run_tar_out (const char *cmd, size_t argc, char *argv[]);
extern int run_time (const char *cmd, size_t argc, char *argv[]);
extern int run_touch (const char *cmd, size_t argc, char *argv[]);
extern int run_umount (const char *cmd, size_t argc, char *argv[]);
extern int run_umount_all (const char *cmd, size_t argc, char *argv[]);
extern int run_unsetenv (const char *cmd, size_t argc, char *argv[]);
extern int run_upload (const char *cmd, size_t argc, char *argv[]);
extern int run_vfs (const char *cmd, size_t argc, char *argv[]);
extern int run_vgcreate (const char *cmd, size_t argc, char *argv[]);
extern int run_write (const char *cmd, size_t argc, char *argv[]);

#endif /* GUESTFISH_CMDS_H */
