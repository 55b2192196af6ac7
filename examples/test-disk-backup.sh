#!/bin/bash -
# examples/disk-backup: extents and streamed reads of raw and qcow2 images
# (a backing chain too) from several threads at once, each with its own
# handle: the same answers as one thread, and as qemu-img.
set -e
. "$abs_top_builddir/tests/functions.sh"
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
prog () { "$run" ${GUESTKIT_TEST_VALGRIND:-} "$abs_builddir/disk-backup" "$@"; }
cd "$d"
images=()
for i in 1 2 3 4; do
  truncate -s $((i * 8))M r$i.raw
  head -c $((i * 300))k /dev/urandom | dd of=r$i.raw bs=64k seek=$((i * 3)) conv=notrunc status=none
  qemu-img create -q -f qcow2 q$i.qcow2 $((i * 8))M
  qemu-io -f qcow2 -c "write -P 0x$i$i 1M $((i * 256))k" -c "write -z 5M 64k" q$i.qcow2 > /dev/null
  images+=(r$i.raw q$i.qcow2)
done
qemu-img create -q -f qcow2 -b q4.qcow2 -F qcow2 top.qcow2
qemu-io -f qcow2 -c 'write -P 0x77 1M 64k' -c 'write -z 1536k 64k' top.qcow2 > /dev/null
images+=(top.qcow2)

prog -j 1 "${images[@]}" > one.out
prog -j 4 "${images[@]}" > four.out
cmp one.out four.out || fail "4 threads differ from 1: $(diff one.out four.out)"
while read -r img size data zero hole sum; do
  qemu-img convert -O raw "$img" flat.raw; want=$(sha256sum < flat.raw | cut -d" " -f1); rm -f flat.raw
  [ "$sum" = "$want" ] || fail "$img: sha256 $sum, qemu-img says $want"
  [ $((data + zero + hole)) = "$size" ] || fail "$img: extents do not cover the disk"
  # The data qemu-img map reports (through the chain) is what we call data.
  qdata=$(qemu-img map --output=json "$img" | python3 -c 'import json,sys; print(sum(e["length"] for e in json.load(sys.stdin) if e["data"] and not e["zero"]))')
  [ "$data" = "$qdata" ] || fail "$img: $data data bytes, qemu-img map says $qdata"
done < one.out
prog /nonexistent.img 2>&1 | grep -q "nonexistent.img" || fail "error for a missing disk"
echo "ok: $(wc -l < one.out) disks, 1 and 4 threads agree with qemu-img"
