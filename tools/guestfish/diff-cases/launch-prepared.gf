#! -N fs:ext4:64M -N lvfs:/dev/VG/LV:vfat:64M:gpt -N disk:10M -N p.img=part:32M -N lv:/dev/VG2/data:48M
#@ launch
# -N prepared disks (test1.img ... in the working directory, or the named
# file): a filesystem, an LV with a filesystem on GPT, a blank disk, a
# partition, an LV; what the appliance sees of them, and their sizes.
list-devices
list-partitions
list-filesystems
lvs
vgs
pvs
part-get-parttype /dev/sda
part-get-parttype /dev/sdb
part-get-parttype /dev/sdd
part-list /dev/sdd
blockdev-getsize64 /dev/sdc
vfs-type /dev/sda1
vfs-type /dev/VG/LV
mount /dev/sda1 /
write /hello "prepared\n"
cat /hello
umount-all
# The commands that make disks, on the blank one.
part-disk /dev/sdc gpt
pvcreate /dev/sdc1
vgcreate VG3 /dev/sdc1
lvcreate lv3 VG3 4
mkfs ext2 /dev/VG3/lv3
vfs-type /dev/VG3/lv3
lvs
-lvcreate lv4 VG3 400
-mkfs nosuchfs /dev/sdc1
!stat -c '%n %s' test1.img test2.img test3.img p.img test5.img
