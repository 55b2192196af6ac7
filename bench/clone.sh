#!/bin/bash
# Benchmark virt-clone, all in one run, ratios printed.  For a 4 GiB
# sparse raw image and a 4 GiB sparse qcow2 image, each holding 1 GiB of
# random data in four 256 MiB extents, the wall time of:
#   - cp --sparse=always (the floor), and cp followed by "sync FILE"
#     (what guestkit does: it fsyncs each copy before renaming it in);
#   - guestkit virt-clone -f NEW (a sparse copy, SEEK_DATA/SEEK_HOLE);
#   - virt-manager's virt-clone -f NEW (virtinst's local copy: 4 KiB
#     reads, zero blocks skipped), when /usr/bin/virt-clone is installed;
#   - guestkit virt-clone --linked (a qcow2 overlay: O(1));
#   - on a loop-mounted xfs with reflink=1 (root only), guestkit
#     virt-clone --reflink against cp --reflink=always.
# Both virt-clones read the domain from --original-xml and define the
# clone with libvirt's in-process test driver (--connect test:///default):
# no libvirtd, nothing to undefine.  Every clone is checked against its
# source with qemu-img compare.
# Usage: [RUNS=3] bench/clone.sh [BUILDDIR]
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$top/build}" && pwd)"
runs="${RUNS:-3}"
. "$build/tests/functions.sh"
command -v qemu-img > /dev/null || fail "qemu-img is missing"

d="$(mktemp -d "${TMPDIR:-/var/tmp}/gk-bench.XXXXXX")"
mnt=
cleanup () {
  if [ -n "$mnt" ]; then umount "$mnt" 2>/dev/null || true; fi
  rm -rf "$d"
}
trap cleanup EXIT
# No guestkit pools: the disks are plain files, copied by the tool itself.
export GUESTKIT_STATE_DIR="$d/state"

# The installed-style binary, not the ./run wrapper (a bash script whose
# own start-up would be charged to guestkit).
export LD_LIBRARY_PATH="$build/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GUESTKIT_MODULE_DIR="$build/modules/.libs"
gk="$build/tools/virt-clone/.libs/virt-clone"
[ -x "$gk" ] || gk="$build/tools/virt-clone/virt-clone"
vm=
[ -x /usr/bin/virt-clone ] && vm=/usr/bin/virt-clone

# 1 GiB of data in 4 extents of 256 MiB spread over the 4 GiB.
mkdir -p "$d/src"
truncate -s 4G "$d/src/disk.img"
for i in 0 1 2 3; do
  head -c 256M /dev/urandom |
    dd of="$d/src/disk.img" bs=1M seek=$((i * 1024 + 128)) conv=notrunc status=none
done
qemu-img convert -O qcow2 "$d/src/disk.img" "$d/src/disk.qcow2"
sync

# A domain with one disk.
domxml () {
  cat > "$d/$1.xml" <<XML
<domain type='test'>
  <name>gkbench-$1</name>
  <memory>1048576</memory>
  <os><type>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='$2'/>
      <source file='$3'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
XML
}

# Before each run the previous output is gone, all is synced and the
# source's pages are evicted, so every run reads the data from disk alike.
# Only the source's: the programs stay cached, as they are in real use
# (a global drop_caches would charge python's start-up to virtinst).
evict () {
  sync
  python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$1"
}
timed () {
  python3 -c 'import subprocess,sys,time; s=time.monotonic(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); print("%.3f" % (time.monotonic()-s))' "$@"
}
median () { sort -n "$d/t_$1" | sed -n "$(( (runs + 1) / 2 ))p"; }
ratio () { python3 -c "print('%.2f' % ($1 / $2))"; }
# qemu-img compare: guest-visible content, whatever the formats.
verify () {
  qemu-img compare -q "$1" "$2" || fail "$3: the clone differs from its source"
}
cpsync () { cp --sparse=always "$1" "$2" && sync "$2"; }
export -f cpsync

# One format: RUNS interleaved rounds (each round runs every tool once,
# so a slow spell of the machine costs them alike), medians printed.
bench () {
  local fmt="$1" src="$2" ext="${2##*.}" dir="$3" key="$4" i
  domxml "$key" "$fmt" "$src"
  for t in cp cpsync gk vm link; do : > "$d/t_$key$t"; done
  for i in $(seq 1 "$runs"); do
    evict "$src"
    timed cp --sparse=always "$src" "$dir/cp.$ext" >> "$d/t_${key}cp"
    verify "$src" "$dir/cp.$ext" "cp"; rm -f "$dir/cp.$ext"
    evict "$src"
    timed bash -c 'cpsync "$1" "$2"' cpsync "$src" "$dir/cps.$ext" >> "$d/t_${key}cpsync"
    rm -f "$dir/cps.$ext"
    evict "$src"
    timed "$gk" -q --connect test:///default --original-xml "$d/$key.xml" \
      -n gkbench-new -f "$dir/gk.$ext" >> "$d/t_${key}gk"
    verify "$src" "$dir/gk.$ext" "guestkit virt-clone"; rm -f "$dir/gk.$ext"
    if [ -n "$vm" ]; then
      evict "$src"
      timed "$vm" -q --connect test:///default --original-xml "$d/$key.xml" \
        -n gkbench-new -f "$dir/vm.$ext" >> "$d/t_${key}vm"
      verify "$src" "$dir/vm.$ext" "virt-manager's virt-clone"; rm -f "$dir/vm.$ext"
    fi
    evict "$src"
    timed "$gk" -q --connect test:///default --original-xml "$d/$key.xml" \
      -n gkbench-new -f "$dir/link.qcow2" --linked >> "$d/t_${key}link"
    verify "$src" "$dir/link.qcow2" "guestkit virt-clone --linked"
    rm -f "$dir/link.qcow2"
  done
  local cp cps gkt vmt link
  cp=$(median "${key}cp"); cps=$(median "${key}cpsync"); gkt=$(median "${key}gk")
  link=$(median "${key}link")
  printf '%-38s %9s\n' "$fmt, 4 GiB, 1 GiB of data" "seconds"
  printf '%-38s %9s\n' "cp --sparse=always" "$cp"
  printf '%-38s %9s\n' "cp --sparse=always; sync FILE" "$cps"
  printf '%-38s %9s   %sx cp, %sx cp+sync\n' "guestkit virt-clone" "$gkt" \
    "$(ratio "$gkt" "$cp")" "$(ratio "$gkt" "$cps")"
  if [ -n "$vm" ]; then
    vmt=$(median "${key}vm")
    printf '%-38s %9s   %sx cp (guestkit is %sx faster)\n' \
      "virt-manager virt-clone" "$vmt" "$(ratio "$vmt" "$cp")" "$(ratio "$vmt" "$gkt")"
  fi
  printf '%-38s %9s   (%s ms)\n' "guestkit virt-clone --linked" "$link" \
    "$(python3 -c "print('%.0f' % ($link * 1000))")"
  echo "${fmt}_ratio=$(ratio "$gkt" "$cp") ${fmt}_ratio_cp_sync=$(ratio "$gkt" "$cps") ${fmt}_linked_ms=$(python3 -c "print('%.0f' % ($link * 1000))")" >> "$d/summary"
}

echo "== $runs interleaved rounds each, median"
[ -n "$vm" ] || echo "(virt-manager's virt-clone is not installed: /usr/bin/virt-clone, Debian virtinst)"
mkdir -p "$d/out"
bench raw "$d/src/disk.img" "$d/out" r
echo
bench qcow2 "$d/src/disk.qcow2" "$d/out" q
echo

# Reflinks need xfs or btrfs: a loop-mounted xfs with reflink=1.
reflink_why=
if [ "$(id -u)" != 0 ]; then
  reflink_why="not root: cannot loop-mount an xfs"
elif ! command -v mkfs.xfs > /dev/null; then
  reflink_why="mkfs.xfs is missing (Debian: xfsprogs)"
else
  truncate -s 8G "$d/xfs.img"
  if ! mkfs.xfs -q -m reflink=1 "$d/xfs.img" 2> "$d/err"; then
    reflink_why="mkfs.xfs: $(cat "$d/err")"
  else
    mkdir -p "$d/mnt"
    if mount -o loop "$d/xfs.img" "$d/mnt" 2> "$d/err"; then
      mnt="$d/mnt"
    else
      reflink_why="cannot loop-mount an xfs: $(cat "$d/err")"
    fi
  fi
fi
if [ -n "$reflink_why" ]; then
  echo "reflink: not measured ($reflink_why)"
else
  printf '%-38s %9s\n' "reflink, on a loop-mounted xfs" "seconds"
  for fmt in raw qcow2; do
    if [ $fmt = raw ]; then ext=img; else ext=qcow2; fi
    cp --sparse=always "$d/src/disk.$ext" "$mnt/src.$ext"
    domxml x$fmt $fmt "$mnt/src.$ext"
    : > "$d/t_x${fmt}cp"; : > "$d/t_x${fmt}gk"
    for i in $(seq 1 "$runs"); do
      evict "$mnt/src.$ext"
      timed cp --reflink=always "$mnt/src.$ext" "$mnt/cp.$ext" >> "$d/t_x${fmt}cp"
      verify "$mnt/src.$ext" "$mnt/cp.$ext" "cp --reflink"; rm -f "$mnt/cp.$ext"
      evict "$mnt/src.$ext"
      timed "$gk" -q --connect test:///default --original-xml "$d/x$fmt.xml" \
        -n gkbench-new -f "$mnt/gk.$ext" --reflink >> "$d/t_x${fmt}gk"
      verify "$mnt/src.$ext" "$mnt/gk.$ext" "guestkit virt-clone --reflink"
      rm -f "$mnt/gk.$ext"
    done
    printf '%-38s %9s\n' "cp --reflink=always ($fmt)" "$(median "x${fmt}cp")"
    printf '%-38s %9s\n' "guestkit virt-clone --reflink ($fmt)" "$(median "x${fmt}gk")"
  done
fi
echo
echo "targets: guestkit virt-clone <= 1.05 x cp; --linked < 100 ms"
echo "(guestkit fsyncs each copy before renaming it into place, cp does not:"
echo " cp followed by sync FILE is the like-for-like reference)"
cat "$d/summary"
