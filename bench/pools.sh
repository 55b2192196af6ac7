#!/bin/bash
# Benchmark, all in one run, ratios printed, on a 2 GiB sparse raw volume
# holding 512 MiB of data:
# - dir pool vol-clone against `cp --sparse=always` and, when a libvirtd
#   answers, `virsh vol-clone`;
# - rbd vol-upload / vol-download against `rbd import` / `rbd export`, and
#   the time of an rbd vol-clone (a layered clone: O(1)), on a throw-away
#   one-node Ceph cluster (tests/ceph-cluster.sh) on ports of its own, so
#   that it never meets a test's cluster.  GUESTKIT_BENCH_RBD=no skips it.
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
export GUESTKIT_MODULE_DIR="$build/modules/.libs"
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

[ "${GUESTKIT_BENCH_RBD:-yes}" != no ] || exit 0
echo
export CEPH_TEST_MON_V1_PORT=${CEPH_TEST_MON_V1_PORT:-26789}
export CEPH_TEST_MON_V2_PORT=${CEPH_TEST_MON_V2_PORT:-23300}
# Room for the source twice over and a clone: the OSD keeps it in memory.
export CEPH_TEST_MEMSTORE_BYTES=$((4 * 1024 * 1024 * 1024))
. "$top/tests/ceph-cluster.sh"
start_ceph_cluster gkbench
trap 'stop_ceph_cluster; [ -z "$have_virsh" ] || virsh -q pool-destroy gkbench > /dev/null 2>&1; rm -rf "$d"' EXIT
"$gk" pool-define-as rbdbench rbd --source-host "$ceph_mon_host" \
  --source-name gkbench --auth-type ceph --auth-username admin \
  --secret-usage "file:$ceph_admin_keyring" > /dev/null
"$gk" pool-start rbdbench > /dev/null
: > "$d/t_import"; : > "$d/t_export"; : > "$d/t_up"; : > "$d/t_down"; : > "$d/t_clone"
for i in $(seq 1 "$runs"); do
  evict
  timed rbd -c "$ceph_conf" import --no-progress "$d/pool/src.img" gkbench/imp >> "$d/t_import"
  rm -f "$d/exp.img"; sync
  timed rbd -c "$ceph_conf" export --no-progress gkbench/imp "$d/exp.img" >> "$d/t_export"
  cmp "$d/pool/src.img" "$d/exp.img" || fail "rbd export differs from the source"
  rbd -c "$ceph_conf" rm --no-progress gkbench/imp > /dev/null
  "$gk" vol-create-as rbdbench up.img 2G > /dev/null
  evict
  timed "$gk" vol-upload up.img "$d/pool/src.img" --pool rbdbench >> "$d/t_up"
  rm -f "$d/down.img"; sync
  timed "$gk" vol-download up.img "$d/down.img" --pool rbdbench >> "$d/t_down"
  cmp "$d/pool/src.img" "$d/down.img" || fail "vol-download differs from the source"
  timed "$gk" vol-clone up.img cl.img --pool rbdbench --linked >> "$d/t_clone"
  "$gk" vol-delete cl.img --pool rbdbench > /dev/null
  "$gk" vol-delete up.img --pool rbdbench > /dev/null
  rm -f "$d/exp.img" "$d/down.img"
done
t_import=$(median < "$d/t_import"); t_export=$(median < "$d/t_export")
t_up=$(median < "$d/t_up"); t_down=$(median < "$d/t_down")
t_clone=$(median < "$d/t_clone")
# Throughput ratios: reference time / our time (> 1 means we are faster).
printf '%-34s %10s\n' "rbd (2 GiB, 512 MiB data)" "seconds"
printf '%-34s %10s\n' "rbd import" "$t_import"
printf '%-34s %10s   %sx rbd import'"'"'s speed\n' "guestkit vol-upload" "$t_up" "$(python3 -c "print('%.2f' % ($t_import / $t_up))")"
printf '%-34s %10s\n' "rbd export" "$t_export"
printf '%-34s %10s   %sx rbd export'"'"'s speed\n' "guestkit vol-download" "$t_down" "$(python3 -c "print('%.2f' % ($t_export / $t_down))")"
printf '%-34s %10s\n' "guestkit vol-clone --linked" "$t_clone"
echo "($runs interleaved rounds, median; target: vol-upload >= 0.9 x rbd import's speed)"

