#!/bin/bash
# guestmount's command line without an appliance: usage errors as
# libguestfs's guestmount prints them (same stderr, same exit code), a
# bad mountpoint refused at once, and mounts served by the native
# engine (read-only ext4, in process): forking, --pid-file, the mount's
# fsname, EROFS, guestunmount; --no-fork with --fd, and SIGTERM.
#
# Under make check-valgrind (GUESTKIT_TEST_VALGRIND=--valgrind) the same
# runs under valgrind; the --no-fork mount's report is read from its
# stderr (a forked child's report is silenced by the run wrapper).
set -euo pipefail
. "${abs_top_builddir:?}/tests/functions.sh"

command -v fusermount3 > /dev/null || skip "fusermount3 is not installed"
[ -r /dev/fuse ] && [ -w /dev/fuse ] || skip "/dev/fuse is not usable"
command -v mkfs.ext4 > /dev/null || skip "mkfs.ext4 is not installed"

vg="${GUESTKIT_TEST_VALGRIND:-}"
# Waits: a native mount takes milliseconds, a few seconds under valgrind.
# Generous for a loaded machine (make -j2 beside appliances), still far
# below an appliance launch (15 s and more under TCG).
if [ -n "$vg" ]; then quick=30 ready=90; else quick=8 ready=10; fi

# Not under /tmp: another test mounts a tmpfs over /tmp in a VM.
d="$(mktemp -d "$abs_top_builddir/fuse/test-guestmount-options.XXXXXX")"
pids=()
cleanup () {
  local pid m
  for pid in "${pids[@]}"; do stop_pid "$pid" 50; done
  for m in "$d"/mnt*; do
    if [ -n "$(mount_of "$m")" ]; then
      fusermount3 -u -z "$m" 2>/dev/null || true
    fi
  done
  # Never descend into a mount that is still there.
  rm -rf --one-file-system "$d"
}
trap cleanup EXIT

failures=0
bad () { echo "$0: FAIL: $*" >&2; failures=$((failures + 1)); }

now_ms () { date +%s%3N; }

# The mount at $1: "FSTYPE SOURCE" from mountinfo, or nothing.
mount_of () {
  awk -v m="$1" '$5 == m { for (i = 7; $i != "-"; i++); print $(i + 1), $(i + 2) }' \
    /proc/self/mountinfo
}

# A process is gone when it has no /proc entry or is a zombie (whoever
# adopted the daemon may reap it late).
gone () { ! [ -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# Ours: stdout, stderr (valgrind's own warnings "--PID-- ..." left out)
# and exit code in $d/ours.{out,err,rc}, the time taken in $ms.
gm () {
  local rc=0 t0
  t0=$(now_ms)
  (cd "$d" && timeout -k 5 120 env -u LIBGUESTFS_BACKEND_SETTINGS \
     "$run" $vg guestmount "$@") > "$d/ours.out" 2> "$d/ours.all" || rc=$?
  ms=$(( $(now_ms) - t0 ))
  grep -Ev '^--[0-9]+-- ' "$d/ours.all" > "$d/ours.err" || true
  echo "$rc" > "$d/ours.rc"
}

# The reference, named "guestmount" as ours is (error(3) prints argv[0]).
# Only cases where it stops before launching its appliance.
refgm () {
  local rc=0
  (cd "$d" && ref timeout -k 5 120 \
     bash -c 'exec -a guestmount /usr/bin/guestmount "$@"' guestmount "$@") \
    > "$d/ref.out" 2> "$d/ref.err" || rc=$?
  echo "$rc" > "$d/ref.rc"
}

# "compare NAME ARGS": same stderr and exit code as the reference.
compare () {
  local name="$1"; shift
  refgm "$@"
  gm "$@"
  if ! cmp -s "$d/ref.err" "$d/ours.err"; then
    echo "--- reference: guestmount $*" >&2
    echo "+++ guestkit" >&2
    diff -u "$d/ref.err" "$d/ours.err" >&2 || true
    bad "$name: stderr differs from the reference"
  elif [ "$(cat "$d/ref.rc")" != "$(cat "$d/ours.rc")" ]; then
    bad "$name: exit $(cat "$d/ours.rc"), reference $(cat "$d/ref.rc")"
  else
    echo "ok: $name (exit $(cat "$d/ours.rc"), as the reference)"
  fi
}

# "expect_error NAME MESSAGE ARGS": exit 1, stderr exactly the one line
# MESSAGE, quickly (no appliance).
expect_error () {
  local name="$1" msg="$2"; shift 2
  gm "$@"
  printf '%s\n' "$msg" > "$d/expected.err"
  if [ "$(cat "$d/ours.rc")" != 1 ]; then
    bad "$name: exit $(cat "$d/ours.rc"), expected 1 ($(cat "$d/ours.err"))"
  elif ! cmp -s "$d/expected.err" "$d/ours.err"; then
    diff -u "$d/expected.err" "$d/ours.err" >&2 || true
    bad "$name: unexpected message"
  elif [ "$ms" -ge $((quick * 1000)) ]; then
    bad "$name: took $ms ms (an appliance?)"
  else
    echo "ok: $name ($ms ms)"
  fi
}

# A small ext4 filesystem on a whole disk (no partition table): the
# native engine serves it as /dev/sda.  "big" spans several read-ahead
# buffers.
mkdir "$d/src" "$d/src/sub" "$d/mnt" "$d/mnt2" "$d/full"
touch "$d/full/x" "$d/file"
echo hello > "$d/src/hello.txt"
head -c 3500000 /dev/urandom > "$d/src/sub/big"
ln -s hello.txt "$d/src/link"
img="$d/ext4.img"
truncate -s 32M "$img"
mkfs.ext4 -q -d "$d/src" "$img" 2> "$d/mkfs.err" ||
  skip "mkfs.ext4 -d is not supported: $(cat "$d/mkfs.err")"

# --- Usage errors, as the reference --------------------------------------

if [ -x /usr/bin/guestmount ]; then
  compare "no -a or -d"
  compare "no -m or -i" -a "$img" mnt
  compare "no mountpoint" -a "$img" -m /dev/sda
  compare "no mountpoint with -i" -a "$img" -i
  compare "two mountpoints" -a "$img" -m /dev/sda mnt mnt2
  compare "--fd=x" --fd=x -a "$img" -m /dev/sda mnt
  compare "--fd=-1" --fd=-1 -a "$img" -m /dev/sda mnt
  compare "unknown long option" --bogus -a "$img" -m /dev/sda mnt
  compare "unknown short option" -Z -a "$img" -m /dev/sda mnt
  compare "missing argument" -a
  compare "--key without TYPE" --key foo -a "$img" -m /dev/sda mnt
  compare "--live" --live -a "$img" -m /dev/sda mnt
  # A non-empty mountpoint: should ours go on, it stops there.
  compare "--format after the last -a" -a "$img" --format=raw -m /dev/sda full
  compare "--blocksize after the last -a" -a "$img" --blocksize=512 -m /dev/sda full
  # The reference checks -a at once; ours after the mountpoint, which is
  # fine here.
  compare "missing image" -a "$d/nonexistent.img" -m /dev/sda mnt
else
  fail "/usr/bin/guestmount is not installed (scripts/setup.sh installs it)"
fi

# --- Usage errors of ours ------------------------------------------------

# The reference reads these with atoi(3) and takes anything.
for v in x -1 5s ""; do
  expect_error "--dir-cache-timeout=$v" \
    "guestmount: could not parse --dir-cache-timeout parameter: $v" \
    --dir-cache-timeout="$v" --ro -a "$img" -m /dev/sda mnt
done
expect_error "--vol without a slash" \
  "guestmount: --vol: ‘nopool’ is not POOL/VOLUME" \
  --vol nopool -m /dev/sda mnt
gm --ro -a "$img" -m /dev/sda mnt -o no_such_fuse_option
if [ "$(cat "$d/ours.rc")" = 1 ] &&
   grep -q "FUSE did not accept the options ‘no_such_fuse_option’" "$d/ours.err"; then
  echo "ok: a bad -o option"
else
  bad "-o no_such_fuse_option: exit $(cat "$d/ours.rc"): $(cat "$d/ours.err")"
fi
GUESTKIT_ENGINE=bogus gm --ro -a "$img" -m /dev/sda mnt
if [ "$(cat "$d/ours.rc")" = 1 ] && [ "$(wc -l < "$d/ours.err")" = 1 ] &&
   grep -q "GUESTKIT_ENGINE must be auto, appliance or native$" "$d/ours.err"; then
  echo "ok: a bad GUESTKIT_ENGINE"
else
  bad "GUESTKIT_ENGINE=bogus: exit $(cat "$d/ours.rc"): $(cat "$d/ours.err")"
fi

# --- The mountpoint, checked before anything starts -----------------------

expect_error "mountpoint missing" \
  "guestmount: $d/nodir: No such file or directory" \
  --ro -a "$img" -m /dev/sda "$d/nodir"
expect_error "mountpoint is a file" \
  "guestmount: $d/file: the mountpoint is not a directory" \
  --ro -a "$img" -m /dev/sda "$d/file"
expect_error "mountpoint not empty" \
  "guestmount: $d/full: the mountpoint is not empty" \
  --ro -a "$img" -m /dev/sda "$d/full"
gm -a "$d/nonexistent.img" -m /dev/sda mnt
[ "$(cat "$d/ours.rc")" = 1 ] && grep -q "nonexistent.img" "$d/ours.err" ||
  bad "missing image: exit $(cat "$d/ours.rc"): $(cat "$d/ours.err")"

# -d of a running domain (the test driver's "test", whose disk does not
# exist): --rw is refused; without it the domain is added read-only,
# and the error is about its disk.
if command -v virsh > /dev/null &&
   [ "$(virsh -c test:///default domstate test 2>/dev/null)" = running ]; then
  gm -c test:///default -d test --rw -m /dev/sda mnt
  [ "$(cat "$d/ours.rc")" = 1 ] && grep -q "live virtual machine" "$d/ours.err" ||
    bad "-d live --rw: exit $(cat "$d/ours.rc"): $(cat "$d/ours.err")"
  gm -c test:///default -d test -m /dev/sda mnt
  [ "$(cat "$d/ours.rc")" = 1 ] && ! grep -q "live virtual machine" "$d/ours.err" &&
    grep -q "/guest/diskimage1" "$d/ours.err" ||
    bad "-d live (read-only): exit $(cat "$d/ours.rc"): $(cat "$d/ours.err")"
  echo "ok: -d of a running domain: --rw refused, read-only otherwise"
else
  echo "note: libvirt's test driver is not usable: -d not tested"
fi

# --- A mount served by the native engine -------------------------------

mnt="$d/mnt"

# The mounted tree: files readable, every change refused with EROFS.
check_tree () {
  local m="$1" what="$2"
  [ "$(cat "$m/hello.txt")" = hello ] || bad "$what: hello.txt: $(cat "$m/hello.txt" 2>&1)"
  cmp -s "$d/src/sub/big" "$m/sub/big" || bad "$what: sub/big differs"
  [ "$(readlink "$m/link")" = hello.txt ] || bad "$what: readlink"
  [ "$(cd "$m" && ls)" = "$(printf 'hello.txt\nlink\nlost+found\nsub')" ] ||
    bad "$what: ls: $(ls "$m")"
  if (echo x > "$m/new") 2> "$d/w.err"; then
    bad "$what: creating a file succeeded"
  else
    grep -q "Read-only file system" "$d/w.err" || bad "$what: create: $(cat "$d/w.err")"
  fi
  if (echo x >> "$m/hello.txt") 2> "$d/w.err"; then
    bad "$what: appending succeeded"
  else
    grep -q "Read-only file system" "$d/w.err" || bad "$what: append: $(cat "$d/w.err")"
  fi
  mkdir "$m/dir" 2> "$d/w.err" && bad "$what: mkdir succeeded"
  grep -q "Read-only file system" "$d/w.err" || bad "$what: mkdir: $(cat "$d/w.err")"
}

# Forking: the parent returns when the mount is ready; the PID in the
# pid file serves the mount and is in its fsname.
gm --ro -a "$img" -m /dev/sda "$mnt" --pid-file "$d/pid"
[ "$(cat "$d/ours.rc")" = 0 ] || fail "native mount: exit $(cat "$d/ours.rc"): $(cat "$d/ours.err")"
[ -s "$d/pid" ] || fail "native mount: no pid file"
pid="$(cat "$d/pid")"
pids+=("$pid")
[ "$ms" -lt $((ready * 1000)) ] || bad "native mount: took $ms ms"
[ -s "$d/ours.err" ] && bad "native mount printed: $(cat "$d/ours.err")"
mountpoint -q "$mnt" || fail "native mount: $mnt is not a mountpoint"
[ "$(mount_of "$mnt")" = "fuse.guestmount guestmount:$pid" ] ||
  bad "native mount: mountinfo says ‘$(mount_of "$mnt")’, expected ‘fuse.guestmount guestmount:$pid’"
[ -n "$vg" ] || [ "$(cat "/proc/$pid/comm")" = guestmount ] ||
  bad "native mount: process $pid is $(cat "/proc/$pid/comm")"
check_tree "$mnt" "native mount"
rc=0
ours guestunmount "$mnt" 2> "$d/gu.err" || rc=$?
[ "$rc" = 0 ] || bad "guestunmount: exit $rc: $(cat "$d/gu.err")"
# guestunmount waits for guestmount; under valgrind it cannot recognise
# the process (its command name is valgrind's), so wait here.
if [ -n "$vg" ]; then
  for i in $(seq 1 300); do gone "$pid" && break; sleep 0.1; done
fi
gone "$pid" || bad "guestmount $pid still runs after guestunmount returned"
[ -e "$d/pid" ] && bad "the pid file is still there after guestmount exited"
[ -z "$(mount_of "$mnt")" ] || bad "still mounted after guestunmount"
echo "ok: native mount ($ms ms), fsname guestmount:$pid, EROFS, guestunmount"

# A relative --pid-file is relative to where guestmount was started,
# although the daemon changes to / (the reference's man page uses one).
gm --ro -a "$img" -m /dev/sda mnt --pid-file pid.rel
[ "$(cat "$d/ours.rc")" = 0 ] || fail "relative pid file: exit $(cat "$d/ours.rc"): $(cat "$d/ours.err")"
pid="$(cat "$d/pid.rel")"
pids+=("$pid")
rc=0
ours guestunmount "$mnt" 2> "$d/gu.err" || rc=$?
[ "$rc" = 0 ] || bad "guestunmount (relative pid file): exit $rc: $(cat "$d/gu.err")"
for i in $(seq 1 300); do gone "$pid" && break; sleep 0.1; done
gone "$pid" || bad "guestmount $pid (relative pid file) did not exit"
if [ -e "$d/pid.rel" ]; then
  bad "a relative pid file is left behind after guestmount exited"
else
  echo "ok: relative --pid-file removed"
fi

# --no-fork, --fd: one byte on the descriptor when the mount is ready;
# SIGTERM unmounts and exits 0.  The fifo is opened read-write so that
# neither side blocks in open(2).
mkfifo "$d/fifo"
exec {fifo}<> "$d/fifo"
t0=$(now_ms)
env -u LIBGUESTFS_BACKEND_SETTINGS "$run" $vg guestmount --no-fork --fd="$fifo" \
  --dir-cache-timeout=1 --ro -a "$img" -m /dev/sda "$mnt" \
  > "$d/nofork.out" 2> "$d/nofork.err" &
gmpid=$!
pids+=("$gmpid")
if ! timeout "$ready" dd bs=1 count=1 status=none <&"$fifo" > "$d/byte"; then
  cat "$d/nofork.err" >&2
  fail "--no-fork --fd: nothing written on the descriptor within $ready s"
fi
ms=$(( $(now_ms) - t0 ))
exec {fifo}>&-
[ "$(od -An -tx1 "$d/byte" | tr -d ' ')" = 00 ] || bad "--fd: wrote $(od -An -tx1 "$d/byte")"
mountpoint -q "$mnt" || fail "--no-fork: not mounted when the byte came"
[ "$(mount_of "$mnt")" = "fuse.guestmount guestmount:$gmpid" ] ||
  bad "--no-fork: mountinfo says ‘$(mount_of "$mnt")’, expected ‘fuse.guestmount guestmount:$gmpid’"
kill -0 "$gmpid" || fail "--no-fork: guestmount is not running"
check_tree "$mnt" "--no-fork mount"
kill -TERM "$gmpid"
rc=0
timeout 60 tail --pid="$gmpid" -f /dev/null || true
wait "$gmpid" || rc=$?
[ "$rc" = 0 ] || bad "--no-fork: exit $rc after SIGTERM (119: valgrind found errors)"
[ -z "$(mount_of "$mnt")" ] || bad "--no-fork: still mounted after SIGTERM"
# Quiet, and under valgrind: no report (valgrind's own warnings aside).
grep -Ev '^--[0-9]+-- ' "$d/nofork.err" > "$d/nofork.err2" || true
if [ -s "$d/nofork.err2" ]; then
  cat "$d/nofork.err2" >&2
  bad "--no-fork mount printed errors${vg:+ (valgrind)}"
fi
echo "ok: --no-fork --fd ($ms ms), SIGTERM unmounts, exit $rc${vg:+ (valgrind clean)}"

# --- --vol POOL/VOLUME: a guestkit dir pool's volume (native) -----------

export GUESTKIT_STATE_DIR="$d/state"
"$run" guestkit pool-define-as gmpool dir --target "$d/pool" > /dev/null
"$run" guestkit pool-start gmpool --build > /dev/null
cp "$img" "$d/pool/vol.img"
"$run" guestkit pool-refresh gmpool > /dev/null
mkdir "$d/mnt3"
gm --ro --vol gmpool/vol.img -m /dev/sda --pid-file "$d/vol.pid" "$d/mnt3"
if [ "$(cat "$d/ours.rc")" = 0 ]; then
  pid="$(cat "$d/vol.pid")"
  pids+=("$pid")
  check_tree "$d/mnt3" "--vol mount"
  ours guestunmount "$d/mnt3" 2> "$d/gu.err" || bad "--vol: guestunmount: $(cat "$d/gu.err")"
  for i in $(seq 1 300); do gone "$pid" && break; sleep 0.1; done
  gone "$pid" || bad "--vol: guestmount $pid still runs after guestunmount"
  [ -z "$(mount_of "$d/mnt3")" ] || bad "--vol: still mounted after guestunmount"
  echo "ok: --vol mount"
else
  bad "--vol mount: $(cat "$d/ours.err")"
fi
expect_error "--vol with a path trick" "guestmount: volume name ‘../x’ contains ‘..’" \
  --ro --vol gmpool/../x -m /dev/sda "$d/mnt3"
expect_error "--vol of a missing volume" \
  "guestmount: no volume called ‘nosuch.img’ in pool ‘gmpool’" \
  --ro --vol gmpool/nosuch.img -m /dev/sda "$d/mnt3"

[ "$failures" = 0 ] || fail "$failures check(s) failed"
echo "ok: guestmount options"
