#!/bin/bash -
# Every output mode (-h, -i, --csv, and their combinations) and long-name
# wrapping, against libguestfs's virt-df.
set -e
. "$abs_top_builddir/tests/functions.sh"
require_images
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
cd "$d"
ln -s "$images/lvm.img" lvm.img
# Display names longer than 36 characters wrap onto the next line.
ln -s "$images/lvm.img" a-guest-with-a-rather-long-name.img
# CSV quoting: a name with a comma and a space.
ln -s "$images/btrfs.img" "btrfs, with space.img"

compare_virt_df "human-readable" -h -a lvm.img
compare_virt_df "inodes" -i -a lvm.img
compare_virt_df "CSV" --csv -a lvm.img
compare_virt_df "CSV inodes" --csv -i -a lvm.img
compare_virt_df "human-readable inodes" -h -i -a a-guest-with-a-rather-long-name.img
compare_virt_df "CSV quoting, btrfs subvolume rows" --csv -a "btrfs, with space.img"
compare_virt_df "two disks, -h" -h -a "$images/span-a.img" -a "$images/span-b.img"
