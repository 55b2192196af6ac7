#!/bin/bash -
# The native engine against libguestfs's virt-df: the feature images of
# tests/make-native-images.sh (one feature each) added to ONE guest, so
# that each mode costs the reference a single appliance launch; ours runs
# with GUESTKIT_ENGINE=native, which fails rather than fall back to the
# appliance, so every row shown here was computed natively.  (The images
# of tests/make-images.sh are compared one guest each, in every mode, by
# test-virt-df-images-*.sh and test-virt-df-modes.sh, where the native
# engine is the default.  btrfs.img is not added here: with two btrfs
# filesystems in one guest the reference's subvolume names race, see
# compare_virt_df.)  Plain, -h, -i and --csv are compared byte for byte;
# --json against our own --appliance run.  Not --csv -i: it prints the
# numbers -i prints (inode counts, exact, and a percentage computed from
# them) in another layout, which test-virt-df-modes.sh compares on the
# ordinary images; here it would cost one more reference launch with all
# 17 disks (~100 s under TCG) without checking another number of the
# native engine.  (--csv does check more than plain: its Use% has a
# decimal, and plain's 1K-blocks are truncated when the block size is
# below 1 KiB.)
set -e
. "$abs_top_builddir/tests/functions.sh"
require_images
native_images="$abs_top_builddir/tests/images-native"
[ -f "$native_images/stamp" ] ||
  fail "the native test images are missing: make check builds them (tests/make-native-images.sh)"

args=()
cd "$native_images"
for f in ext2.img ext3.img ext4-1k.img ext4-bigalloc.img ext4-metabg.img \
         xfs-reflink.img xfs-noreflink.img btrfs-big.img fat12.img \
         fat16-mbr.img ntfs-mbr.img zlib.qcow2 zstd.qcow2 chain3.qcow2 \
         gpt-badprimary.img; do
  args+=(-a "$f")
done
if [ -f no-stripe ]; then
  echo "note: no striped LV: $(cat no-stripe)"
else
  args+=(-a stripe-a.img -a stripe-b.img)
fi

export GUESTKIT_ENGINE=native
compare_virt_df "all images" "${args[@]}"
compare_virt_df "all images, -h" -h "${args[@]}"
compare_virt_df "all images, -i" -i "${args[@]}"
compare_virt_df "all images, --csv" --csv "${args[@]}"

d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
GUESTKIT_ENGINE=appliance ours virt-df --json "${args[@]}" > "$d/appliance.json"
ours virt-df --json "${args[@]}" > "$d/native.json"
same "$d/appliance.json" "$d/native.json" "--json, native against --appliance"
echo "ok: all images, --json ($(grep -c '"device"' "$d/native.json") filesystems)"
