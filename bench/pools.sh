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

# The installed-style binary, not the ./run wrapper (a bash script whose
# own start-up would be charged to guestkit).
export LD_LIBRARY_PATH="$build/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
gk="$build/tools/guestkit/.libs/guestkit"
have_virsh=
if virsh -q -c qemu:///system version > /dev/null 2>&1; then
  have_virsh=1
  virsh -q pool-create-as gkbench dir --target "$d/pool" > /dev/null
  trap 'virsh -q pool-destroy gkbench > /dev/null 2>&1; rm -rf "$d"' EXIT
fi

# Wall time of one run.  Before it, the previous output is removed, all
# is synced and the source's pages are evicted, so every run reads the
# data from disk alike; the programs themselves stay cached, as they are
# in real use.
evict () {
  sync
  python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$d/pool/src.img"
}
timed () {
  python3 -c 'import subprocess,sys,time; s=time.monotonic(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); print("%.3f" % (time.monotonic()-s))' "$@"
}
median () { sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }

# Interleaved: each round runs every tool once, so a slow spell of the
# machine costs them alike.
: > "$d/t_cp"; : > "$d/t_ours"; : > "$d/t_link"; : > "$d/t_virsh"
for i in $(seq 1 "$runs"); do
  rm -f "$d/pool/cp.img"; evict
  timed cp --sparse=always "$d/pool/src.img" "$d/pool/cp.img" >> "$d/t_cp"
  rm -f "$d/pool/cp.img"
  evict
  timed "$gk" vol-clone src.img clone.img --pool bench >> "$d/t_ours"
  "$gk" vol-delete clone.img --pool bench > /dev/null
  evict
  timed "$gk" vol-clone src.img link.qcow2 --pool bench --linked >> "$d/t_link"
  "$gk" vol-delete link.qcow2 --pool bench > /dev/null
  if [ -n "$have_virsh" ]; then
    virsh -q pool-refresh gkbench > /dev/null
    evict
    timed virsh -q vol-clone src.img virsh.img --pool gkbench >> "$d/t_virsh"
    virsh -q vol-delete virsh.img --pool gkbench > /dev/null
  fi
done
t_cp=$(median < "$d/t_cp")
t_ours=$(median < "$d/t_ours")
t_link=$(median < "$d/t_link")

printf '%-34s %10s\n' "operation (2 GiB, 512 MiB data)" "seconds"
printf '%-34s %10s\n' "cp --sparse=always" "$t_cp"
printf '%-34s %10s   %sx cp\n' "guestkit vol-clone" "$t_ours" "$(python3 -c "print('%.2f' % ($t_ours / $t_cp))")"
printf '%-34s %10s\n' "guestkit vol-clone --linked" "$t_link"
if [ -n "$have_virsh" ]; then
  t_virsh=$(median < "$d/t_virsh")
  printf '%-34s %10s   (guestkit is %sx faster)\n' "virsh vol-clone" "$t_virsh" "$(python3 -c "print('%.2f' % ($t_virsh / $t_ours))")"
else
  echo "virsh vol-clone: no libvirtd answers (start one to compare)"
fi
echo "($runs interleaved rounds, median; target: guestkit vol-clone <= 1.05 x cp)"

