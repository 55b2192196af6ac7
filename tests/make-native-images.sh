#!/bin/bash
# Build the images of the native engine's differential test
# (tools/virt-df/test-virt-df-native.sh) into OUTDIR (never committed):
# one guest feature per image, each made with the host's own tools (mkfs
# on plain files, sfdisk, qemu-img, mtools, ntfs-3g through FUSE), and the
# striped LV in the test VM (lvm2 needs device-mapper, which this kernel
# may not have; tests/testvm.sh).  Used with tests/images (make-images.sh).
# Usage: make-native-images.sh OUTDIR
set -euo pipefail

out="${1:?usage: $0 OUTDIR}"
. "${abs_top_builddir:?}/tests/functions.sh"
. "${abs_top_srcdir:?}/tests/testvm.sh"

if [ -f "$out/stamp" ]; then exit 0; fi
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cd "$out.tmp"

# Some content, so that "Used" is more than the metadata.
mkdir content content/dir content/many
head -c 3M /dev/urandom > content/random.bin
head -c 700k < <(yes guestkit) > content/dir/text.txt
for i in $(seq 1 300); do echo "$i" > content/many/f$i; done
ln -s dir/text.txt content/link

# ext2/3/4 features: bigalloc, 1 KiB blocks, no flex_bg, meta_bg.
truncate -s 256M ext4-bigalloc.img
mkfs.ext4 -q -F -O bigalloc -C 65536 -d content ext4-bigalloc.img
truncate -s 64M ext4-1k.img
mkfs.ext4 -q -F -b 1024 -d content ext4-1k.img
truncate -s 128M ext4-metabg.img
mkfs.ext4 -q -F -O meta_bg,^resize_inode,^flex_bg -m 10 -d content ext4-metabg.img
truncate -s 48M ext2.img
mkfs.ext2 -q -F -d content ext2.img
truncate -s 64M ext3.img
mkfs.ext3 -q -F -d content ext3.img

# xfs with reflink and rmapbt on, and both off.
truncate -s 400M xfs-reflink.img
mkfs.xfs -q -f -m reflink=1,rmapbt=1 xfs-reflink.img
truncate -s 400M xfs-noreflink.img
mkfs.xfs -q -f -m reflink=0,rmapbt=0 -d agcount=2 xfs-noreflink.img

# btrfs with files (made by mkfs), 1 GiB: separate data and metadata.
truncate -s 1G btrfs-big.img
mkfs.btrfs -q -f --rootdir content btrfs-big.img > /dev/null

# FAT12 and FAT16 on whole disks; FAT16 in an MBR partition too.
truncate -s 4M fat12.img
mkfs.fat -F 12 -n GKFAT12 fat12.img > /dev/null
mcopy -i fat12.img content/dir/text.txt ::text.txt
truncate -s 64M fat16-mbr.img
printf 'label: dos\nstart=2048, type=6\n' | sfdisk -q fat16-mbr.img
mkfs.fat -F 16 -n GKFAT16 --offset 2048 fat16-mbr.img \
  $(( (64*1024*1024 - 2048*512) / 1024 )) > /dev/null
mcopy -i fat16-mbr.img@@1M -s content/dir content/random.bin ::

# NTFS in an MBR partition (type 7), files copied in through ntfs-3g.
truncate -s 128M ntfs-mbr.img
printf 'label: dos\nstart=2048, type=7\n' | sfdisk -q ntfs-mbr.img
truncate -s $((128*1024*1024 - 2048*512)) ntfs.part
mkntfs -q -F -f -L GKNTFS -s 512 -p 2048 -H 16 -S 63 ntfs.part 2> /dev/null
if [ -c /dev/fuse ]; then
  mkdir mnt
  ntfs-3g ntfs.part mnt
  cp -r content/dir content/random.bin mnt/
  fusermount -u mnt || umount mnt
  rmdir mnt
fi
dd if=ntfs.part of=ntfs-mbr.img bs=1M seek=1 conv=notrunc,sparse status=none
rm ntfs.part

# GPT whose primary header is corrupt (the backup is intact).
truncate -s 64M gpt-badprimary.img
printf 'label: gpt\nstart=2048, type=linux\n' | sfdisk -q gpt-badprimary.img
mkfs.ext4 -q -F -E offset=1048576 gpt-badprimary.img 60000
printf '\xff\xff' | dd of=gpt-badprimary.img bs=1 seek=$((512 + 16)) \
  conv=notrunc status=none

# qcow2: compressed clusters (zlib, zstd) and a 3-deep backing chain
# whose layers each change the guest (qemu-io writes into the swap
# partition of ext4-mbr.img, which virt-df skips, and into the ext4
# superblock's unused padding would change nothing virt-df shows, so the
# top layer also replaces the swap by a FAT filesystem).
base="$abs_top_builddir/tests/images/ext4-mbr.img"
qemu-img convert -q -c -f raw -O qcow2 -o compression_type=zlib "$base" zlib.qcow2
qemu-img convert -q -c -f raw -O qcow2 -o compression_type=zstd "$base" zstd.qcow2
qemu-img convert -q -f raw -O qcow2 "$base" chain1.qcow2
qemu-img create -q -f qcow2 -b chain1.qcow2 -F qcow2 chain2.qcow2
qemu-io -f qcow2 -c 'write -P 0x55 110M 1M' chain2.qcow2 > /dev/null
qemu-img create -q -f qcow2 -b chain2.qcow2 -F qcow2 chain3.qcow2
truncate -s 27M swapfat.part
mkfs.fat -F 16 -n LAYER3 swapfat.part > /dev/null
mcopy -i swapfat.part content/dir/text.txt ::text.txt
qemu-io -f qcow2 -c "write -s swapfat.part 100M 27M" chain3.qcow2 > /dev/null
rm swapfat.part

# A striped LV (2 stripes) and a linear one, ext4 and xfs, made in the
# test VM.  Without it the test says so and leaves them out.
if testvm_check; then
  truncate -s 256M stripe-a.img stripe-b.img
  cat > lvm.sh <<'EOF'
set -e
pvcreate -q /dev/vda /dev/vdb
vgcreate -q gkstripe /dev/vda /dev/vdb
lvcreate -q -i 2 -I 64k -L 96M -n str gkstripe
lvcreate -q -l 100%FREE -n lin gkstripe
mkfs.ext4 -q /dev/gkstripe/str
mkfs.xfs -q /dev/gkstripe/lin
vgchange -q -an gkstripe
EOF
  if ! testvm_run -d "$PWD/stripe-a.img" -d "$PWD/stripe-b.img" "$PWD/lvm.sh" > lvm.log 2>&1; then
    cat lvm.log >&2
    echo "$0: the test VM could not make the striped LV" >&2
    exit 1
  fi
  rm -rf "$testvm_rundir" lvm.sh lvm.log
else
  echo "$testvm_why" > no-stripe
fi

rm -rf content
touch stamp
cd ..
rm -rf "$out"
mv "$out.tmp" "$out"
