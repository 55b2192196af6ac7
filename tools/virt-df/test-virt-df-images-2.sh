#!/bin/bash -
# virt-df on each test image (second half), against libguestfs's virt-df.
set -e
. "$abs_top_builddir/tests/functions.sh"
require_images
cd "$images"

compare_virt_df "qcow2" --format=qcow2 -a ext4.qcow2
compare_virt_df "qcow2 overlay, backing format recorded" -a overlay.qcow2
compare_virt_df "two disks, an LV spanning both" -a span-a.img -a span-b.img
compare_virt_df "whole-disk filesystem" --format=raw -a wholefs.img
# Old-style positional arguments, with a relative and an absolute path.
compare_virt_df "Linux root, old-style arguments" linux.img
