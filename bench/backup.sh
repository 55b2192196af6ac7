#!/bin/bash
# Benchmark: guestkit-backup against virtnbdbackup (Debian package
# virtnbdbackup, 1.9), in one run, ratios printed.  Both back up the same
# libvirt domain (type qemu, TCG) with one 8 GiB qcow2 disk holding 1 GiB
# of random data (four 256 MiB extents, one every 2 GiB, from 128 MiB on:
# sector 0 is zero, so SeaBIOS finds nothing to boot and the domain just
# sits there, running, with no OS), and for each tool:
#   - full backup: wall time, and the backup directory's size on disk (du);
#     guestkit's also once more with -O raw (its size against the same target);
#   - incremental backup after 64 MiB of random data were overwritten
#     (at 2240 MiB, inside the second extent): wall time, and how much the
#     backup directory grew (du);
#   - restore of the latest backup (the full + incremental chain) into a
#     new qcow2 image (virtnbdrestore writes the source's format; guestkit
#     gets -O qcow2 to match): wall time.
# The two tools take their backups in turn on the same disk states:
# virtnbdbackup full, guestkit full, the change, virtnbdbackup inc,
# guestkit inc; each keeps its own checkpoints.  Both restored images must
# equal the source disk (qemu-img compare), else the bench fails; a missed
# target (guestkit at least as fast, and no larger) is printed, never an
# error.  virtnbdbackup runs with its defaults: stream format,
# uncompressed, no fsync of its output (guestkit fsyncs everything it
# writes: a line after the table says what a sync of virtnbdbackup's data
# files right after it costs on top, untimed).
#
# Modes:
#   (default) running: the domain runs all along.  Both tools use
#     libvirt's backup API in pull mode with checkpoints (qemu's dirty
#     bitmaps); the change goes through the running qemu's block layer
#     (HMP qemu-io on the disk's device), so the bitmaps see it.
#     virtnbdbackup refuses to run while the domain has a checkpoint it did
#     not make ("Foreign checkpoint found"): around its incremental
#     backup, guestkit's checkpoint is hidden from libvirt (checkpoint-delete
#     --metadata: qemu's bitmap stays) and redefined afterwards, untimed.
#   --offline: the domain is shut off after virtnbdbackup's full backup
#     (virtnbdbackup 1.9 turns a full backup of a shut-off domain into a
#     "copy" without a checkpoint: its chain can only start on a running
#     domain); guestkit's full backup, the change (qemu-io on the image)
#     and both incrementals are offline (qcow2 persistent bitmaps, read
#     through qemu-nbd).
#
# Before each timed step everything is synced and the pages of the files
# it reads (the source image, the backup directories) are evicted from the
# host cache (posix_fadvise), so every step reads its data from disk alike.
# Only those: the programs stay cached, as they are in real use (a global
# drop_caches would charge python's start-up to virtnbdbackup).
# libvirtd: the bench starts its own (and virtlogd, unless one runs) and
# stops them by PID at exit; it refuses to run when a libvirtd is already
# running, unless BACKUP_BENCH_SHARED_LIBVIRTD=1 (then it uses that one and
# leaves it running).
# Work files (~6 GiB at most) go to a temporary directory under
# ${TMPDIR:-/var/tmp}, which must not be a tmpfs.
# Usage: [BACKUP_BENCH_SHARED_LIBVIRTD=1] bench/backup.sh [--offline] [BUILDDIR]
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
mode=running
if [ "${1:-}" = --offline ]; then mode=offline; shift; fi
build="$(cd "${1:-$top/build}" && pwd)"
. "$build/tests/functions.sh"
for b in virsh libvirtd virtlogd qemu-img qemu-io qemu-nbd python3; do
  command -v "$b" > /dev/null || fail "$b is missing (scripts/setup.sh installs it)"
done
command -v virtnbdbackup > /dev/null && command -v virtnbdrestore > /dev/null ||
  fail "virtnbdbackup is missing (Debian: virtnbdbackup)"
vnb_version="$(virtnbdbackup -V 2>&1 | tail -1)"

# The installed-style binary, not the ./run wrapper (a bash script whose
# own start-up would be charged to guestkit).
export LD_LIBRARY_PATH="$build/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GUESTKIT_MODULE_DIR="$build/modules/.libs"
gk="$build/tools/guestkit-backup/.libs/guestkit-backup"
[ -x "$gk" ] || gk="$build/tools/guestkit-backup/guestkit-backup"
"$gk" --help > /dev/null 2>&1 ||
  fail "guestkit's guestkit-backup does not run: $("$gk" --help 2>&1 | head -1)"

uri=qemu:///system
dom="gkbench-backup-$$"
d="$(mktemp -d "${TMPDIR:-/var/tmp}/gk-bench.XXXXXX")"
# qemu runs as libvirt-qemu: it must reach the disk, the change's data
# file and the scratch files.
chmod 755 "$d"
libvirtd_pid= virtlogd_pid= defined=

# Whatever happens: the domain, the daemons we started, the files.
cleanup () {
  local f pid
  if [ -n "$defined" ]; then
    virsh -q -c "$uri" destroy "$dom" > /dev/null 2>&1 || true
    virsh -q -c "$uri" undefine --checkpoints-metadata "$dom" > /dev/null 2>&1 ||
      echo "$0: warning: could not undefine the domain $dom: undefine it by hand" >&2
  fi
  # A qemu-nbd that virtnbdbackup forked (offline mode; its pid files are
  # next to its socket, in $d/tmp) and left behind on a failure.
  for f in "$d"/tmp/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    case "$pid" in ''|*[!0-9]*) continue ;; esac
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = qemu-nbd ] && stop_pid "$pid" 50
  done
  [ -z "$virtlogd_pid" ] || stop_pid "$virtlogd_pid" 50
  [ -z "$libvirtd_pid" ] || stop_pid "$libvirtd_pid" 100
  rm -rf "$d"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

[ "$(stat -f -c %T "$d")" != tmpfs ] ||
  fail "$d is on a tmpfs: set TMPDIR to a directory on a disk"
avail=$(df -P --block-size=1G "$d" | awk 'NR == 2 { print $4 }')
[ "$avail" -ge 7 ] || fail "$d: ${avail} GiB free, the bench needs 7"

# ---- libvirtd and virtlogd (tests/libvirtd.sh, tests/backup-domain.sh).
if virsh -c "$uri" version > /dev/null 2>&1; then
  # Another test's daemon may be restarted under us (the domain is then
  # lost, or left defined), and its VMs take CPU time from the bench.
  [ "${BACKUP_BENCH_SHARED_LIBVIRTD:-}" = 1 ] ||
    fail "a libvirtd is already running: stop it first (the bench starts its own), or set BACKUP_BENCH_SHARED_LIBVIRTD=1 to use it"
  echo "(BACKUP_BENCH_SHARED_LIBVIRTD=1: using the libvirtd already running; it is left running)"
else
  # Stale sockets from a killed daemon would make virsh wait.
  rm -f /var/run/libvirt/libvirt-sock /var/run/libvirt/libvirt-sock-ro \
        /var/run/libvirt/libvirt-admin-sock
  libvirtd -p "$d/libvirtd.pid" > "$d/libvirtd.log" 2>&1 &
  libvirtd_pid=$!
  for i in $(seq 1 300); do
    virsh -c "$uri" version > /dev/null 2>&1 && break
    kill -0 "$libvirtd_pid" 2>/dev/null || { cat "$d/libvirtd.log" >&2; fail "libvirtd exited"; }
    sleep 0.2
  done
  virsh -c "$uri" version > /dev/null 2>&1 ||
    { cat "$d/libvirtd.log" >&2; fail "libvirtd did not answer within 60 s"; }
fi
if ! { [ -S /var/run/libvirt/virtlogd-sock ] &&
       python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' \
         /var/run/libvirt/virtlogd-sock 2>/dev/null; }; then
  rm -f /var/run/libvirt/virtlogd-sock /var/run/libvirt/virtlogd-admin-sock
  virtlogd -p "$d/virtlogd.pid" > "$d/virtlogd.log" 2>&1 &
  virtlogd_pid=$!
  for i in $(seq 1 50); do
    [ -S /var/run/libvirt/virtlogd-sock ] && break
    sleep 0.1
  done
  [ -S /var/run/libvirt/virtlogd-sock ] ||
    { cat "$d/virtlogd.log" >&2; fail "virtlogd did not start"; }
fi

# ---- The source disk and the change's data.
echo "== source: 8 GiB qcow2, 1 GiB of random data ($d)"
truncate -s 8G "$d/src.raw"
for i in 0 1 2 3; do
  head -c 256M /dev/urandom |
    dd of="$d/src.raw" bs=1M seek=$((i * 2048 + 128)) conv=notrunc status=none
done
qemu-img convert -O qcow2 "$d/src.raw" "$d/disk.qcow2"
rm -f "$d/src.raw"
head -c 64M /dev/urandom > "$d/change.bin"
chmod 644 "$d/change.bin"
# Scratch files and sockets: qemu (libvirt-qemu) creates some of them,
# like in /var/tmp.  guestkit's go to $TMPDIR, virtnbdbackup's to -S, -f.
mkdir "$d/tmp"
chmod 1777 "$d/tmp"
export TMPDIR="$d/tmp"

# ---- The domain: the disk, no kernel, no network.
cat > "$d/dom.xml" <<XML
<domain type='qemu'>
  <name>$dom</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$d/disk.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
XML
virsh -q -c "$uri" define "$d/dom.xml" > /dev/null || fail "virsh define $d/dom.xml"
defined=1
virsh -q -c "$uri" start "$dom" > /dev/null || fail "virsh start $dom"
[ "$(virsh -c "$uri" domstate "$dom")" = running ] || fail "$dom is not running"

# ---- Helpers.
evict () { # DIR|FILE...: sync, then drop the pages of every file in them
  sync
  find "$@" -type f -print0 | python3 -c '
import os, sys
for p in sys.stdin.buffer.read().split(b"\0"):
    if p:
        fd = os.open(p, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)'
}
# timed NAME CMD...: wall time of CMD into $d/t_NAME, its output into
# $d/NAME.log (shown when it fails).
timed () {
  local name="$1"; shift
  python3 -c 'import subprocess,sys,time
log = open(sys.argv[1], "w")
s = time.monotonic()
r = subprocess.run(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
print("%.3f" % (time.monotonic() - s))
sys.exit(r.returncode)' "$d/$name.log" "$@" > "$d/t_$name" ||
    { tail -20 "$d/$name.log" >&2; fail "$name: $* failed"; }
}
dub () { du -s --block-size=1 "$1" | cut -f1; }
stop_domain () {
  local i
  virsh -q -c "$uri" destroy "$dom" > /dev/null || fail "virsh destroy $dom"
  for i in $(seq 1 100); do
    [ "$(virsh -c "$uri" domstate "$dom" 2>/dev/null)" = "shut off" ] && return 0
    sleep 0.1
  done
  fail "$dom is not shut off 10 s after virsh destroy"
}
vnb=(virtnbdbackup -U "$uri" -d "$dom" -n -S "$d/tmp" -f "$d/tmp/vnb.sock")
ours=("$gk" -q --no-progress)

# ---- Full backups of the unchanged disk.
echo "== full backups ($mode)"
evict "$d/disk.qcow2"
timed vnb_full "${vnb[@]}" -l full -o "$d/vnb"
# It does not fsync its output (guestkit does, within its time): what
# that costs, untimed above, right after.
timed vnb_full_sync sync "$d"/vnb/*.full.data
dub "$d/vnb" > "$d/s_vnb_full"
if [ "$mode" = offline ]; then stop_domain; fi
evict "$d/disk.qcow2"
timed gk_full "${ours[@]}" full -d "$dom" -c "$uri" "$d/gk"
dub "$d/gk" > "$d/s_gk_full"
# The same full backup with -O raw (a sparse raw image: no qcow2 tables),
# in a chain of its own, for the size line under the table; then removed
# (its checkpoint stays until the domain goes).
evict "$d/disk.qcow2"
timed gk_full_raw "${ours[@]}" full -O raw -d "$dom" -c "$uri" "$d/gk-raw"
dub "$d/gk-raw" > "$d/s_gk_full_raw"
rm -rf "$d/gk-raw"

# ---- 64 MiB of random data overwritten, seen by the dirty bitmaps.
if [ "$mode" = running ]; then
  # The device's QOM path (HMP qemu-io -d): a node name would get a new
  # BlockBackend, which the virtio device's write permission forbids.
  qdev=$(virsh -c "$uri" qemu-monitor-command "$dom" --hmp 'info block' |
         awk -v f="$d/disk.qcow2" 'index($0, f) { hit = 1 }
                                  hit && !done && /Attached to:/ { print $3; done = 1 }')
  [ -n "$qdev" ] || fail "no device for $d/disk.qcow2 in HMP info block"
  out=$(virsh -c "$uri" qemu-monitor-command "$dom" --hmp \
        "qemu-io -d $qdev \"write -s $d/change.bin 2240M 64M\"")
  [ -z "$(echo "$out" | tr -d '[:space:]')" ] || fail "HMP qemu-io: $out"
else
  qemu-io -f qcow2 -c "write -q -s $d/change.bin 2240M 64M" "$d/disk.qcow2" ||
    fail "qemu-io write on $d/disk.qcow2"
fi
# (qemu-img dd counts count from the start of the input, skip included.)
qemu-img dd -U -f qcow2 -O raw bs=1M skip=2240 count=2304 if="$d/disk.qcow2" of="$d/check.raw"
cmp -s "$d/check.raw" "$d/change.bin" || fail "the change did not reach $d/disk.qcow2"
rm -f "$d/check.raw"

# ---- Incremental backups.
echo "== incremental backups ($mode)"
# virtnbdbackup's "Foreign checkpoint found": hide the others' from libvirt
# (their bitmaps stay in qemu and in the image) and redefine them after.
hidden=()
while read -r cp; do
  [ -n "$cp" ] || continue
  case "$cp" in *virtnbdbackup*) continue ;; esac
  virsh -q -c "$uri" checkpoint-dumpxml "$dom" "$cp" > "$d/cp-${#hidden[@]}.xml"
  virsh -q -c "$uri" checkpoint-delete --metadata "$dom" "$cp" > /dev/null
  hidden+=("$cp")
done < <(virsh -q -c "$uri" checkpoint-list --topological --name "$dom")
evict "$d/disk.qcow2"
timed vnb_inc "${vnb[@]}" -l inc -o "$d/vnb"
timed vnb_inc_sync sync "$d"/vnb/*.inc.*.data
dub "$d/vnb" > "$d/s_vnb_chain"
for i in "${!hidden[@]}"; do
  virsh -q -c "$uri" checkpoint-create --redefine "$dom" "$d/cp-$i.xml" > /dev/null ||
    fail "cannot redefine checkpoint ${hidden[$i]}"
done
evict "$d/disk.qcow2"
timed gk_inc "${ours[@]}" inc -d "$dom" -c "$uri" "$d/gk"
dub "$d/gk" > "$d/s_gk_chain"
if [ "$mode" = running ]; then stop_domain; fi

# ---- Restores of the latest backup (full + inc) into new qcow2 images.
echo "== restores"
mkdir "$d/r-gk"
evict "$d/vnb" "$d/gk"
timed vnb_restore virtnbdrestore -U "$uri" -n -f "$d/tmp/vnbr.sock" -L "$d/vnbrestore.log" \
  -i "$d/vnb" -o "$d/r-vnb"
evict "$d/vnb" "$d/gk"
timed gk_restore "${ours[@]}" restore -O qcow2 -o "$d/r-gk/vda.qcow2" "$d/gk"

# ---- Checks: both restored images equal the source at that point.
bad=()
[ -f "$d/r-vnb/disk.qcow2" ] ||
  bad+=("virtnbdrestore wrote no $d/r-vnb/disk.qcow2: $(ls "$d/r-vnb" | tr '\n' ' ')")
for r in "$d/r-vnb/disk.qcow2" "$d/r-gk/vda.qcow2"; do
  [ -f "$r" ] || continue
  qemu-img compare -q "$d/disk.qcow2" "$r" ||
    bad+=("$r differs from the source disk (qemu-img compare)")
done

# ---- The table.  Ratios: time theirs/ours (how many times faster
# guestkit is), size ours/theirs (guestkit's share of theirs).
t () { cat "$d/t_$1"; }
s () { cat "$d/s_$1"; }
mib () { python3 -c "print('%.1f' % ($1 / 1048576))"; }
ratio () { python3 -c "print('%.4f' % ($1 / max($2, 0.0005)))"; }
tmet () { python3 -c "print('met' if $1 >= 1 else 'NOT met')"; }
# Sizes: met when ours <= theirs in bytes (not the rounded ratio).
smet () { python3 -c "print('met' if $1 <= $2 else 'NOT met')"; }
row () { # metric theirs ours ratio [target]
  printf '%-30s %14s %12s %8s   %s\n' "$1" "$2" "$3" "$4" "${5:-}"
}
vnb_inc_size=$(( $(s vnb_chain) - $(s vnb_full) ))
gk_inc_size=$(( $(s gk_chain) - $(s gk_full) ))
echo
echo "8 GiB qcow2, 1 GiB of random data, then 64 MiB overwritten; domain $mode"
echo "(virtnbdbackup $vnb_version; guestkit-backup: $gk)"
row "metric" "virtnbdbackup" "guestkit" "ratio" ""
r_ft=$(ratio "$(t vnb_full)" "$(t gk_full)")
row "full backup (s)" "$(t vnb_full)" "$(t gk_full)" "${r_ft}x" "target >=1x: $(tmet "$r_ft")"
r_fs=$(ratio "$(s gk_full)" "$(s vnb_full)")
row "full backup size (KiB, du)" "$(( $(s vnb_full) / 1024 ))" "$(( $(s gk_full) / 1024 ))" "${r_fs}x" "target <=1x: $(smet "$(s gk_full)" "$(s vnb_full)")"
r_fsr=$(ratio "$(s gk_full_raw)" "$(s vnb_full)")
row "  with -O raw (KiB, du)" "$(( $(s vnb_full) / 1024 ))" "$(( $(s gk_full_raw) / 1024 ))" "${r_fsr}x" "target <=1x: $(smet "$(s gk_full_raw)" "$(s vnb_full)") ($(t gk_full_raw) s)"
r_it=$(ratio "$(t vnb_inc)" "$(t gk_inc)")
row "incremental backup (s)" "$(t vnb_inc)" "$(t gk_inc)" "${r_it}x" "target >=1x: $(tmet "$r_it")"
r_is=$(ratio "$gk_inc_size" "$vnb_inc_size")
row "incremental size (KiB, du)" "$(( vnb_inc_size / 1024 ))" "$(( gk_inc_size / 1024 ))" "${r_is}x" "target <=1x: $(smet "$gk_inc_size" "$vnb_inc_size")"
r_rt=$(ratio "$(t vnb_restore)" "$(t gk_restore)")
row "restore full+inc (s)" "$(t vnb_restore)" "$(t gk_restore)" "${r_rt}x" "target >=1x: $(tmet "$r_rt")"
[ -f "$d/r-vnb/disk.qcow2" ] &&
  row "restored image (MiB, du)" "$(mib "$(dub "$d/r-vnb/disk.qcow2")")" "$(mib "$(dub "$d/r-gk/vda.qcow2")")" "" ""
echo "(ratio: time theirs/ours = how many times faster guestkit is; size ours/theirs;"
echo " virtnbdbackup's default output: stream format, uncompressed; restores into qcow2;"
if [ "$mode" = offline ]; then
  echo " offline: virtnbdbackup's full backup ran on the running domain, all else shut off;"
fi
echo " virtnbdbackup does not fsync its backups, guestkit does: a sync of its data"
echo " files right after costs $(t vnb_full_sync) s (full), $(t vnb_inc_sync) s (incremental) more;"
echo " a qcow2 image costs its own tables: header, L1, refcount table and block, and"
echo " one 4 KiB page per 512 MiB of disk with data in the L2 table, each on its own"
echo " cluster; an incremental overlay's minimum is 5 pages, 20 KiB; -O raw has none)"
echo "backup_full_time_ratio=$r_ft backup_full_size_ratio=$r_fs backup_full_raw_size_ratio=$r_fsr backup_inc_time_ratio=$r_it backup_inc_size_ratio=$r_is backup_restore_time_ratio=$r_rt"

if [ ${#bad[@]} -gt 0 ]; then
  printf '%s\n' "${bad[@]}" >&2
  fail "a restored image is wrong (above)"
fi
