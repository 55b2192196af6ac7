#! --ro -a $IMG_LINUX
#@ launch
# The fake Debian 12 image, read-only, with "run": devices, partitions,
# filesystems, inspection, mount-ro and file queries, errors of a
# read-only filesystem (with "-", the script goes on), then an error
# after umount-all that ends the script (rc 1).
run
# The appliance's optional features, now that it runs.
supported
list-devices
list-partitions
list-filesystems
vfs-type /dev/sda1
vfs-label /dev/sda1
vfs-uuid /dev/sda1
vfs-type /dev/sda2
# PART_ENTRY_DISK is the disk's kernel major:minor and DEVNAME the
# appliance kernel's own name for the partition (libguestfs does not
# translate it back): both follow the appliance's disk probe order, which
# varies from boot to boot (the reference printed /dev/sdb1 in one CI run,
# /dev/sda1 in others).  The other fields are compared.
blkid /dev/sda1 | grep -v -e '^PART_ENTRY_DISK:' -e '^DEVNAME:'
part-list /dev/sda
part-get-parttype /dev/sda
blockdev-getsize64 /dev/sda
blockdev-getsize64 /dev/sda1
inspect-os
inspect-get-roots
inspect-get-type /dev/sda1
inspect-get-distro /dev/sda1
inspect-get-product-name /dev/sda1
inspect-get-product-variant /dev/sda1
inspect-get-major-version /dev/sda1
inspect-get-minor-version /dev/sda1
inspect-get-hostname /dev/sda1
inspect-get-arch /dev/sda1
inspect-get-package-format /dev/sda1
inspect-get-package-management /dev/sda1
inspect-get-mountpoints /dev/sda1
inspect-get-filesystems /dev/sda1
inspect-get-osinfo /dev/sda1
inspect-get-format /dev/sda1
mounts
mount-ro /dev/sda1 /
mounts
mountpoints
ls /
ls /etc
ll /etc
cat /etc/hostname
cat /etc/os-release
head /etc/os-release
head-n 2 /etc/os-release
tail /etc/fstab
tail-n 1 /etc/fstab
read-file /etc/hostname
is-file /etc/hostname
is-file /etc
is-dir /etc
is-dir /nonexistent
exists /bin/ls
exists /nope
file /bin/ls
file /etc/hostname
file /etc
filesize /etc/os-release
du /etc
find /etc
find /var
checksum md5 /etc/hostname
checksum sha256 /etc/fstab
# stat's dev: is the kernel's device number, which depends on the order the
# appliance's kernel probed its disks (it varies from boot to boot); the
# other fields are compared.
stat /etc/hostname | grep -v '^dev:'
lstat /etc | grep -v '^dev:'
statvfs /
glob ls /e*
glob echo /e* /v*
-cat /nonexistent
-readlink /etc/hostname
-mkdir /newdir
-write /newfile "x"
-rm /etc/hostname
-touch /etc/hostname
# The other ways to mount and unmount, and the Windows-only getters on a
# Linux root.
umount-all
mount-options ro /dev/sda1 /
mounts
unmount /
mount-vfs ro ext4 /dev/sda1 /
mountpoints
-inspect-get-windows-systemroot /dev/sda1
-inspect-get-windows-current-control-set /dev/sda1
-inspect-get-windows-software-hive /dev/sda1
-inspect-get-windows-system-hive /dev/sda1
unmount-all
mounts
-cat /etc/hostname
# After shutdown the appliance is gone.
shutdown
-ls /
echo end
