#!/bin/bash -
# virt-df on each test image, byte for byte against libguestfs's virt-df
# run on the same image in the same test.
set -e
. "$abs_top_builddir/tests/functions.sh"
require_images
cd "$images"

compare_virt_df "ext4 on MBR, swap skipped" -a ext4-mbr.img --format=raw
compare_virt_df "xfs on GPT" -a xfs-gpt.img --format=raw
compare_virt_df "LVM: ext4 and xfs LVs" -a lvm.img
compare_virt_df "btrfs with a subvolume" -a btrfs.img
compare_virt_df "FAT32 on MBR" -a fat32-mbr.img
