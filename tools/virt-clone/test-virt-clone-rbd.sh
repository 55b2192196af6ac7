#!/bin/bash -
# virt-clone of a domain whose disk is an rbd image of a guestkit pool,
# against a one-node Ceph cluster started for the test
# (tests/ceph-cluster.sh).  The domain comes from --original-xml and is
# defined with libvirt's in-process test driver (test:///default): no
# libvirtd, nothing left defined.  Checks: --print-xml names the clone
# POOL/IMG-clone; a full clone is a new, independent image with the same
# bytes; --linked is a layered clone; failures (a bad --mac, names in
# use, a define that fails after the copy) leave the RADOS pool exactly
# as it was; no temporary names are left.
set -e
. "$abs_top_builddir/tests/functions.sh"
. "$abs_top_srcdir/tests/ceph-cluster.sh"
d="$(mktemp -d)"
cleanup_extra="$d"
export GUESTKIT_STATE_DIR="$(mktemp -d -p "$d")"
g () { ours guestkit "$@"; }
vc () { ours virt-clone --connect test:///default "$@"; }
info () { g vol-info "$1" --pool "$2" --json | python3 -c "import json,sys; print(json.load(sys.stdin)[\"$3\"])"; }
# Every image of the RADOS pool with its snapshots: what must not change.
state () {
  local i
  for i in $(rbd_cmd ls gkclone); do
    echo "$i: $(rbd_cmd snap ls gkclone/"$i" --format json)"
  done
}
# A refusal: exit status 1, an ERROR line matching $1, the pool unchanged.
refused () {
  local pattern="$1"; shift
  local rc=0
  state > "$d/before"
  vc "$@" > "$d/out" 2> "$d/err" || rc=$?
  [ "$rc" = 1 ] || fail "virt-clone $*: exit status $rc, expected 1 ($(cat "$d/err"))"
  grep -q -- "^ERROR .*$pattern" "$d/err" || fail "virt-clone $*: message: $(cat "$d/err")"
  state > "$d/after"
  cmp -s "$d/before" "$d/after" ||
    fail "virt-clone $*: the pool changed: $(diff "$d/before" "$d/after")"
  echo "ok: refused, pool unchanged: $(grep ^ERROR "$d/err")"
}
no_leftovers () {
  [ -z "$(rbd_cmd ls gkclone | grep -F .gk-tmp-)" ] ||
    fail "$1: temporary images left: $(rbd_cmd ls gkclone)"
  [ -z "$(g vol-list r --name-only | grep -F .gk-tmp-)" ] ||
    fail "$1: temporary volumes left: $(g vol-list r --name-only)"
}

start_ceph_cluster gkclone
g pool-define-as r rbd --source-host "$ceph_mon_host" --source-name gkclone \
  --auth-type ceph --auth-username admin \
  --secret-usage "file:$ceph_admin_keyring" > /dev/null
g pool-start r > /dev/null
# 1 MiB of data, a hole, 1 MiB of data at the end of 32 MiB.
g vol-create-as r disk 32M > /dev/null
head -c 1M /dev/urandom > "$d/data"
truncate -s 31M "$d/data"
head -c 1M /dev/urandom >> "$d/data"
g vol-upload disk "$d/data" --pool r
echo "ok: ceph cluster up, image gkclone/disk with data"

cat > "$d/dom.xml" <<XML
<domain type='test'>
  <name>rbdvm</name>
  <uuid>8f3c2c51-0d6e-4c4e-9d2b-6a3c0b9d2e11</uuid>
  <memory>1048576</memory>
  <os><type>hvm</type></os>
  <devices>
    <disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='rbd' name='gkclone/disk'>
        <host name='127.0.0.1' port='$ceph_mon_v1_port'/>
      </source>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:aa:bb:cc'/>
      <source network='default'/>
    </interface>
  </devices>
</domain>
XML
# With the define failing after the copy (the test driver refuses it).
sed 's|</os>|</os>\n  <on_poweroff>bogus</on_poweroff>|' "$d/dom.xml" > "$d/bad.xml"

# --print-xml: the plan only, nothing made.
state > "$d/before"
vc --original-xml "$d/dom.xml" --auto-clone --print-xml > "$d/print.xml"
python3 - "$d/print.xml" <<'PY' || fail "--print-xml: $(cat "$d/print.xml")"
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
assert r.findtext("name") == "rbdvm-clone", r.findtext("name")
assert r.findtext("uuid") != "8f3c2c51-0d6e-4c4e-9d2b-6a3c0b9d2e11"
src = r.find("devices/disk/source")
assert src.get("protocol") == "rbd" and src.get("name") == "gkclone/disk-clone", src.attrib
assert src.find("host").get("name") == "127.0.0.1"
assert r.find("devices/interface/mac").get("address") != "52:54:00:aa:bb:cc"
PY
state > "$d/after"
cmp -s "$d/before" "$d/after" || fail "--print-xml changed the pool"
echo "ok: --print-xml: rbdvm-clone on gkclone/disk-clone, nothing made"

# Failures before any copy.
refused "invalid MAC address" --original-xml "$d/dom.xml" --auto-clone --mac 52:54:00:zz:00:01
refused "Guest name 'test' is already in use" --original-xml "$d/dom.xml" -n test -f r/new
# A define that fails after the copy: the new image is deleted again.
refused "could not define the new domain" --original-xml "$d/bad.xml" --auto-clone
refused "could not define the new domain" --original-xml "$d/bad.xml" --auto-clone --linked
no_leftovers "failed clones"

# A full clone: a new image, same bytes, no parent.
vc --original-xml "$d/dom.xml" --auto-clone > "$d/out"
grep -q "Clone 'rbdvm-clone' created successfully" "$d/out" || fail "full clone: $(cat "$d/out")"
rbd_cmd ls gkclone | grep -qx disk-clone || fail "rbd ls: $(rbd_cmd ls gkclone)"
g vol-list r --name-only | grep -qx disk-clone || fail "vol-list: $(g vol-list r --name-only)"
g vol-download disk "$d/orig" --pool r
g vol-download disk-clone "$d/full" --pool r
cmp "$d/orig" "$d/full" || fail "the full clone's content differs"
[ "$(info disk-clone r backing)" = None ] || fail "the full clone has a parent"
! rbd_cmd info gkclone/disk-clone | grep -q parent: || fail "rbd info shows a parent for a full clone"
[ -z "$(rbd_cmd snap ls gkclone/disk)" ] || fail "a full clone left a snapshot: $(rbd_cmd snap ls gkclone/disk)"
no_leftovers "full clone"
echo "ok: full clone gkclone/disk-clone: same bytes, no parent"

# A clone onto an image that exists: refused, nothing touched.
refused "Clone onto existing storage volume" --original-xml "$d/dom.xml" -n other -f r/disk-clone

# A linked clone: layered on a snapshot of the original.  --auto-clone
# takes the next free name.
vc --original-xml "$d/dom.xml" --auto-clone --linked -n lnkvm > "$d/out"
rbd_cmd ls gkclone | grep -qx disk-clone-1 || fail "linked: rbd ls: $(rbd_cmd ls gkclone)"
rbd_cmd info gkclone/disk-clone-1 > "$d/rinfo"
grep -q "parent: gkclone/disk@" "$d/rinfo" || fail "the linked clone has no parent: $(cat "$d/rinfo")"
[ "$(info disk-clone-1 r allocation)" = 0 ] || fail "the linked clone copied data"
g vol-download disk-clone-1 "$d/lnk" --pool r
cmp "$d/orig" "$d/lnk" || fail "the linked clone's content differs"
no_leftovers "linked clone"
echo "ok: linked clone gkclone/disk-clone-1, parent $(sed -n 's/^[[:space:]]*parent: //p' "$d/rinfo")"
# A failed linked clone next to a live one leaves the live one's
# snapshot and everything else alone.
refused "could not define the new domain" --original-xml "$d/bad.xml" --auto-clone --linked

# Teardown: the linked clone first (its parent's snapshot goes with it).
g vol-delete disk-clone-1 --pool r > /dev/null
[ -z "$(rbd_cmd snap ls gkclone/disk)" ] || fail "the linked clone's snapshot was left: $(rbd_cmd snap ls gkclone/disk)"
for v in disk-clone disk; do g vol-delete "$v" --pool r > /dev/null; done
[ -z "$(rbd_cmd ls gkclone)" ] || fail "images left: $(rbd_cmd ls gkclone)"
g pool-stop r > /dev/null; g pool-undefine r > /dev/null
echo "ok: everything deleted"
