#!/bin/bash
# Benchmark, all in one run, ratios printed, on a 2 GiB sparse raw volume
# holding 512 MiB of data: dir pool vol-clone against `cp --sparse=always`
# and, when a libvirtd answers, `virsh vol-clone`.  (The rbd upload and
# download comparison with `rbd import`/`rbd export` is still to come.)
# Usage: bench/pools.sh [BUILDDIR] [RUNS]
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$top/build}" && pwd)"
runs="${2:-3}"
. "$build/tests/functions.sh"

d="$(mktemp -d "${TMPDIR:-/var/tmp}/gk-bench.XXXXXX")"
trap 'rm -rf "$d"' EXIT
export GUESTKIT_STATE_DIR="$d/state"
g () { ours guestkit "$@" > /dev/null; }

g pool-define-as bench dir --target "$d/pool"
g pool-start bench --build
g vol-create-as bench src.img 2G
# 512 MiB of data in 8 extents of 64 MiB spread over the 2 GiB.
for i in 0 1 2 3 4 5 6 7; do
  head -c 64M /dev/urandom | dd of="$d/pool/src.img" bs=1M seek=$((i * 256)) conv=notrunc status=none
done
sync

# Median wall time of a command over $runs runs.  Before each run the
# source's pages are evicted (and everything written is synced), so every
# run reads the data from disk alike; the programs themselves stay cached,
# as they are in real use.
median () {
  local t times=() i
  for i in $(seq 1 "$runs"); do
    "$cleanup" 2>/dev/null || true
    sync
    python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$d/pool/src.img"
    t=$(python3 -c 'import subprocess,sys,time; s=time.monotonic(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); print("%.3f" % (time.monotonic()-s))' "$@")
    times+=("$t")
  done
  "$cleanup" 2>/dev/null || true
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
}

cleanup=clean_cp;    clean_cp () { rm -f "$d/pool/cp.img"; }
t_cp=$(median cp --sparse=always "$d/pool/src.img" "$d/pool/cp.img")
cleanup=clean_ours;  clean_ours () { "$run" guestkit vol-delete clone.img --pool bench > /dev/null 2>&1; }
t_ours=$(median "$run" guestkit vol-clone src.img clone.img --pool bench)
cleanup=clean_link;  clean_link () { "$run" guestkit vol-delete link.qcow2 --pool bench > /dev/null 2>&1; }
t_link=$(median "$run" guestkit vol-clone src.img link.qcow2 --pool bench --linked)

printf '%-34s %10s\n' "operation (2 GiB, 512 MiB data)" "seconds"
printf '%-34s %10s\n' "cp --sparse=always" "$t_cp"
printf '%-34s %10s   %sx cp\n' "guestkit vol-clone" "$t_ours" "$(python3 -c "print('%.2f' % ($t_ours / $t_cp))")"
printf '%-34s %10s\n' "guestkit vol-clone --linked" "$t_link"
if virsh -q -c qemu:///system version > /dev/null 2>&1; then
  virsh -q pool-create-as gkbench dir --target "$d/pool" > /dev/null
  cleanup=clean_virsh; clean_virsh () { virsh -q vol-delete virsh.img --pool gkbench > /dev/null 2>&1; }
  t_virsh=$(median virsh -q vol-clone src.img virsh.img --pool gkbench)
  virsh -q pool-destroy gkbench > /dev/null
  printf '%-34s %10s   (guestkit is %sx faster)\n' "virsh vol-clone" "$t_virsh" "$(python3 -c "print('%.2f' % ($t_virsh / $t_ours))")"
else
  echo "virsh vol-clone: no libvirtd answers (start one to compare)"
fi
echo "($runs runs each, median; target: guestkit vol-clone <= 1.05 x cp)"

