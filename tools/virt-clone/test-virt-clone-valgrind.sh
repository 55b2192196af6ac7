#!/bin/bash -
# virt-clone without a libvirtd: libvirt's in-process test driver
# (test:///default) and --original-xml.  Run under valgrind by make
# check-valgrind and under ASan/UBSan by make check-sanitize: the whole
# planner and the copies, with leaks and memory errors fatal.
set -e
. "$abs_top_builddir/tests/functions.sh"

d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
export GUESTKIT_STATE_DIR="$d/state"
export GUESTKIT_SWTPM_DIR="$d/swtpm"
clone () { "$run" ${GUESTKIT_TEST_VALGRIND:-} virt-clone --connect test:///default "$@"; }

truncate -s 8M "$d/t.img"
head -c 1M /dev/urandom | dd of="$d/t.img" bs=1M seek=3 conv=notrunc status=none
qemu-img create -q -f qcow2 "$d/q.qcow2" 8M
qemu-io -c 'write -P 0x11 0 1M' "$d/q.qcow2" >/dev/null
head -c 64k /dev/urandom > "$d/t_VARS.fd"
mkdir -p "$GUESTKIT_SWTPM_DIR/6b3c8a8e-0000-4000-8000-0000000000f1"
echo state > "$GUESTKIT_SWTPM_DIR/6b3c8a8e-0000-4000-8000-0000000000f1/s"
cat > "$d/t.xml" <<XML
<domain type='test'>
  <name>t</name>
  <uuid>6b3c8a8e-0000-4000-8000-0000000000f1</uuid>
  <title>x</title>
  <memory>65536</memory>
  <os><type>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader><nvram>$d/t_VARS.fd</nvram></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$d/t.img'/><target dev='vda'/><serial>ABC123</serial></disk>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$d/q.qcow2'/><target dev='vdb'/></disk>
    <disk type='file' device='cdrom'><target dev='hdc'/><readonly/></disk>
    <interface type='user'><mac address='52:54:00:01:02:03'/><target dev='vnet9'/></interface>
    <interface type='user'><mac address='52:54:00:01:02:04'/></interface>
    <graphics type='vnc' port='5905' autoport='no'/>
    <tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>
  </devices>
</domain>
XML

clone --original-xml "$d/t.xml" --auto-clone --print-xml > "$d/out.xml"
grep -q '<name>t-clone</name>' "$d/out.xml" || fail "name"
grep -q "source file=\"$d/t-clone.img\"" "$d/out.xml" || fail "disk path"
grep -q 'port="-1"' "$d/out.xml" || fail "graphics port"
grep -q 'vnet9' "$d/out.xml" && fail "interface target kept"

clone -q --original-xml "$d/t.xml" -n t2 -f "$d/c1.img" -f "$d/c2.qcow2" -m 52:54:00:0a:0b:0c
cmp "$d/t.img" "$d/c1.img" || fail "raw copy"
qemu-img compare -q "$d/q.qcow2" "$d/c2.qcow2" || fail "qcow2 copy"
cmp "$d/t_VARS.fd" "$d/t2_VARS.fd" || fail "nvram copy"
[ "$(ls "$GUESTKIT_SWTPM_DIR" | wc -l)" -eq 2 ] || fail "TPM state not copied"
clone -q --original-xml "$d/t.xml" -n t3 -f "$d/l1.qcow2" -f "$d/l2.qcow2" --linked --nvram "$d/l_VARS.fd"
qemu-img compare -q "$d/t.img" "$d/l1.qcow2" || fail "linked raw"
qemu-img compare -q "$d/q.qcow2" "$d/l2.qcow2" || fail "linked qcow2"
# Errors leave nothing.
: > "$d/err"
before=$(ls -a "$d")
set +e
clone --original-xml "$d/t.xml" -n t4 -f "$d/e1.img" -f "$d/e2.qcow2" -m 52:54:00:xx:00:00 2> "$d/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "bad --mac: exit $rc"
grep -q "invalid MAC address" "$d/err" || fail "bad --mac: message"
[ "$(ls -a "$d")" = "$before" ] || fail "bad --mac left files"
# Two NICs cannot get one MAC.
set +e
clone --original-xml "$d/t.xml" -n t6 -f "$d/m1.img" -f "$d/m2.qcow2" \
  -m 52:54:00:0a:0b:0d -m 52:54:00:0a:0b:0d 2> "$d/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "one MAC twice: exit $rc"
grep -q "The MAC address '52:54:00:0a:0b:0d' is in use" "$d/err" || fail "one MAC twice: message"

# A linked clone of a dir pool's volume: a qcow2 overlay in the pool, and
# the domain's disk says qcow2.
gk () { "$run" guestkit "$@"; }
mkdir "$d/pool"
gk pool-define-as p dir --target "$d/pool" >/dev/null
gk pool-start p >/dev/null
cp "$d/t.img" "$d/pool/vol.img"
sed "s|$d/t.img|$d/pool/vol.img|; s|<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>.*</disk>||" \
  "$d/t.xml" > "$d/p.xml"
clone --original-xml "$d/p.xml" -n t7 --auto-clone --linked --nvram "$d/p_VARS.fd" --print-xml > "$d/p.out"
grep -q "<driver name=\"qemu\" type=\"qcow2\"/><source file=\"$d/pool/vol-clone.img\"" "$d/p.out" ||
  fail "linked pool clone: XML: $(cat "$d/p.out")"
clone -q --original-xml "$d/p.xml" -n t7 --auto-clone --linked --nvram "$d/p_VARS.fd"
qemu-img info --output=json "$d/pool/vol-clone.img" | grep -q '"backing-filename-format": "raw"' ||
  fail "linked pool clone: not an overlay"
gk vol-list p | grep -q vol-clone.img || fail "linked pool clone: not in the pool"

# SIGKILL mid-copy: only temporary names are left, pool-refresh names
# them and pool-clean removes them.
head -c 300M /dev/urandom > "$d/pool/big.img"
sed "s|$d/pool/vol.img|$d/pool/big.img|" "$d/p.xml" > "$d/big.xml"
before=$(ls -a "$d/pool")
"$run" virt-clone --connect test:///default --original-xml "$d/big.xml" -n t8 \
  --auto-clone --nvram "$d/b_VARS.fd" > /dev/null 2>&1 &
pid=$!
for i in $(seq 1 400); do
  ls -a "$d/pool" | grep -q '^\.gk-tmp-' && break
  sleep 0.02
done
kill -9 $pid
wait $pid 2>/dev/null || true
ls -a "$d/pool" | grep -q '^\.gk-tmp-' || fail "SIGKILL: no temporary file to find (the copy was too quick?)"
gk pool-refresh p 2> "$d/refresh.err"
grep -q "leftover temporary volume" "$d/refresh.err" || fail "pool-refresh did not report the leftover"
gk pool-clean p > /dev/null
[ "$(ls -a "$d/pool")" = "$before" ] || fail "pool-clean left $(ls -a "$d/pool")"
[ ! -e "$d/pool/big-clone.img" ] || fail "SIGKILL: the final name exists"

# libvirt refuses the new domain (NVRAM without a loader): the copies,
# the NVRAM and the TPM state made before the define are all removed.
sed "s|<loader[^<]*</loader>||" "$d/t.xml" > "$d/noloader.xml"
before=$(ls -a "$d"; ls "$GUESTKIT_SWTPM_DIR")
set +e
clone --original-xml "$d/noloader.xml" -n t5 -f "$d/n1.img" -f "$d/n2.qcow2" 2> "$d/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "define failure: exit $rc"
grep -q "could not define the new domain" "$d/err" || fail "define failure: message"
[ "$(ls -a "$d"; ls "$GUESTKIT_SWTPM_DIR")" = "$before" ] || fail "define failure left files"
echo "$0: PASS"
