#! --ro -a $IMG_EXT4 -a $IMG_XFS -a $IMG_BTRFS -m /dev/sda1
#@ launch
# -m /dev/sda1 (read-only: mounted "ro") on the ext4 image, with the xfs
# and btrfs images as more drives mounted on directories of it: file
# queries, a btrfs subvolume, umount, and errors with "-" (not a
# directory, is a directory, read-only, not mounted, no mount point).
mounts
mountpoints
ls /
ls /dir
cat /dir/hello.txt
head-n 1 /dir/hello.txt
filesize /dir/big
du /dir/big
# stat's dev: is the kernel's device number, which depends on the order the
# appliance's kernel probed its disks (it varies from boot to boot); the
# other fields are compared.
stat /dir/big | grep -v '^dev:'
is-dir /dir/sub
is-file /dir/sub
vfs-label /dev/sda1
vfs-type /dev/sdb1
vfs-type /dev/sdc1
mount-ro /dev/sdb1 /lost+found
ls /lost+found
cat /lost+found/file
mount-ro /dev/sdc1 /dir/sub
ls /dir/sub
cat /dir/sub/sub1/file
glob echo /dir/*
mountpoints
mounts
umount /lost+found
mountpoints
-umount /lost+found
-mount-ro /dev/sdb1 /nonexistent
-ls /dir/hello.txt
-cat /dir
-mkdir-p /a/b
-write-append /dir/hello.txt "x"
umount-all
mounts
-ls /
echo done
