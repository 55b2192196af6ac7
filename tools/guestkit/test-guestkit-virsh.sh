#!/bin/bash -
# Pool XML both ways with a real libvirtd (started and stopped by this
# test): virsh pool-define accepts guestkit's pool-dumpxml, and guestkit
# pool-define accepts virsh's pool-dumpxml.
set -e
. "$abs_top_builddir/tests/functions.sh"
. "$abs_top_srcdir/tests/libvirtd.sh"
d="$(mktemp -d)"
cleanup_extra="$d"
export GUESTKIT_STATE_DIR="$d/state"
g () { ours guestkit "$@"; }
v () { virsh -q -c "$libvirt_uri" "$@"; }
start_libvirtd
undefine_pools () {
  local p
  for p in gktest-ours gktest-theirs gktest-lvm gktest-lvm2; do
    v pool-undefine "$p" >/dev/null 2>&1 || true
  done
}
trap 'undefine_pools; cleanup_libvirt' EXIT

# Pick XML apart the same way for both sides.
fields () {
  python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as ET
p = ET.parse(sys.argv[1]).getroot()
print(p.get("type"), p.findtext("name"), p.findtext("uuid"), p.findtext("target/path"))
PY
}

# Ours -> virsh.
g pool-define-as gktest-ours dir --target "$d/ours" > /dev/null
g pool-dumpxml gktest-ours > "$d/ours.xml"
v pool-define "$d/ours.xml" > /dev/null || fail "virsh pool-define rejected: $(cat "$d/ours.xml")"
v pool-dumpxml gktest-ours > "$d/ours-virsh.xml"
[ "$(fields "$d/ours.xml")" = "$(fields "$d/ours-virsh.xml")" ] ||
  fail "virsh changed the pool: $(fields "$d/ours.xml") vs $(fields "$d/ours-virsh.xml")"
echo "ok: virsh pool-define accepts guestkit's XML: $(fields "$d/ours-virsh.xml")"

# An lvm pool with guestkit's thin pool element: libvirt (type logical)
# accepts it and ignores the element; the rest is unchanged.  Nothing is
# built: the device need not exist.
g pool-define-as gktest-lvm logical --source-dev /dev/gktest-none \
  --source-name gktestvg --thin-pool tp > /dev/null
g pool-dumpxml gktest-lvm > "$d/lvm.xml"
grep -q "<guestkit:thinpool xmlns:guestkit=\"http://guestkit.org/schemas/storagepool/1.0\" name=\"tp\"/>" "$d/lvm.xml" ||
  fail "no thin pool element: $(cat "$d/lvm.xml")"
v pool-define "$d/lvm.xml" > /dev/null || fail "virsh pool-define rejected: $(cat "$d/lvm.xml")"
v pool-dumpxml gktest-lvm > "$d/lvm-virsh.xml"
[ "$(fields "$d/lvm.xml")" = "$(fields "$d/lvm-virsh.xml")" ] ||
  fail "virsh changed the lvm pool: $(fields "$d/lvm.xml") vs $(fields "$d/lvm-virsh.xml")"
grep -q "<device path='/dev/gktest-none'/>" "$d/lvm-virsh.xml" && grep -q "<name>gktestvg</name>" "$d/lvm-virsh.xml" ||
  fail "virsh lost the lvm source: $(cat "$d/lvm-virsh.xml")"
echo "ok: virsh pool-define accepts an lvm thin pool pool (element ignored): $(fields "$d/lvm-virsh.xml")"
v pool-define-as gktest-lvm2 logical --source-dev /dev/gktest-none2 --source-name gktestvg2 --target /dev/gktestvg2 > /dev/null
v pool-dumpxml gktest-lvm2 > "$d/lvm2.xml"
g pool-define "$d/lvm2.xml" > /dev/null || fail "guestkit rejected virsh's logical pool: $(cat "$d/lvm2.xml")"
g pool-dumpxml gktest-lvm2 > "$d/lvm2-ours.xml"
[ "$(fields "$d/lvm2.xml")" = "$(fields "$d/lvm2-ours.xml")" ] ||
  fail "guestkit changed the logical pool: $(fields "$d/lvm2.xml") vs $(fields "$d/lvm2-ours.xml")"
echo "ok: guestkit pool-define accepts virsh's logical pool: $(fields "$d/lvm2-ours.xml")"

# virsh -> ours, for a running pool (capacity etc. in the XML too).
mkdir -p "$d/theirs"
v pool-define-as gktest-theirs dir --target "$d/theirs" > /dev/null
v pool-start gktest-theirs > /dev/null
v pool-dumpxml gktest-theirs > "$d/theirs.xml"
v pool-destroy gktest-theirs > /dev/null
g pool-define "$d/theirs.xml" > /dev/null || fail "guestkit rejected virsh's XML: $(cat "$d/theirs.xml")"
g pool-dumpxml gktest-theirs > "$d/theirs-ours.xml"
[ "$(fields "$d/theirs.xml")" = "$(fields "$d/theirs-ours.xml")" ] ||
  fail "guestkit changed the pool: $(fields "$d/theirs.xml") vs $(fields "$d/theirs-ours.xml")"
echo "ok: guestkit pool-define accepts virsh's XML: $(fields "$d/theirs-ours.xml")"

# And the pool works: a volume made by guestkit is seen by libvirt.
g pool-start gktest-theirs > /dev/null
g vol-create-as gktest-theirs shared.qcow2 64M --format qcow2 > /dev/null
v pool-start gktest-theirs > /dev/null
v vol-info shared.qcow2 --pool gktest-theirs | grep -q "Capacity:.*64.00 MiB" || fail "libvirt does not see the volume"
v pool-destroy gktest-theirs > /dev/null
echo "ok: libvirt reads a volume guestkit made"

# Deleting a volume a defined domain uses warns (and deletes).
g pool-start gktest-ours --build > /dev/null
g vol-create-as gktest-ours used.img 16M > /dev/null
cat > "$d/dom.xml" <<XML
<domain type='qemu'><name>gktest-user</name><memory unit='MiB'>128</memory>
<os><type arch='x86_64'>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='raw'/>
<source file='$d/ours/used.img'/><target dev='vda' bus='virtio'/></disk>
</devices></domain>
XML
define_domain "$d/dom.xml" gktest-user
g vol-delete used.img --pool gktest-ours > /dev/null 2> "$d/err" || fail "vol-delete: $(cat "$d/err")"
grep -q "warning: volume ‘used.img’ is a disk of the libvirt domain ‘gktest-user’" "$d/err" || fail "no warning: $(cat "$d/err")"
[ ! -e "$d/ours/used.img" ] || fail "not deleted"
echo "ok: deleting a volume in use warns: $(cat "$d/err")"
