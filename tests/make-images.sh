#!/bin/bash
# Build the test guest images into tests/images/ (never committed).
#
# The host kernel may have no device-mapper, so the images are made inside
# libguestfs's appliance with its guestfish: one launch makes them all.
# Usage: make-images.sh OUTDIR
set -euo pipefail

out="${1:?usage: $0 OUTDIR}"
. "${abs_top_builddir:?}/tests/functions.sh"

if [ -f "$out/stamp" ]; then exit 0; fi
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cd "$out.tmp"

# Sparse raw files for the appliance to fill.
truncate -s 128M ext4-mbr.img
truncate -s 400M xfs-gpt.img
truncate -s 600M lvm.img
truncate -s 256M btrfs.img
truncate -s 128M span-a.img
truncate -s 128M span-b.img
truncate -s 192M linux.img

ref guestfish --rw \
  -a ext4-mbr.img -a xfs-gpt.img -a lvm.img -a btrfs.img \
  -a span-a.img -a span-b.img -a linux.img <<'GF'
run
# ext4 on MBR, with a swap partition that virt-df must skip.
part-init /dev/sda mbr
part-add /dev/sda p 2048 204799
part-add /dev/sda p 204800 -2048
mkfs ext4 /dev/sda1 label:data
mkswap /dev/sda2
mount /dev/sda1 /
mkdir-p /dir/sub
write /dir/hello.txt "hello, world\n"
fallocate64 /dir/big 20971520
umount-all

# xfs on GPT.
part-disk /dev/sdb gpt
mkfs xfs /dev/sdb1
mount /dev/sdb1 /
write /file "xfs\n"
umount-all

# LVM: one VG with an ext4 LV and an xfs LV.
part-disk /dev/sdc mbr
part-set-mbr-id /dev/sdc 1 0x8e
pvcreate /dev/sdc1
vgcreate vg_test /dev/sdc1
lvcreate-free root vg_test 30
lvcreate data vg_test 320
mkfs ext4 /dev/vg_test/root
mkfs xfs /dev/vg_test/data
mount /dev/vg_test/root /
write /etc-like "root lv\n"
umount-all

# btrfs with a subvolume.
part-disk /dev/sdd mbr
mkfs btrfs /dev/sdd1
mount /dev/sdd1 /
btrfs-subvolume-create /sub1
write /sub1/file "in a subvolume\n"
umount-all

# Two disks, one VG, an LV spanning both.
pvcreate /dev/sde
pvcreate /dev/sdf
vgcreate vg_span "/dev/sde /dev/sdf"
lvcreate-free lv_span vg_span 100
mkfs ext4 /dev/vg_span/lv_span

# A small Linux root for inspection (MBR: root ext4 + swap).
part-init /dev/sdg mbr
part-add /dev/sdg p 2048 327679
part-add /dev/sdg p 327680 -2048
mkfs ext4 /dev/sdg1
mkswap /dev/sdg2
mount /dev/sdg1 /
mkdir-p /etc
mkdir-p /bin
mkdir-p /usr/bin
mkdir-p /var/lib/dpkg
mkdir-p /root
write /etc/os-release "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n"
write /etc/debian_version "12.7\n"
write /etc/hostname "guestkit-test\n"
write /etc/fstab "/dev/sda1 / ext4 defaults 0 1\n/dev/sda2 none swap sw 0 0\n"
write /var/lib/dpkg/status ""
upload /bin/ls /bin/ls
umount-all
GF

# FAT32 on MBR, made on the host (mkfs.fat writes into the partition's
# offset; the appliance's mkfs cannot force FAT32 on a small disk).
truncate -s 64M fat32-mbr.img
printf 'label: dos\nstart=2048, type=c\n' | sfdisk -q fat32-mbr.img
mkfs.fat -F 32 -n GKFAT --offset 2048 fat32-mbr.img $(( (64*1024*1024 - 2048*512) / 1024 )) >/dev/null

# A whole-disk filesystem, no partition table.
truncate -s 96M wholefs.img
mkfs.ext4 -q -F -L whole wholefs.img

# qcow2, and a qcow2 overlay whose backing format is recorded.
qemu-img convert -q -f raw -O qcow2 ext4-mbr.img ext4.qcow2
qemu-img create -q -f qcow2 -b ext4.qcow2 -F qcow2 overlay.qcow2

touch stamp
cd ..
rm -rf "$out"
mv "$out.tmp" "$out"
