#!/bin/bash
# Benchmark: guestkit's guestmount against libguestfs's guestmount, in one
# run, ratios printed.  Both mount the same ext4 image read-only
# (--ro -a IMG -m /dev/sda), one after the other, and for each:
#   - mount: from start until the mountpoint is ready (both fork into the
#     background then: the foreground process exits);
#   - sequential read: cat MNT/big (100 MB of random data) -> MB/s; the
#     bytes read and the file's sha256 are checked against the host's copy;
#   - find MNT | wc -l -> seconds (the count and the listing must be the
#     same through both tools: 12105 entries);
#   - tar c -C MNT small | wc -c (2000 files of 3000 bytes) -> seconds (the
#     byte count and the archive's sha256 must be the same through both);
#   - unmount: guestunmount, then until the guestmount process (its
#     --pid-file) has exited, i.e. the image is released.
# The host page cache is dropped before each tool's mount and again
# before its reads, so both start cold.  Targets: >= 2x libguestfs on
# read, find and tar; a missed target is printed, never an error: the
# exit status is non-zero only when a tool fails or the tools disagree.
#
# The image (400M sparse, ext4 made by mkfs.ext4 -d from a host tree: no
# root mount needed) is cached in BUILDDIR/bench/fuse-work, keyed by this
# script's version: reruns skip building it.  Not under /tmp: a test VM
# mounts a tmpfs there.
#
# The reference runs as /usr/bin/guestmount with reference_env
# (force_tcg when KVM is unusable).  FUSE_BENCH_OURS=/path/to/guestmount
# replaces guestkit's guestmount (and the guestunmount next to it), e.g.
# FUSE_BENCH_OURS=/usr/bin/guestmount to test this script with the
# reference on both sides; it then runs with the reference's environment.
# Usage: bench/fuse.sh [BUILDDIR]
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$top/build}" && pwd)"
. "$build/tests/functions.sh"
version=1
[ -x /usr/bin/guestmount ] && [ -x /usr/bin/guestunmount ] ||
  fail "libguestfs's guestmount is missing (Debian: guestmount)"
command -v fusermount3 > /dev/null || fail "fusermount3 is missing (Debian: fuse3)"
[ -c /dev/fuse ] || fail "/dev/fuse is missing"

# guestkit's: through the build tree's ./run wrapper (a bash start-up,
# ~3 ms, charged to guestkit's mount and unmount times).
if [ -n "${FUSE_BENCH_OURS:-}" ]; then
  ours_mount=(env $(reference_env) "$FUSE_BENCH_OURS")
  ours_umount=(env $(reference_env) "$(dirname "$FUSE_BENCH_OURS")/guestunmount")
  ours_name="$FUSE_BENCH_OURS (FUSE_BENCH_OURS)"
else
  ours_mount=(env -u LIBGUESTFS_BACKEND_SETTINGS "$run" guestmount)
  ours_umount=(env -u LIBGUESTFS_BACKEND_SETTINGS "$run" guestunmount)
  ours_name="$run guestmount"
fi
ref_mount=(env $(reference_env) /usr/bin/guestmount)
ref_umount=(env $(reference_env) /usr/bin/guestunmount)
# Not worth an appliance launch when ours is not there yet.
if ! "${ours_mount[@]}" --help > /dev/null 2>&1; then
  fail "guestkit's guestmount does not run: $("${ours_mount[@]}" --help 2>&1 | head -1)"
fi

work="$build/bench/fuse-work"
cache="$work/v$version"
mkdir -p "$work"
exec 9> "$work/lock"
flock -n 9 || fail "another bench/fuse.sh is running ($work/lock)"

# Whatever happens, no mount and no guestmount process is left behind.
cleanup () {
  local who m pid i
  for who in ref ours; do
    m="$work/mnt-$who"
    if mountpoint -q "$m" 2>/dev/null; then
      fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null || true
    fi
    pid=$(cat "$work/$who.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      # Unmounted, it exits by itself (shutting its appliance down).
      for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill "$pid" 2>/dev/null || true
      for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$work/$who.pid"
  done
  rm -rf "$work/build.$$"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---- The image, built once per version of this script.
if [ ! -f "$cache/fs.img" ]; then
  echo "== building the image (once: $cache)"
  rm -rf "$work"/v* "$work/build.$$"
  b="$work/build.$$"
  mkdir -p "$b/tree/many" "$b/tree/small"
  head -c 100000000 /dev/urandom > "$b/tree/big"
  python3 - "$b/tree" <<'PY'
import os, sys
t = sys.argv[1]
for d in range(100):
    p = os.path.join(t, "many", "d%03d" % d)
    os.mkdir(p)
    for f in range(100):
        with open(os.path.join(p, "f%03d" % f), "w") as o:
            o.write("%d.%d\n" % (d, f))
for f in range(2000):
    with open(os.path.join(t, "small", "s%04d" % f), "wb") as o:
        o.write(os.urandom(3000))
PY
  sha256sum < "$b/tree/big" | cut -d' ' -f1 > "$b/big.sha256"
  # + lost+found, which mkfs adds.
  echo $(( $(find "$b/tree" | wc -l) + 1 )) > "$b/find.count"
  truncate -s 400M "$b/fs.img"
  mkfs.ext4 -q -d "$b/tree" "$b/fs.img"
  rm -rf "$b/tree"
  mv "$b" "$cache"
fi
img="$cache/fs.img"
big_sha=$(cat "$cache/big.sha256")
find_count=$(cat "$cache/find.count")

drop_caches () {
  sync
  if [ -w /proc/sys/vm/drop_caches ]; then
    echo 3 > /proc/sys/vm/drop_caches
  else
    # Not root: evict at least the image's pages.
    python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$img"
  fi
}
[ -w /proc/sys/vm/drop_caches ] ||
  echo "(not root: only the image's pages are dropped from the host cache, not the tools')"
elapsed () { python3 -c "print('%.3f' % ($2 - $1))"; }
# Until process $1 (not a child of ours) has exited; 120 s at most.
wait_gone () {
  local i
  # A zombie has exited (its disks are released); this container's PID 1
  # may take a second or two to reap it.
  for i in $(seq 1 12000); do
    kill -0 "$1" 2>/dev/null || return 0
    grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null && return 0
    sleep 0.01
  done
  return 1
}

# One tool: $1 = ref|ours; mount/umount commands in the arrays named $2, $3.
# Results in $work/$1.*: t_mount t_read t_find t_tar t_umount, and the
# checked outputs.
measure () {
  local who="$1" m="$work/mnt-$1" pidf="$work/$1.pid" o="$work/$1" t0 t1 pid i
  local -n mcmd="$2" ucmd="$3"
  rm -f "$pidf" "$o".*
  mkdir -p "$m"
  ! mountpoint -q "$m" || fail "$m is already mounted"
  drop_caches
  t0=$EPOCHREALTIME
  # (fd 9, the lock, is not for the daemon to keep.)
  "${mcmd[@]}" --ro -a "$img" -m /dev/sda "$m" --pid-file "$pidf" \
    > "$o.mount.out" 2> "$o.mount.err" 9>&- ||
    { cat "$o.mount.err" >&2; fail "$who: guestmount failed"; }
  t1=$EPOCHREALTIME
  elapsed "$t0" "$t1" > "$o.t_mount"
  mountpoint -q "$m" || { cat "$o.mount.err" >&2; fail "$who: guestmount exited but $m is not mounted"; }
  # The daemon writes its pid file just after the fork.
  for i in $(seq 1 500); do [ -s "$pidf" ] && break; sleep 0.01; done
  [ -s "$pidf" ] || fail "$who: guestmount wrote no --pid-file"
  pid=$(cat "$pidf")
  kill -0 "$pid" 2>/dev/null || fail "$who: guestmount's pid $pid is not running"

  drop_caches
  t0=$EPOCHREALTIME
  cat "$m/big" | wc -c > "$o.read.bytes" || fail "$who: cat $m/big failed"
  t1=$EPOCHREALTIME
  elapsed "$t0" "$t1" > "$o.t_read"
  t0=$EPOCHREALTIME
  find "$m" | wc -l > "$o.find.count" || fail "$who: find $m failed"
  t1=$EPOCHREALTIME
  elapsed "$t0" "$t1" > "$o.t_find"
  t0=$EPOCHREALTIME
  tar c -C "$m" small | wc -c > "$o.tar.bytes" || fail "$who: tar c -C $m small failed"
  t1=$EPOCHREALTIME
  elapsed "$t0" "$t1" > "$o.t_tar"
  # Untimed checks of what was read.
  sha256sum < "$m/big" | cut -d' ' -f1 > "$o.big.sha256"
  (cd "$m" && find . -printf '%y %p\n' | LC_ALL=C sort) > "$o.find.list"
  tar c -C "$m" small | sha256sum | cut -d' ' -f1 > "$o.tar.sha256"

  t0=$EPOCHREALTIME
  "${ucmd[@]}" "$m" > "$o.umount.out" 2>&1 9>&- ||
    { cat "$o.umount.out" >&2; fail "$who: guestunmount failed"; }
  kill -0 "$pid" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null &&
    echo 1 > "$o.umount.lingered"
  wait_gone "$pid" || fail "$who: guestmount (pid $pid) still runs 120 s after guestunmount"
  t1=$EPOCHREALTIME
  elapsed "$t0" "$t1" > "$o.t_umount"
  ! mountpoint -q "$m" || fail "$who: $m is still mounted after guestunmount"
  rm -f "$pidf"
}

echo "== libguestfs: /usr/bin/guestmount ($(reference_env))"
measure ref ref_mount ref_umount
echo "== guestkit: $ours_name"
measure ours ours_mount ours_umount
# guestkit again, with the appliance engine forced: what a read-write
# mount, or a filesystem the native engine does not serve, gets.
if [ -z "${FUSE_BENCH_OURS:-}" ]; then
  app_mount=(env GUESTKIT_ENGINE=appliance "${ours_mount[@]}")
  echo "== guestkit, appliance engine: GUESTKIT_ENGINE=appliance $ours_name"
  measure app app_mount ours_umount
fi

# ---- Checks: each against the host's tree, and the two tools alike.
bad=()
whos=(ref ours)
[ -z "${FUSE_BENCH_OURS:-}" ] && whos+=(app)
for who in "${whos[@]}"; do
  o="$work/$who"
  [ "$(cat "$o.read.bytes")" = 100000000 ] ||
    bad+=("$who: read $(cat "$o.read.bytes") bytes of big, not 100000000")
  [ "$(cat "$o.big.sha256")" = "$big_sha" ] ||
    bad+=("$who: big's sha256 through the mount differs from the host's copy")
  [ "$(cat "$o.find.count")" = "$find_count" ] ||
    bad+=("$who: find counted $(cat "$o.find.count") entries, not $find_count")
done
cmp -s "$work/ref.find.list" "$work/ours.find.list" ||
  bad+=("find lists differ between the tools (diff $work/ref.find.list $work/ours.find.list)")
[ "$(cat "$work/ref.tar.bytes")" = "$(cat "$work/ours.tar.bytes")" ] ||
  bad+=("tar sizes differ: libguestfs $(cat "$work/ref.tar.bytes"), guestkit $(cat "$work/ours.tar.bytes")")
[ "$(cat "$work/ref.tar.sha256")" = "$(cat "$work/ours.tar.sha256")" ] ||
  bad+=("tar archives of small/ differ between the tools (sha256)")

# ---- The table.  Ratios: how many times faster guestkit is.
v () { cat "$work/$1.t_$2"; }
mbs () { python3 -c "print('%.1f' % (100000000 / 1e6 / max($1, 0.0005)))"; }
ratio () { python3 -c "print('%.2f' % ($1 / max($2, 0.0005)))"; }
target () { python3 -c "print('met' if $1 >= 2 else 'NOT met')"; }
row () { # metric ref ours ratio [target]
  printf '%-30s %12s %12s %10s   %s\n' "$1" "$2" "$3" "$4" "${5:-}"
}
echo
echo "ext4, 400M image: big 100 MB, many/ 100 x 100 files, small/ 2000 x 3000 B"
row "metric" "libguestfs" "guestkit" "ratio" ""
r=$(ratio "$(v ref mount)" "$(v ours mount)")
row "mount (s)" "$(v ref mount)" "$(v ours mount)" "${r}x"
rr=$(mbs "$(v ref read)"); ro=$(mbs "$(v ours read)"); r=$(ratio "$(v ref read)" "$(v ours read)")
row "seq read big (MB/s)" "$rr" "$ro" "${r}x" "target >=2x: $(target "$r")"
r=$(ratio "$(v ref find)" "$(v ours find)")
row "find | wc -l, $find_count (s)" "$(v ref find)" "$(v ours find)" "${r}x" "target >=2x: $(target "$r")"
r=$(ratio "$(v ref tar)" "$(v ours tar)")
row "tar c small | wc -c (s)" "$(v ref tar)" "$(v ours tar)" "${r}x" "target >=2x: $(target "$r")"
r=$(ratio "$(v ref umount)" "$(v ours umount)")
row "unmount, image released (s)" "$(v ref umount)" "$(v ours umount)" "${r}x"
echo "(ratio: how many times faster guestkit is; tar archive $(cat "$work/ours.tar.bytes") bytes;"
echo " host page cache dropped before each mount and before the reads)"
if [ -z "${FUSE_BENCH_OURS:-}" ]; then
  for w in find.list tar.bytes tar.sha256; do
    cmp -s "$work/ref.$w" "$work/app.$w" ||
      bad+=("$w differs between libguestfs and guestkit's appliance engine")
  done
  echo
  echo "guestkit with the appliance engine (GUESTKIT_ENGINE=appliance), same image:"
  row "metric" "libguestfs" "gk-appl." "ratio" ""
  r=$(ratio "$(v ref mount)" "$(v app mount)")
  row "mount (s)" "$(v ref mount)" "$(v app mount)" "${r}x"
  rr=$(mbs "$(v ref read)"); ro=$(mbs "$(v app read)"); r=$(ratio "$(v ref read)" "$(v app read)")
  row "seq read big (MB/s)" "$rr" "$ro" "${r}x"
  r=$(ratio "$(v ref find)" "$(v app find)")
  row "find | wc -l, $find_count (s)" "$(v ref find)" "$(v app find)" "${r}x"
  r=$(ratio "$(v ref tar)" "$(v app tar)")
  row "tar c small | wc -c (s)" "$(v ref tar)" "$(v app tar)" "${r}x"
  r=$(ratio "$(v ref umount)" "$(v app umount)")
  row "unmount, image released (s)" "$(v ref umount)" "$(v app umount)" "${r}x"
fi
if [ -f "$work/ours.umount.lingered" ]; then
  echo "note: guestkit's guestunmount returned before its guestmount had exited (the unmount time includes the wait)"
fi
echo "fuse_mount_ratio=$(ratio "$(v ref mount)" "$(v ours mount)") fuse_read_ratio=$(ratio "$(v ref read)" "$(v ours read)") fuse_find_ratio=$(ratio "$(v ref find)" "$(v ours find)") fuse_tar_ratio=$(ratio "$(v ref tar)" "$(v ours tar)") fuse_umount_ratio=$(ratio "$(v ref umount)" "$(v ours umount)")"

if [ ${#bad[@]} -gt 0 ]; then
  printf '%s\n' "${bad[@]}" >&2
  fail "the tools disagree (above)"
fi
