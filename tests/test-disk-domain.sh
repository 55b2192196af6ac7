#!/bin/bash -
# gk_disk_open_domain on a running libvirt domain (a TCG guest with a
# qcow2 and a raw disk, backup-domain.sh), through disk-domain-tool:
# - a full read with a new checkpoint is the disks at the instant the
#   backup job began, although the guest writes meanwhile; the raw disk
#   refuses the checkpoint;
# - the job ends when the disks are closed, and the checkpoint stays;
# - changes since that checkpoint are exactly what the guest wrote;
# - quiesce freezes and thaws through the guest agent, and fails when no
#   agent listens;
# - errors (unknown domain or checkpoint, existing or bad checkpoint
#   name, a failure once the job began) leave no job and the checkpoints
#   as they were; a job left by a tool that died is reported at once;
#   deleting a checkpoint;
# - shut off, the disks are the image files, with the checkpoint kept;
#   pool volumes and NBD disks too.
set -e
. "$abs_top_builddir/tests/functions.sh"
. "$abs_top_srcdir/tests/libvirtd.sh"
. "$abs_top_srcdir/tests/testvm.sh"
. "$abs_top_srcdir/tests/backup-domain.sh"
[ "$(id -u)" = 0 ] || skip "needs root (libvirt's qemu:///system)"
backup_domain_check
grep -q HAVE_LIBNBD "$abs_top_builddir/config.h" || skip "guestkit was built without libnbd"

# A hang (a deadlock, a job that never ends) must fail the test (124).
tool () { timeout 60 "$abs_top_builddir/tests/disk-domain-tool" "$@"; }
dom=gktest-disk-domain
V () { virsh -q -c "$libvirt_uri" "$@"; }
t0="$(date +%s)"

start_libvirtd
d="$(mktemp -d /tmp/gk-tdd.XXXXXX)"
chmod 755 "$d"                  # qemu runs as libvirt-qemu
cleanup_extra="$d"              # libvirtd.sh removes it at exit
# The job's private directory goes here: the test sees it removed.
mkdir "$d/tmp"
export TMPDIR="$d/tmp"

qemu-img create -q -f qcow2 "$d/a.qcow2" 64M
qemu-img create -q -f raw "$d/b.raw" 32M
qemu-io -f qcow2 -c 'write -q -P 0x11 1M 1M' "$d/a.qcow2"
qemu-io -f raw -c 'write -q -P 0x22 0 2M' "$d/b.raw"
BACKUP_DOMAIN_AGENT=1 start_backup_domain "$dom" "$d/a.qcow2" "$d/b.raw"
echo "ok: the guest is up after $backup_domain_boot s"

# In the guest: random data to DISK at 64 KiB block SEEK, COUNT blocks.
gwrite () {
  guest_run "$dom" "dd if=/dev/urandom of=/dev/$1 bs=64k seek=$2 count=$3 conv=fsync 2>/dev/null" ||
    fail "the guest could not write to $1"
}
# The guest's disks as they are now, as raw files in DIR (the domain
# paused meanwhile; the guest synced what it wrote).
disks_now () {
  mkdir -p "$1"
  V suspend "$dom" > /dev/null
  qemu-img convert -U -f qcow2 -O raw "$d/a.qcow2" "$1/vda"
  cp --sparse=always "$d/b.raw" "$1/vdb"
  V resume "$dom" > /dev/null
}
no_job () {
  # virsh domjobabort returns before the job has ended: wait a little.
  local i
  for i in $(seq 1 100); do
    V domjobinfo "$dom" | grep -q '^Job type: *None' && break
    sleep 0.1
  done
  V domjobinfo "$dom" | grep -q '^Job type: *None' ||
    fail "$1: a job is still running: $(V domjobinfo "$dom")"
  [ -z "$(ls -A "$TMPDIR")" ] || fail "$1: left in \$TMPDIR: $(ls -A "$TMPDIR")"
}
checkpoints () { V checkpoint-list --name "$dom" | sort | tr '\n' ' '; }

gwrite vda 64 16
gwrite vdb 100 4
disks_now "$d/at-c1"

# A full backup with checkpoint c1.  The guest overwrites what it wrote,
# and more, while the job runs: the view stays the one of the start.
mkdir "$d/full"
mkfifo "$d/go"
tool "$dom" --checkpoint c1 --cat-dir "$d/full" --wait \
  < "$d/go" > "$d/full.out" 2> "$d/full.err" &
tool_pid=$!
exec 7> "$d/go"
for i in $(seq 1 300); do
  grep -q '^ready' "$d/full.out" && break
  kill -0 "$tool_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q '^ready' "$d/full.out" || { cat "$d/full.out" "$d/full.err"; fail "the tool did not open the domain"; }
V domjobinfo "$dom" | grep -q '^Operation: *Backup' || fail "no backup job while the disks are open: $(V domjobinfo "$dom")"
sock="$(ls "$TMPDIR"/guestkit-backup-*/nbd.sock)" || fail "no NBD socket in \$TMPDIR"
[ "$(stat -c %a "$(dirname "$sock")")" = 700 ] || fail "the job's directory is not private"
gwrite vda 64 16
gwrite vda 160 3
gwrite vdb 100 4
echo go >&7
exec 7>&-
rc=0
wait "$tool_pid" || rc=$?
cat "$d/full.out"
[ "$rc" = 2 ] || { cat "$d/full.err"; fail "full backup with a checkpoint: exit status $rc (2: only the raw disk's checkpoint fails)"; }
grep -q '^disk vda 67108864 qcow2 ' "$d/full.out" || fail "vda is not listed as the qcow2 disk"
grep -q '^disk vdb 33554432 raw ' "$d/full.out" || fail "vdb is not listed as the raw disk"
[ "$(wc -l < "$d/full.err")" = 1 ] &&
  grep -q '^disk-domain-tool: vdb: vdb: checkpoints need qcow2 disks .*(errno ENOTSUP)$' "$d/full.err" ||
  { cat "$d/full.err"; fail "the raw disk's checkpoint: not the expected error"; }
cmp "$d/at-c1/vda" "$d/full/vda" || fail "vda read during the job is not vda at its start"
cmp "$d/at-c1/vdb" "$d/full/vdb" || fail "vdb read during the job is not vdb at its start"
no_job "after the full backup"
[ "$(checkpoints)" = "c1 " ] || fail "checkpoints after the full backup: $(checkpoints)"
echo "ok: full backup with checkpoint c1 equals the disks when the job began"

# Changes since c1: exactly what the guest wrote since (the writes during
# the job), with their new contents.  The raw disk tracks nothing.
disks_now "$d/at-c2"
mkdir "$d/inc"
rc=0
tool "$dom" --since c1 --checkpoint c2 --cat-dir "$d/inc" --list-checkpoints \
  > "$d/inc.out" 2> "$d/inc.err" || rc=$?
[ "$rc" = 2 ] || { cat "$d/inc.out" "$d/inc.err"; fail "incremental backup: exit status $rc"; }
printf '4194304 1048576 data\n10485760 196608 data\n' > "$d/want.map"
same "$d/want.map" "$d/inc/vda.map" "changed extents of vda since c1"
while read -r off len type; do
  cmp -n "$len" -i "$off:$off" "$d/at-c2/vda" "$d/inc/vda" ||
    fail "changed range $off+$len of vda does not hold the new data"
done < "$d/inc/vda.map"
grep -q '^vdb: no changes tracked (vdb: checkpoints need qcow2 disks' "$d/inc.out" ||
  { cat "$d/inc.out"; fail "vdb: no message that it tracks no changes"; }
cmp "$d/at-c2/vdb" "$d/inc/vdb" || fail "vdb read whole is not vdb"
grep -qx 'checkpoints vda: c1 c2' "$d/inc.out" || { cat "$d/inc.out"; fail "vda's checkpoints"; }
no_job "after the incremental backup"
[ "$(checkpoints)" = "c1 c2 " ] || fail "checkpoints after the incremental backup: $(checkpoints)"
echo "ok: changes since c1 are the guest's writes (new checkpoint c2)"

# Errors: nothing is left behind, the checkpoints stay as they were.
expect_error () {
  local what="$1" msg="$2"; shift 2
  rc=0
  tool "$@" > "$d/err.out" 2> "$d/err.err" || rc=$?
  [ "$rc" = 1 ] || { cat "$d/err.out" "$d/err.err"; fail "$what: exit status $rc, not 1"; }
  grep -q -- "$msg" "$d/err.err" || { cat "$d/err.err"; fail "$what: not the expected error ($msg)"; }
  [ "$(wc -l < "$d/err.err")" = 1 ] || { cat "$d/err.err"; fail "$what: more than one line of error"; }
  no_job "$what"
  [ "$(checkpoints)" = "c1 c2 " ] || fail "$what: checkpoints changed: $(checkpoints)"
}
expect_error "unknown domain" "no libvirt domain called ‘gktest-nosuch’.*(errno ENOENT)" gktest-nosuch
expect_error "unknown checkpoint" "no checkpoint c9 .*(errno ENOENT)" "$dom" --since c9
expect_error "existing checkpoint" "checkpoint c2 already exists.*(errno EEXIST)" "$dom" --since c1 --checkpoint c2
expect_error "bad checkpoint name" "bad checkpoint name.*(errno EINVAL)" "$dom" --checkpoint 'c 3'

# While a backup tool has the domain's job, another open says so at once
# (EBUSY).  A tool that dies leaves its job running: the next open ends
# it (the job's private directory names the process that began it).
mkfifo "$d/dead"
"$abs_top_builddir/tests/disk-domain-tool" "$dom" --wait < "$d/dead" > "$d/dead.out" 2>&1 &
dead_pid=$!
exec 8> "$d/dead"
for i in $(seq 1 300); do
  grep -q '^ready' "$d/dead.out" && break
  sleep 0.1
done
grep -q '^ready' "$d/dead.out" || { cat "$d/dead.out"; fail "the tool to kill did not open the domain"; }
rc=0
tool "$dom" > "$d/err.out" 2> "$d/err.err" || rc=$?
[ "$rc" = 1 ] && grep -q "job running already.*virsh domjobabort.*(errno EBUSY)" "$d/err.err" ||
  { cat "$d/err.err"; fail "a second open while a job runs: exit status $rc"; }
kill -KILL "$dead_pid"
wait "$dead_pid" 2>/dev/null || true
exec 8>&-
V domjobinfo "$dom" | grep -q '^Operation: *Backup' || fail "no job left by the dead tool"
rc=0
tool "$dom" > "$d/err.out" 2> "$d/err.err" || rc=$?
[ "$rc" = 0 ] && grep -q "ending the backup job left by guestkit process $dead_pid, which died" "$d/err.err" ||
  { cat "$d/err.err"; fail "the job of a dead tool was not ended: exit status $rc"; }
no_job "after the job of a dead tool"
echo "ok: errors"

# Quiesce: the agent is asked to freeze, then to thaw.
rc=0
tool "$dom" --quiesce > "$d/q.out" 2> "$d/q.err" || rc=$?
[ "$rc" = 0 ] || { cat "$d/q.err"; fail "quiesce: exit status $rc"; }
tr -d '\r' < "$backup_domain_dir/$dom.console" | grep 'gk-agent: guest-fsfreeze' | tail -n 2 > "$d/q.agent"
printf 'gk-agent: guest-fsfreeze-freeze\ngk-agent: guest-fsfreeze-thaw\n' > "$d/q.want"
same "$d/q.want" "$d/q.agent" "the guest agent's commands"
no_job "after quiesce"
# A failure once the job has begun (thaw fails): the job ends, and the
# checkpoint it made goes again.
guest_run "$dom" 'touch /tmp/agent-fail-thaw'
expect_error "failed thaw" "cannot thaw the guest's filesystems" "$dom" --since c2 --checkpoint c3 --quiesce
tr -d '\r' < "$backup_domain_dir/$dom.console" | grep 'gk-agent: guest-fsfreeze' | tail -n 2 > "$d/q.agent"
same "$d/q.want" "$d/q.agent" "the guest agent's commands (thaw failing)"
guest_run "$dom" 'rm /tmp/agent-fail-thaw'
guest_run "$dom" 'kill $(cat /tmp/agent.pid)' > /dev/null || fail "cannot stop the guest agent"
for i in $(seq 1 100); do
  V dumpxml "$dom" | grep -q "name='org.qemu.guest_agent.0' state='disconnected'" && break
  sleep 0.1
done
expect_error "quiesce without an agent" "guest agent is not connected.*(errno ENOTSUP)" "$dom" --quiesce
echo "ok: quiesce"

# Deleting c1 through the disks: the domain's checkpoint goes, c2 stays.
rc=0
tool "$dom" --delete-checkpoint c1 > "$d/del.out" 2> "$d/del.err" || rc=$?
[ "$rc" = 2 ] && grep -q '^disk-domain-tool: vdb: .*ENOTSUP' "$d/del.err" ||
  { cat "$d/del.err"; fail "delete c1: exit status $rc"; }
[ "$(checkpoints)" = "c2 " ] || fail "checkpoints after deleting c1: $(checkpoints)"
no_job "after deleting c1"
echo "ok: checkpoint c1 deleted"

# The domain is still usable; shut it off cleanly so that qemu saves the
# bitmaps (a reset: the guest has no ACPI to power off, and on_reboot is
# destroy): its disks are then the image files, checkpoint c2 kept as a
# bitmap.
guest_run "$dom" 'true' || fail "the guest does not answer after the backups"
guest_run "$dom" 'sync; echo b > /proc/sysrq-trigger' 3 > /dev/null 2>&1 || true
for i in $(seq 1 100); do
  [ "$(V domstate "$dom")" = "shut off" ] && break
  sleep 0.1
done
[ "$(V domstate "$dom")" = "shut off" ] || fail "the domain did not power off"
mkdir "$d/off"
rc=0
tool "$dom" --cat-dir "$d/off" --list-checkpoints > "$d/off.out" 2> "$d/off.err" || rc=$?
grep -q "^disk vda 67108864 qcow2 $d/a.qcow2\$" "$d/off.out" &&
  grep -q "^disk vdb 33554432 raw $d/b.raw\$" "$d/off.out" ||
  { cat "$d/off.out" "$d/off.err"; fail "shut off: not the image files"; }
grep -qx 'checkpoints vda: c2' "$d/off.out" || { cat "$d/off.out" "$d/off.err"; fail "shut off: vda's checkpoints"; }
qemu-img convert -f qcow2 -O raw "$d/a.qcow2" "$d/a.raw"
cmp "$d/a.raw" "$d/off/vda" && cmp "$d/b.raw" "$d/off/vdb" || fail "shut off: the disks read differ"
echo "ok: shut off, the disks are the image files (checkpoint c2 kept)"

stop_backup_domain "$dom"

# Shut off, the other kinds of disks: a volume of a libvirt pool, an NBD
# export (qemu-nbd's, on a Unix socket); the cdrom is not a disk.
pool=gktest-disk-domain-pool
mkdir "$d/pool"
chmod 755 "$d/pool"
qemu-img create -q -f qcow2 "$d/pool/v.qcow2" 16M
qemu-io -f qcow2 -c 'write -q -P 0x33 64k 64k' "$d/pool/v.qcow2"
qemu-nbd -t -r -f raw -k "$d/nbd.sock" "$d/b.raw" &
nbd_pid=$!
backup_domain_at_exit "stop_pid $nbd_pid; V pool-destroy $pool > /dev/null 2>&1; V pool-undefine $pool > /dev/null 2>&1"
V pool-define-as "$pool" dir --target "$d/pool" > /dev/null
V pool-start "$pool" > /dev/null
for i in $(seq 1 50); do [ -S "$d/nbd.sock" ] && break; sleep 0.1; done
cat > "$d/dom2.xml" <<EOF
<domain type='qemu'>
  <name>$dom-2</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='cdrom'><source file='$d/b.raw'/><target dev='hdc' bus='ide'/><readonly/></disk>
    <disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='$pool' volume='v.qcow2'/><target dev='vda' bus='virtio'/></disk>
    <disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='nbd'><host transport='unix' socket='$d/nbd.sock'/></source><target dev='vdb' bus='virtio'/></disk>
  </devices>
</domain>
EOF
define_domain "$d/dom2.xml" "$dom-2"
mkdir "$d/off2"
tool "$dom-2" --cat-dir "$d/off2" > "$d/off2.out" 2> "$d/off2.err" ||
  { cat "$d/off2.out" "$d/off2.err"; fail "shut off: a volume and an NBD disk"; }
printf '%s\n' "disk vda 16777216 qcow2 $d/pool/v.qcow2" \
  "disk vdb 33554432 raw nbd+unix:///?socket=$d/nbd.sock" > "$d/off2.want"
same "$d/off2.want" "$d/off2.out" "shut off: a volume and an NBD disk"
qemu-img convert -f qcow2 -O raw "$d/pool/v.qcow2" "$d/v.raw"
cmp "$d/v.raw" "$d/off2/vda" && cmp "$d/b.raw" "$d/off2/vdb" ||
  fail "shut off: the volume or the NBD disk read differs"
echo "ok: shut off, a pool volume and an NBD disk"

echo "ok: all in $(( $(date +%s) - t0 )) s"
