#! --ro -a $IMG_LVM --format=qcow2 -a $IMG_QCOW2
#@ launch
# Two disks (-a twice, the second with --format=qcow2): LVM on the first
# (vg_test: root ext4, data xfs), the ext4+swap qcow2 on the second.
# pvs/vgs/lvs, LVM names and UUIDs, LV mounts (one on a directory of
# the other), xfs and ext4 details, file queries on the qcow2 disk,
# errors of mount with "-".
run
list-devices
list-partitions
pvs
vgs
lvs
list-filesystems
vfs-type /dev/vg_test/data
blockdev-getsize64 /dev/vg_test/root
blockdev-getsize64 /dev/vg_test/data
inspect-os
mount-ro /dev/vg_test/root /
ls /
cat /etc-like
mount-ro /dev/vg_test/data /lost+found
mounts
mountpoints
ls /lost+found
statvfs /lost+found
umount-all
part-list /dev/sdb
vfs-label /dev/sdb1
vfs-type /dev/sdb2
mount-ro /dev/sdb1 /
ls /dir
cat /dir/hello.txt
filesize /dir/big
du /dir/big
checksum sha1 /dir/hello.txt
find /
umount-all
-mount-ro /dev/vg_test/nosuch /
-mount-ro /dev/sdb2 /
echo done
# glob over devices, partitions and LVs, and over guest paths (a
# directory comes back with a '/'); no match: the pattern itself.
glob echo /dev/sd*
glob echo /dev/vg_test/*
glob echo /dev/nomatch*
glob echo /
