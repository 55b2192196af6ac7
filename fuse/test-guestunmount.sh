#!/bin/bash
# guestunmount: options and exit codes as libguestfs's (0 unmounted, 1
# usage, 2 could not unmount, 3 not mounted), decided from mountinfo,
# not from fusermount's messages; non-FUSE mounts are left alone; a busy
# mount is retried; and the guarantee: once guestunmount has returned,
# the guestmount process has exited and the disk image is free.
#
# Most cases use a stand-in for guestmount (fakefuse.py below: a FUSE
# mount that serves nothing, made with fusermount3 like libfuse does,
# so root is not needed).  Two appliances are launched: libguestfs's
# guestmount (a busy mount, a foreign FUSE mount), and ours (the
# guarantee, on a copy of a test image).
set -euo pipefail
. "${abs_top_builddir:?}/tests/functions.sh"

command -v fusermount3 > /dev/null || skip "fusermount3 is not installed"
[ -r /dev/fuse ] && [ -w /dev/fuse ] || skip "/dev/fuse is not usable"

d="$(mktemp -d)"
pids=()
cleanup () {
  local pid m
  for pid in "${pids[@]}"; do stop_pid "$pid" 10; done
  for m in "$d"/*; do
    if mounted "$m"; then
      fusermount3 -u -z "$m" 2>/dev/null || umount "$m" 2>/dev/null || true
    fi
  done
  rm -rf "$d"
}
trap cleanup EXIT

gu () { ours guestunmount "$@"; }

# "guestunmount ARGS" must exit with CODE; its stderr is left in $d/err.
expect () {
  local code="$1" rc=0; shift
  gu "$@" > "$d/out" 2> "$d/err.all" || rc=$?
  # Under valgrind: its warnings ("--PID-- WARNING: unhandled ... syscall:
  # 434", pidfd_open, which valgrind 3.19 does not know) are not ours.
  grep -v '^--[0-9]*-- ' "$d/err.all" > "$d/err" || true
  [ "$rc" = "$code" ] ||
    { cat "$d/out" "$d/err" >&2; fail "guestunmount $*: exit $rc, expected $code"; }
}

# Is anything mounted at the (canonical) path?  Field 5 of mountinfo,
# with the kernel's octal escapes undone.
mounted () {
  python3 - "$1" <<'PY'
import re, sys
unesc = lambda s: re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)
sys.exit(0 if any(unesc(l.split(" ")[4]) == sys.argv[1]
                  for l in open("/proc/self/mountinfo")) else 1)
PY
}

# The PID in the mount source of the mount at $1 ("guestmount:PID").
source_pid () {
  python3 - "$1" <<'PY'
import re, sys
unesc = lambda s: re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)
for l in open("/proc/self/mountinfo"):
    f = l.split(" ")
    if unesc(f[4]) == sys.argv[1]:
        src = f[f.index("-") + 2]
print(src.split(":", 1)[1] if src.startswith("guestmount:") else "")
PY
}

# A process is gone if it has no /proc entry or is a zombie.
gone () {
  ! [ -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# fakefuse.py MOUNTPOINT SOURCE COMM LINGER READYFILE: mount with
# fsname=SOURCE (PID is replaced by its own PID), subtype=guestmount, under
# the command name COMM; write its PID to READYFILE once mounted; after the
# unmount, stay LINGER seconds (guestmount shutting the appliance down),
# then exit.
cat > "$d/fakefuse.py" <<'PY'
import ctypes, os, socket, subprocess, sys, time
mp, source, comm, linger, ready = sys.argv[1:6]
ctypes.CDLL(None).prctl(15, comm.encode(), 0, 0, 0)   # PR_SET_NAME
ours, theirs = socket.socketpair()
fsname = source.replace("PID", str(os.getpid()))
subprocess.run(["fusermount3", "-o", "fsname=%s,subtype=guestmount" % fsname,
                "--", mp], env=dict(os.environ, _FUSE_COMMFD=str(theirs.fileno())),
               pass_fds=[theirs.fileno()], check=True)
_, fds, _, _ = socket.recv_fds(ours, 1, 1)
with open(ready + ".tmp", "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(ready + ".tmp", ready)
try:
    while True:                 # until the unmount: ENODEV
        os.read(fds[0], 1 << 20)
except OSError:
    pass
time.sleep(float(linger))
PY

# Start fakefuse.py in the background; its PID is left in $fake.
fake_mount () {
  local mp="$1" source="$2" comm="$3" linger="$4" i
  rm -f "$d/ready"
  python3 "$d/fakefuse.py" "$mp" "$source" "$comm" "$linger" "$d/ready" &
  fake=$!
  pids+=("$fake")
  for i in $(seq 1 100); do
    [ -f "$d/ready" ] && break
    sleep 0.1
  done
  [ -f "$d/ready" ] || fail "fakefuse.py did not mount $mp"
  [ "$(cat "$d/ready")" = "$fake" ] || fail "fakefuse.py: unexpected PID"
}

# --- Options and usage errors ------------------------------------------

expect 0 --help
grep -q -- "--retry=N" "$d/out" || fail "--help: $(cat "$d/out")"
expect 0 -V
grep -qx "guestunmount guestkit [0-9.]*" "$d/out" || fail "-V: $(cat "$d/out")"
expect 0 --long-options
printf -- '--%s\n' fd help quiet no-retry retry verbose version | cmp -s - "$d/out" ||
  fail "--long-options: $(cat "$d/out")"
expect 0 --short-options
printf -- '-%s\n' q v V | cmp -s - "$d/out" || fail "--short-options: $(cat "$d/out")"
if command -v guestunmount > /dev/null && [ -x /usr/bin/guestunmount ]; then
  for o in --long-options --short-options; do
    /usr/bin/guestunmount "$o" | cmp -s - <(gu "$o") || fail "$o differs from the reference's"
  done
fi

# Every option is documented in the man page.
pod="${abs_srcdir:-$abs_top_srcdir/fuse}/guestunmount.pod"
for o in $(gu --long-options) $(gu --short-options); do
  grep -q -- "B<$o>" "$pod" || fail "option $o is not in guestunmount.pod"
done

expect 1
grep -q "you must specify a mountpoint" "$d/err" || fail "no mountpoint: $(cat "$d/err")"
expect 1 "$d" "$d"
expect 1 --bogus "$d"
grep -q "Try ‘guestunmount --help’" "$d/err" || fail "--bogus: $(cat "$d/err")"
for v in abc -1 3x ""; do
  expect 1 --fd="$v" "$d"
  grep -q "cannot parse fd option" "$d/err" || fail "--fd=$v: $(cat "$d/err")"
done
for v in 64 -1 x 2x; do
  expect 1 --retry="$v" "$d"
  grep -q "cannot parse retries option" "$d/err" || fail "--retry=$v: $(cat "$d/err")"
done
expect 1 --fd=99 "$d"                                 # not an open descriptor
grep -q -- "--fd=99: Bad file descriptor" "$d/err" || fail "--fd=99: $(cat "$d/err")"
GUESTUNMOUNT_WAIT_TIMEOUT=0 expect 1 "$d"
echo "ok: options and usage errors"

# --- Not mounted, missing, not FUSE --------------------------------------

# The reference retried for 31 s here and exited 2: this is instant, 3.
mkdir "$d/empty"
start=$SECONDS
expect 3 "$d/empty"
[ $((SECONDS - start)) -lt 5 ] || fail "'not mounted' took $((SECONDS - start)) s"
grep -qx "guestunmount: $d/empty is not mounted" "$d/err" || fail "not mounted: $(cat "$d/err")"
expect 3 -q "$d/empty"
[ ! -s "$d/err" ] || fail "-q still printed: $(cat "$d/err")"
(cd "$d" && expect 3 --no-retry empty/.)
(cd "$d/empty" && expect 3 --fd=0 . < /dev/null)

expect 2 "$d/nonexistent"
grep -qx "guestunmount: $d/nonexistent: No such file or directory" "$d/err" ||
  fail "missing directory: $(cat "$d/err")"
expect 2 -q "$d/nonexistent"

# A tmpfs (root, or a user+mount namespace): refused, and left mounted.
mkdir "$d/tmpfs"
if [ "$(id -u)" = 0 ]; then
  mount -t tmpfs guestunmount-test "$d/tmpfs"
  expect 2 "$d/tmpfs"
  grep -q "is not a FUSE filesystem (type tmpfs" "$d/err" || fail "tmpfs: $(cat "$d/err")"
  mounted "$d/tmpfs" || fail "the tmpfs was unmounted"
  umount "$d/tmpfs"
  echo "ok: not mounted, missing, not FUSE"
elif unshare -rm true 2>/dev/null; then
  unshare -rm bash -c 'mount -t tmpfs t "$1" && "$2" guestunmount "$1"; echo "rc=$?"' \
    _ "$d/tmpfs" "$run" > "$d/out" 2> "$d/err" || true
  grep -qx "rc=2" "$d/out" && grep -q "is not a FUSE filesystem" "$d/err" ||
    fail "tmpfs in a namespace: $(cat "$d/out" "$d/err")"
  echo "ok: not mounted, missing, not FUSE (in a user namespace)"
else
  echo "ok: not mounted, missing (not FUSE: skipped, needs root or user namespaces)"
fi

# --- Waiting for the server (stand-in) -----------------------------------

# A mount point with a space and a backslash (mountinfo escapes them),
# named through a symbolic link.  The server stays 3 s after the
# unmount: guestunmount must return only after it has exited.
mp="$d/mnt point\\x"
mkdir "$mp"
ln -s "mnt point\\x" "$d/link"
fake_mount "$mp" guestmount:PID guestmount 3
mounted "$mp" || fail "fakefuse.py: not mounted"
[ "$(source_pid "$mp")" = "$fake" ] || fail "mount source: $(source_pid "$mp")"
start=$SECONDS
expect 0 -v "$d/link"
gone "$fake" || fail "guestunmount returned before the server $fake exited"
[ $((SECONDS - start)) -ge 2 ] || fail "guestunmount did not wait for the server"
grep -q "waiting for guestmount process $fake to exit" "$d/err" || fail "-v: $(cat "$d/err")"
! mounted "$mp" || fail "still mounted"
wait "$fake" || true

# The wait is bounded: exit 2 naming the PID, the unmount is done.
fake_mount "$mp" guestmount:PID guestmount 60
GUESTUNMOUNT_WAIT_TIMEOUT=1 expect 2 "$mp"
grep -q "guestmount process $fake has not exited after 1 seconds" "$d/err" ||
  fail "wait timeout: $(cat "$d/err")"
! mounted "$mp" || fail "still mounted after the wait timeout"
stop_pid "$fake"

# A server that died: its mount answers ENOTCONN; nothing to wait for.
fake_mount "$mp" guestmount:PID guestmount 0
kill -9 "$fake"
wait "$fake" 2> /dev/null || true
mounted "$mp" || fail "the dead server's mount is gone already"
expect 0 -v "$mp"
grep -q "has already exited" "$d/err" || fail "dead server: $(cat "$d/err")"
! mounted "$mp" || fail "the dead server's mount is still there"

# The PID in the source is not a guestmount: warn, do not wait for it.
sleep 60 & other=$!
pids+=("$other")
fake_mount "$mp" "guestmount:$other" guestmount 0
expect 0 "$mp"
grep -q "process $other named by the mount source is ‘sleep’, not guestmount" "$d/err" ||
  fail "not a guestmount: $(cat "$d/err")"
! gone "$other" || fail "sleep died"
wait "$fake" || true

# A process that is not called guestmount serving with a guestmount:PID
# source (a reused PID, say) is not waited for either.
fake_mount "$mp" guestmount:PID notguestmount 30
start=$SECONDS
expect 0 "$mp"
[ $((SECONDS - start)) -lt 10 ] || fail "waited for a process that is not guestmount"
stop_pid "$fake"

# Busy: an open file descriptor inside keeps the mount busy until
# guestunmount has said it retries (not a fixed time: under valgrind, on
# a loaded machine, guestunmount can take longer than that to start); the
# default retries (after 1 s, then 2 s more) then get through.
fake_mount "$mp" guestmount:PID guestmount 0
rm -f "$d/holding" "$d/release" "$d/err.all"
python3 -c 'import os, sys, time
os.open(sys.argv[1], os.O_PATH)
open(sys.argv[2], "w").close()
for i in range(1200):
    if os.path.exists(sys.argv[3]):
        break
    time.sleep(0.05)' "$mp" "$d/holding" "$d/release" &
holder=$!
pids+=("$holder")
# Busy only once the holder has its descriptor (python starts slowly
# on a loaded machine).
for i in $(seq 1 200); do [ -e "$d/holding" ] && break; sleep 0.05; done
[ -e "$d/holding" ] || fail "the holder did not open $mp"
expect 2 -q --no-retry "$mp"
[ ! -s "$d/err" ] || fail "-q --no-retry printed: $(cat "$d/err")"
mounted "$mp" || fail "unmounted although busy"
rm -f "$d/err.all"
( for i in $(seq 1 1200); do
    grep -qs "retrying in 1 s" "$d/err.all" && break
    sleep 0.05
  done
  touch "$d/release" ) &
releaser=$!
pids+=("$releaser")
expect 0 -v "$mp"
wait "$releaser" || true
grep -q "retrying in 1 s" "$d/err" || fail "no retry: $(cat "$d/err")"
! mounted "$mp" || fail "still mounted after the retries"
wait "$fake" "$holder" || true

# --fd: nothing happens until the other end of the pipe is closed.
fake_mount "$mp" guestmount:PID guestmount 0
start=$SECONDS
expect 0 --fd=3 "$mp" 3< <(echo ignored; sleep 2)
[ $((SECONDS - start)) -ge 1 ] || fail "--fd did not wait for the pipe"
! mounted "$mp" || fail "--fd: still mounted"
wait "$fake" || true
echo "ok: waiting for the server (stand-in)"

# --- libguestfs's guestmount: busy mount, nothing to wait for -----------

require_images
if [ -x /usr/bin/guestmount ]; then
  mkdir "$d/ref"
  ref /usr/bin/guestmount --ro -a "$images/ext4-mbr.img" -m /dev/sda1 "$d/ref"
  mounted "$d/ref" || fail "libguestfs's guestmount did not mount"
  (cd "$d/ref/dir" && exec sleep 600) &
  busy=$!
  pids+=("$busy")
  for i in $(seq 1 200); do
    [ "$(readlink "/proc/$busy/cwd" 2>/dev/null)" = "$d/ref/dir" ] && break
    sleep 0.05
  done
  [ "$(readlink "/proc/$busy/cwd" 2>/dev/null)" = "$d/ref/dir" ] ||
    fail "the busy process is not in $d/ref/dir"
  start=$SECONDS
  expect 2 --no-retry "$d/ref"
  [ $((SECONDS - start)) -lt 10 ] || fail "--no-retry retried"
  grep -q "failed to unmount $d/ref: .*busy" "$d/err" || fail "busy: $(cat "$d/err")"
  mounted "$d/ref" || fail "a busy mount was unmounted"
  stop_pid "$busy"
  expect 0 -v "$d/ref"
  grep -q "names no guestmount process: nothing to wait for" "$d/err" ||
    fail "reference mount: $(cat "$d/err")"
  ! mounted "$d/ref" || fail "reference mount: still mounted"
  echo "ok: libguestfs's guestmount: busy, then unmounted"
else
  fail "libguestfs's guestmount is not installed (scripts/setup.sh installs it)"
fi

# --- Ours: once guestunmount returns, the image is free -----------------

img="$d/disk.img"
cp --sparse=always "$images/ext4-mbr.img" "$img"
mkdir "$d/ours"
# Not under valgrind: that is guestmount's own tests' business.
env -u LIBGUESTFS_BACKEND_SETTINGS "$run" guestmount --rw -a "$img" -m /dev/sda1 "$d/ours"
mounted "$d/ours" || fail "our guestmount did not mount"
pid="$(source_pid "$d/ours")"
[ -n "$pid" ] || fail "our guestmount's mount source is not guestmount:PID: $(grep -F " $d/ours " /proc/self/mountinfo)"
! gone "$pid" || fail "guestmount process $pid (from the mount source) is not running"
# While the appliance has the image, qemu's lock refuses another writer
# (else this test would prove nothing).
if qemu-io -f raw -c 'read 0 512' "$img" > "$d/qemu.out" 2>&1; then
  fail "qemu-io opened the image while it is mounted: no lock to test with"
fi
grep -qi "lock" "$d/qemu.out" || fail "qemu-io while mounted: $(cat "$d/qemu.out")"
echo "written through guestmount" > "$d/ours/guestunmount-test"

expect 0 -v "$d/ours"
# Right away: the process is gone and the image can be written.
gone "$pid" || fail "guestunmount returned while guestmount $pid still runs"
qemu-io -f raw -c 'write 0 512' "$img" > "$d/qemu.out" 2>&1 ||
  fail "the image is still locked after guestunmount: $(cat "$d/qemu.out")"
grep -q "waiting for guestmount process $pid to exit" "$d/err" || fail "-v: $(cat "$d/err")"
! mounted "$d/ours" || fail "still mounted"
# And the write reached the image (/dev/sda1: sectors 2048-204799).
dd if="$img" of="$d/part.img" bs=512 skip=2048 count=202752 status=none
[ "$(debugfs -R 'cat /guestunmount-test' "$d/part.img" 2>/dev/null)" = "written through guestmount" ] ||
  fail "the file written through guestmount is not in the image"
echo "ok: our guestmount: after guestunmount, process $pid has exited and the image is free"
