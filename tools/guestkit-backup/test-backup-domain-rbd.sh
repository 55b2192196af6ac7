#!/bin/bash -
# guestkit-backup of a libvirt domain whose disk vda is an rbd image of a
# guestkit rbd pool (a one-node Ceph cluster, tests/ceph-cluster.sh; qemu
# reads it with cephx through a libvirt secret) and vdb a qcow2 file:
# - running: both disks through libvirt's backup job; vda (raw: no
#   libvirt checkpoint) by checksums, vdb by its checkpoint;
# - shut off: vda through the guestkit pool (librbd): the first run makes
#   an rbd snapshot, the next one reads only `rbd diff` since it;
# - restores equal `rbd export` and the qcow2 at each point.
set -e
. "$abs_top_builddir/tests/functions.sh"
export CEPH_TEST_MON_V1_PORT=${CEPH_TEST_MON_V1_PORT_BACKUP_DOM:-16893}
export CEPH_TEST_MON_V2_PORT=${CEPH_TEST_MON_V2_PORT_BACKUP_DOM:-13404}
. "$abs_top_srcdir/tests/ceph-cluster.sh"
. "$abs_top_srcdir/tests/libvirtd.sh"
. "$abs_top_srcdir/tests/testvm.sh"
. "$abs_top_srcdir/tests/backup-domain.sh"
[ "$(id -u)" = 0 ] || skip "needs root (libvirt's qemu:///system)"
backup_domain_check
[ -e /usr/lib/x86_64-linux-gnu/qemu/block-rbd.so ] ||
  fail "qemu's rbd driver is not installed (qemu-block-extra; scripts/setup.sh installs it)"

dom=gktest-backup-rbd
V () { virsh -q -c "$libvirt_uri" "$@"; }
b () { timeout 300 "$run" guestkit-backup "$@"; }
t0="$(date +%s)"

start_ceph_cluster gkbkd
start_libvirtd
trap 'cleanup_libvirt; stop_ceph_cluster' EXIT   # both: each sets its own
d="$(mktemp -d /tmp/gk-tbr.XXXXXX)"
chmod 755 "$d"
mkdir "$d/tmp"
export TMPDIR="$d/tmp"
export GUESTKIT_STATE_DIR="$d/state"
secret_uuid=$(uuidgen)
cleanup_extra="$d"
backup_domain_at_exit "virsh -q -c '$libvirt_uri' secret-undefine $secret_uuid > /dev/null 2>&1"
tool="$abs_top_builddir/tests/.libs/disk-tool"
[ -x "$tool" ] || make -C "$abs_top_builddir/tests" disk-tool > /dev/null
[ -x "$tool" ] || fail "tests/.libs/disk-tool was not built"
cd "$d"

ours guestkit pool-define-as r rbd --source-host "$ceph_mon_host" --source-name gkbkd \
  --auth-type ceph --auth-username admin --secret-usage "file:$ceph_admin_keyring" > /dev/null
ours guestkit pool-start r > /dev/null
ours guestkit vol-create-as r v 48M > /dev/null
cat > secret.xml <<EOF
<secret ephemeral='no' private='no'><uuid>$secret_uuid</uuid>
  <usage type='ceph'><name>guestkit test $secret_uuid</name></usage></secret>
EOF
V secret-define secret.xml > /dev/null
key=$(ceph-authtool -p -n client.admin "$ceph_admin_keyring")
V secret-set-value "$secret_uuid" --base64 "$key" > /dev/null 2>&1 ||
  V secret-set-value "$secret_uuid" "$key" > /dev/null
qemu-img create -q -f qcow2 b.qcow2 32M
host=${ceph_mon_host%:*} port=${ceph_mon_host##*:}
rbd_disk="<disk type='network' device='disk'><driver name='qemu' type='raw' cache='none'/><auth username='admin'><secret type='ceph' uuid='$secret_uuid'/></auth><source protocol='rbd' name='gkbkd/v'><host name='$host' port='$port'/></source><target dev='vda' bus='virtio'/></disk>"
BACKUP_DOMAIN_AGENT=1 start_backup_domain "$dom" "$rbd_disk" "$d/b.qcow2"
echo "ok: ceph, libvirtd and the guest up in $(( $(date +%s) - t0 )) s"

gwrite () {
  guest_run "$dom" "dd if=/dev/urandom of=/dev/$1 bs=64k seek=$2 count=$3 conv=fsync 2>/dev/null" ||
    fail "the guest could not write to $1"
}
disks_now () {
  mkdir -p "$1"
  if V domstate "$dom" | grep -q running; then V suspend "$dom" > /dev/null; fi
  rm -f "$1/vda"
  rbd_cmd export --no-progress gkbkd/v "$1/vda" > /dev/null
  qemu-img convert -U -f qcow2 -O raw b.qcow2 "$1/vdb"
  if V domstate "$dom" | grep -q paused; then V resume "$dom" > /dev/null; fi
}
restored_is () {
  local disk
  for disk in vda vdb; do
    rm -f "r-$disk.raw"
    b -q restore --disk $disk -o "r-$disk.raw" bk
    cmp "$1/$disk" "r-$disk.raw" || fail "restore of $disk differs from the disk then ($1)"
  done
  rm -f r-vda.raw r-vdb.raw
}
changes () { python3 -c "import json; m=json.load(open('bk/$(b list bk | tail -1)/manifest.json')); print(' '.join(d['name']+'='+d['changes'] for d in m['disks']))"; }

gwrite vda 16 16
gwrite vdb 8 4
b -q full -d "$dom" bk
disks_now at-full
restored_is at-full
gwrite vda 100 8
gwrite vdb 200 2
b -q inc -d "$dom" bk
[ "$(changes)" = "vda=checksums vdb=checkpoint" ] || fail "running inc: $(changes)"
disks_now at-inc1
restored_is at-inc1
echo "ok: running: rbd disk by checksums, qcow2 disk by checkpoint"

guest_run "$dom" sync > /dev/null
V destroy "$dom" > /dev/null
ours "$tool" --rw --vol r/v write $((30 << 20)) < <(head -c 200000 /dev/urandom) > /dev/null ||
  fail "writing to the rbd volume"
b -q inc -d "$dom" bk
[ "$(changes)" = "vda=checksums vdb=checkpoint" ] || fail "first shut-off inc: $(changes)"
rbd_cmd snap ls gkbkd/v | grep -q guestkit- || fail "no rbd snapshot as vda's checkpoint"
disks_now at-inc2
restored_is at-inc2
ours "$tool" --rw --vol r/v write $((40 << 20)) < <(head -c 70000 /dev/urandom) > /dev/null
b -q inc -d "$dom" bk
[ "$(changes)" = "vda=checkpoint vdb=checkpoint" ] || fail "second shut-off inc: $(changes)"
python3 -c "import json; m=json.load(open('bk/$(b list bk | tail -1)/manifest.json')); d=[x for x in m['disks'] if x['name']=='vda'][0]; assert d['written_bytes'] <= 4 << 20, d['written_bytes']"
disks_now at-inc3
restored_is at-inc3
b -q verify bk
echo "ok: shut off: the rbd disk through the guestkit pool (snapshot, rbd diff)"
echo "ok: all in $(( $(date +%s) - t0 )) s"
