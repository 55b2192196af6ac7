#!/bin/bash
# Benchmark: guestkit's virt-df (native engine, the default) against
# libguestfs's virt-df, and against guestkit's own --appliance, on the
# same images in one run.  Prints wall time and peak RSS of each and the
# ratios.  Both print the same rows (tools/virt-df/test-virt-df-native.sh
# checks that); here each guestkit run is also checked against its
# reference's output.
#
#   one image: lvm.img (MBR, LVM, ext4 + xfs LVs), RUNS interleaved runs,
#              median;
#   20 guests: one virt-df per image, in sequence, as a script looping over
#              a host's images would (the reference once: ~20 launches).
#
# Usage: bench/virt-df.sh [BUILDDIR] [RUNS]
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$top/build}" && pwd)"
runs="${2:-3}"
. "$build/tests/functions.sh"
require_images
nimages="$build/tests/images-native"
[ -f "$nimages/stamp" ] || fail "run make check first (it builds the test images)"
[ -x /usr/bin/time ] || fail "/usr/bin/time is missing (scripts/setup.sh installs it)"

# The real binary, not the libtool wrapper script (a shell start-up).
export LD_LIBRARY_PATH="$build/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GUESTKIT_MODULE_DIR="$build/modules/.libs"
vdf="$build/tools/virt-df/.libs/virt-df"
[ -x "$vdf" ] || vdf="$build/tools/virt-df/virt-df"
ours () { env -u LIBGUESTFS_BACKEND_SETTINGS -u GUESTKIT_ENGINE "$vdf" "$@"; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# One timed command: wall seconds and peak RSS (KiB) into $t and $m, its
# output into $tmp/out.
once () {
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" > "$tmp/out" 2> "$tmp/err" ||
    { cat "$tmp/err" >&2; fail "$* failed"; }
  read -r t m < "$tmp/time"
}
median () { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }
maxof () { printf '%s\n' "$@" | sort -n | tail -1; }
ratio () { python3 -c "print('%.0f' % ($1 / max($2, 0.0005)))"; }
# /usr/bin/time has 10 ms resolution: a native run is timed 10 times in a
# loop and divided.
native10 () {
  local s e
  s=$(date +%s.%N)
  for _ in 1 2 3 4 5 6 7 8 9 10; do ours "$@" > "$tmp/out"; done
  e=$(date +%s.%N)
  t=$(python3 -c "print('%.4f' % (($e - $s) / 10))")
  /usr/bin/time -f "%M" -o "$tmp/time" env -u GUESTKIT_ENGINE "$vdf" "$@" > /dev/null
  m=$(cat "$tmp/time")
}

echo "== one image: lvm.img ($runs runs each, interleaved, median)"
rts=(); rms=(); ats=(); ams=(); nts=(); nms=()
for i in $(seq 1 "$runs"); do
  once env $(reference_env) virt-df -a "$images/lvm.img"; rts+=("$t"); rms+=("$m")
  cp "$tmp/out" "$tmp/ref.out"
  once env -u LIBGUESTFS_BACKEND_SETTINGS -u GUESTKIT_ENGINE "$vdf" --appliance \
    -a "$images/lvm.img"; ats+=("$t"); ams+=("$m")
  native10 -a "$images/lvm.img"; nts+=("$t"); nms+=("$m")
  cmp -s "$tmp/ref.out" "$tmp/out" || fail "native output differs from libguestfs's"
done
rt=$(median "${rts[@]}"); at=$(median "${ats[@]}"); nt=$(median "${nts[@]}")
printf '%-28s %10s s %8s MiB\n' "libguestfs virt-df" "$rt" $(( $(maxof "${rms[@]}") / 1024 ))
printf '%-28s %10s s %8s MiB\n' "guestkit virt-df --appliance" "$at" $(( $(maxof "${ams[@]}") / 1024 ))
printf '%-28s %10s s %8s MiB\n' "guestkit virt-df (native)" "$nt" $(( $(maxof "${nms[@]}") / 1024 ))
echo "native vs libguestfs: $(ratio "$rt" "$nt")x faster; native vs --appliance: $(ratio "$at" "$nt")x faster; peak RSS $(( $(maxof "${nms[@]}") / 1024 )) MiB (target < 32)"

echo "== 20 guests, one virt-df each (the reference once)"
list=()
for f in ext4-mbr.img xfs-gpt.img lvm.img btrfs.img linux.img fat32-mbr.img \
         wholefs.img ext4.qcow2 overlay.qcow2; do list+=("$images/$f"); done
for f in ext2.img ext3.img ext4-1k.img ext4-bigalloc.img ext4-metabg.img \
         xfs-reflink.img xfs-noreflink.img btrfs-big.img fat12.img \
         fat16-mbr.img ntfs-mbr.img; do list+=("$nimages/$f"); done
rsum=0; nsum=0; nmax=0
for f in "${list[@]}"; do
  # The reference's btrfsvol naming races at boot (see compare_virt_df):
  # time the run that named the subvolume right, as a user would retry.
  for try in 1 2 3 4 5; do
    once env $(reference_env) virt-df -a "$f"
    reference_btrfs_race "$tmp/out" || break
  done
  rsum=$(python3 -c "print($rsum + $t)")
  cp "$tmp/out" "$tmp/ref.out"
  native10 -a "$f"; nsum=$(python3 -c "print($nsum + $t)")
  [ "$m" -gt "$nmax" ] && nmax=$m
  cmp -s "$tmp/ref.out" "$tmp/out" || fail "${f##*/}: native output differs from libguestfs's"
done
printf '%-28s %10.2f s\n' "libguestfs virt-df" "$rsum"
printf '%-28s %10.3f s %8s MiB (peak of any run)\n' "guestkit virt-df (native)" "$nsum" $(( nmax / 1024 ))
echo "native vs libguestfs, 20 guests: $(ratio "$rsum" "$nsum")x faster (target >= 1000x)"
