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
command -v /usr/bin/time >/dev/null || fail "/usr/bin/time is missing (scripts/setup.sh installs it)"

# measure LABEL CMD...: median wall time (s) and max peak RSS (MiB) over $runs.
measure () {
  local label="$1"; shift
  local i t m times=() rss=0
  for i in $(seq 1 "$runs"); do
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" > /dev/null 2> "$tmp/err" ||
      { cat "$tmp/err" >&2; fail "$label failed"; }
    read -r t m < "$tmp/time"
    times+=("$t")
    [ "$m" -gt "$rss" ] && rss=$m
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  peak=$(( rss / 1024 ))
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
printf '%-28s %12s %12s %8s %10s %10s\n' image "libguestfs s" "guestkit s" ratio "ref MiB" "ours MiB"
for img in lvm.img ext4.qcow2; do
  measure reference env $(reference_env) virt-df -a "$images/$img"
  rt=$median; rm=$peak
  measure guestkit env -u LIBGUESTFS_BACKEND_SETTINGS "$run" virt-df -a "$images/$img"
  ot=$median; om=$peak
  ratio=$(python3 -c "print('%.2f' % ($rt / $ot))")
  printf '%-28s %12s %12s %7sx %10s %10s\n' "$img" "$rt" "$ot" "$ratio" "$rm" "$om"
done
echo "(ratio = libguestfs time / guestkit time; above 1 means guestkit is faster; $runs runs each, median)"
