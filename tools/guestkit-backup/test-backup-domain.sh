#!/bin/bash -
# guestkit-backup of a libvirt domain, running (a TCG guest that writes to
# its disks itself: tests/backup-domain.sh) and shut off, with a qcow2 and
# a raw disk that are volumes of a guestkit dir pool:
# - full backup of the running domain: libvirt's backup job with a
#   checkpoint (vda), checksums for the raw disk (vdb); no job left;
# - the guest writes; incremental backup: vda's changes from the libvirt
#   checkpoint, vdb's by checksums; restores of each disk at each point
#   are byte for byte the disks then (qemu-img compare);
# - --quiesce freezes and thaws through the guest agent;
# - a backup killed mid-way: the chain stays valid, the next run ends the
#   dead run's job and goes on;
# - shut off: the next incremental backup reads vda's qcow2 dirty bitmap
#   (the libvirt checkpoint's) through qemu-nbd;
# - running again: libvirt does not know the checkpoint made offline, so
#   the run falls back to checksums, and says so.
set -e
. "$abs_top_builddir/tests/functions.sh"
. "$abs_top_srcdir/tests/libvirtd.sh"
. "$abs_top_srcdir/tests/testvm.sh"
. "$abs_top_srcdir/tests/backup-domain.sh"
[ "$(id -u)" = 0 ] || skip "needs root (libvirt's qemu:///system)"
backup_domain_check

dom=gktest-backup-domain
V () { virsh -q -c "$libvirt_uri" "$@"; }
b () { timeout 300 "$run" guestkit-backup "$@"; }
t0="$(date +%s)"

start_libvirtd
d="$(mktemp -d /tmp/gk-tbd.XXXXXX)"
chmod 755 "$d"                  # qemu runs as libvirt-qemu
cleanup_extra="$d"
mkdir "$d/tmp"
export TMPDIR="$d/tmp"
export GUESTKIT_STATE_DIR="$d/state"
cd "$d"

# The disks: volumes of a guestkit dir pool.
ours guestkit pool-define-as dp dir --target "$d/pool" > /dev/null
ours guestkit pool-start dp --build > /dev/null
chmod 755 "$d/pool"
ours guestkit vol-create-as dp a.qcow2 64M --format qcow2 > /dev/null
ours guestkit vol-create-as dp b.raw 32M > /dev/null
qemu-io -f qcow2 -c 'write -q -P 0x11 1M 1M' pool/a.qcow2
BACKUP_DOMAIN_AGENT=1 start_backup_domain "$dom" "$d/pool/a.qcow2" "$d/pool/b.raw"
echo "ok: the guest is up after $backup_domain_boot s"

gwrite () {
  guest_run "$dom" "dd if=/dev/urandom of=/dev/$1 bs=64k seek=$2 count=$3 conv=fsync 2>/dev/null" ||
    fail "the guest could not write to $1"
}
# The disks as they are now (the domain paused meanwhile, if running).
disks_now () {
  mkdir -p "$1"
  if V domstate "$dom" | grep -q running; then V suspend "$dom" > /dev/null; fi
  qemu-img convert -U -f qcow2 -O raw pool/a.qcow2 "$1/vda"
  cp --sparse=always pool/b.raw "$1/vdb"
  if V domstate "$dom" | grep -q paused; then V resume "$dom" > /dev/null; fi
}
no_job () {
  V domjobinfo "$dom" | grep -q '^Job type: *None' || fail "$1: a job is left: $(V domjobinfo "$dom")"
}
restored_is () {   # ID-or-latest STATE-DIR
  local id=() disk
  [ "$1" = latest ] || id=(--backup "$1")
  for disk in vda vdb; do
    rm -f "r-$disk.raw"
    b -q restore "${id[@]}" --disk $disk -o "r-$disk.raw" bk
    qemu-img compare -q -f raw -F raw "$2/$disk" "r-$disk.raw" ||
      fail "restore of $disk at $1 differs from the disk then"
  done
  rm -f r-vda.raw r-vdb.raw
}
manifest () { python3 -c "import json,sys; m=json.load(open('bk/$1/manifest.json')); $2" || fail "manifest of $1: $2"; }

# Full, running.
gwrite vda 64 16
gwrite vdb 100 4
b -q full -d "$dom" bk
no_job "after the full backup"
full=$(b list bk)
manifest "$full" "d={x['name']:x for x in m['disks']}; assert set(d)=={'vda','vdb'}, d; assert d['vda']['checkpoint'] and d['vdb']['checkpoint'] is None, d; assert m['source']=={'type':'domain','name':'$dom'}, m['source']"
V checkpoint-list --name "$dom" | grep -q "^guestkit-" || fail "no libvirt checkpoint after the full backup"
# The guest has an agent: its filesystems were frozen for the start, unasked.
tr -d '\r' < "$backup_domain_dir/$dom.console" | grep 'gk-agent: guest-fsfreeze' > agent.log || true
printf 'gk-agent: guest-fsfreeze-freeze\ngk-agent: guest-fsfreeze-thaw\n' | cmp -s - agent.log ||
  fail "the full backup did not freeze the guest through its agent: $(cat agent.log)"
disks_now at-full
restored_is latest at-full
echo "ok: full backup of the running domain"

# The guest writes; incremental, running.
gwrite vda 300 20
gwrite vda 64 1
gwrite vdb 5 3
b -q inc -d "$dom" bk
no_job "after the incremental backup"
inc1=$(b list bk | tail -1)
manifest "$inc1" "d={x['name']:x for x in m['disks']}; assert d['vda']['changes']=='checkpoint' and d['vdb']['changes']=='checksums', d; assert d['vda']['written_bytes']==21*65536, d['vda']['written_bytes']; assert d['vdb']['written_bytes']<=1<<20, d['vdb']['written_bytes']"
[ "$(V checkpoint-list --name "$dom" | grep -c '^guestkit-')" = 1 ] || fail "checkpoints after inc: $(V checkpoint-list --name "$dom")"
disks_now at-inc1
restored_is latest at-inc1
restored_is "$full" at-full
b -q verify bk
echo "ok: incremental backup of the running domain (checkpoint + checksums)"

# --quiesce: the same, and an error if the agent cannot freeze.
gwrite vda 500 2
b -q inc --quiesce -d "$dom" bk
tr -d '\r' < "$backup_domain_dir/$dom.console" | grep 'gk-agent: guest-fsfreeze' | tail -n 2 > agent.log
printf 'gk-agent: guest-fsfreeze-freeze\ngk-agent: guest-fsfreeze-thaw\n' | cmp -s - agent.log ||
  fail "--quiesce: the agent saw: $(cat agent.log)"
disks_now at-inc2
restored_is latest at-inc2
echo "ok: --quiesce froze and thawed the guest"

# Killed mid-way: the run is stopped (SIGSTOP) once its job runs and,
# if it has not committed yet, killed; a run that was faster than that
# completes, and the next try has more to copy.
killed=
for blocks in 200 400 800; do
  gwrite vda 0 $blocks
  n=$(b list bk | wc -l)
  "$run" guestkit-backup -q inc -d "$dom" bk 2> killed.err &
  pid=$!
  for i in $(seq 1 250); do
    V domjobinfo "$dom" 2>/dev/null | grep -q '^Operation: *Backup' && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.02
  done
  if kill -STOP $pid 2>/dev/null && [ "$(b list bk | wc -l)" = "$n" ] &&
     ls -A bk | grep -q gk-tmp; then
    kill -9 $pid
    wait $pid 2>/dev/null || true
    killed=yes
    break
  fi
  kill -CONT $pid 2>/dev/null || true
  wait $pid || fail "a backup to kill failed: $(cat killed.err)"
done
[ -n "$killed" ] || fail "three backups completed before they could be killed"
[ "$(b list bk | wc -l)" = "$n" ] || fail "a killed backup was committed"
b -q verify bk
rc=0; b inc -d "$dom" bk > /dev/null 2> next.err || rc=$?
[ "$rc" = 0 ] || fail "the run after a killed one: exit status $rc: $(cat next.err)"
grep -q "ending the backup job left by guestkit process $pid" next.err || fail "the dead run's job: $(cat next.err)"
grep -q "removing .gk-tmp-" next.err || fail "the dead run's files: $(cat next.err)"
no_job "after the run that followed a killed one"
disks_now at-inc3
restored_is latest at-inc3
echo "ok: a killed backup leaves the chain valid; the next run cleans up"

# Shut off: vda's changes from its qcow2 bitmap.
guest_run "$dom" sync > /dev/null
V destroy "$dom" > /dev/null
qemu-io -f qcow2 -c 'write -q -P 0x33 40M 128k' pool/a.qcow2
dd if=/dev/urandom of=pool/b.raw bs=64k seek=7 count=1 conv=notrunc status=none
b -q inc -d "$dom" bk
off=$(b list bk | tail -1)
manifest "$off" "d={x['name']:x for x in m['disks']}; assert d['vda']['changes']=='checkpoint' and d['vda']['written_bytes']==131072, d['vda']"
disks_now at-off
restored_is latest at-off
echo "ok: incremental backup of the shut-off domain (qcow2 dirty bitmap)"

# Running again: libvirt does not know the checkpoint made offline.
console="$backup_domain_dir/$dom.console"
mv "$console" "$console.1"
V start "$dom" > /dev/null
for i in $(seq 1 600); do
  grep -q 'gk-backup-domain: ready' "$console" 2>/dev/null && break
  sleep 0.1
done
grep -q 'gk-backup-domain: ready' "$console" || fail "the guest did not come up again"
gwrite vda 900 4
b inc -d "$dom" bk > /dev/null 2> again.err || fail "the run after the offline one: $(cat again.err)"
grep -q "comparing every block with the previous backup" again.err || fail "no fallback message: $(cat again.err)"
no_job "after the fallback"
disks_now at-again
restored_is latest at-again
b -q verify bk
echo "ok: a checkpoint libvirt does not know: checksums instead"
echo "ok: all in $(( $(date +%s) - t0 )) s"
