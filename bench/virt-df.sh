#!/bin/bash
# Benchmark: guestkit's virt-df against libguestfs's virt-df on the same
# images, in one run.  Prints wall time and peak RSS of each, and the ratio.
# Usage: bench/virt-df.sh [BUILDDIR] [RUNS]
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$top/build}" && pwd)"
runs="${2:-3}"
. "$build/tests/functions.sh"
require_images
[ -x /usr/bin/time ] || fail "/usr/bin/time is missing (scripts/setup.sh installs it)"

# One timed run: wall seconds and peak RSS (KiB) into $t and $m.
once () {
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" > /dev/null 2> "$tmp/err" ||
    { cat "$tmp/err" >&2; fail "$* failed"; }
  read -r t m < "$tmp/time"
}
median () { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
maxof () { printf '%s\n' "$@" | sort -n | tail -1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
printf '%-16s %12s %12s %8s %10s %10s\n' image "libguestfs s" "guestkit s" ratio "ref MiB" "ours MiB"
for img in lvm.img ext4.qcow2; do
  rts=(); rms=(); ots=(); oms=()
  # Interleaved, so that a change in the machine's load hits both alike.
  for i in $(seq 1 "$runs"); do
    once env $(reference_env) virt-df -a "$images/$img"; rts+=("$t"); rms+=("$m")
    once env -u LIBGUESTFS_BACKEND_SETTINGS "$run" virt-df -a "$images/$img"; ots+=("$t"); oms+=("$m")
  done
  rt=$(median "${rts[@]}"); ot=$(median "${ots[@]}")
  ratio=$(python3 -c "print('%.2f' % ($rt / $ot))")
  printf '%-16s %12s %12s %7sx %10s %10s\n' "$img" "$rt" "$ot" "$ratio" \
    $(( $(maxof "${rms[@]}") / 1024 )) $(( $(maxof "${oms[@]}") / 1024 ))
done
echo "(ratio = libguestfs time / guestkit time; above 1 means guestkit is faster; $runs runs each, median)"
