#!/bin/bash -
# virt-clone against a real libvirtd (started here, stopped by PID; every
# domain defined is undefined): domains with 0, 1 and 3 disks (raw, qcow2,
# a qcow2 with a backing file), NVRAM, a TPM, two NICs, a dir-pool volume;
# --print-xml field by field against virt-manager's virt-clone; real clones
# (bytes, holes, rewritten XML, NVRAM and TPM state); --linked; --replace;
# and failures (full filesystem, SIGINT mid-copy, bad --mac, name
# collision) after which libvirt and the disks hold what they held before.
set -e
. "$abs_top_builddir/tests/functions.sh"
. "$abs_top_srcdir/tests/libvirtd.sh"

command -v virt-clone >/dev/null ||
  fail "virt-manager's virt-clone is not installed (scripts/setup.sh installs virtinst)"
vc="$abs_top_builddir/tools/virt-clone/virt-clone"
clone () { "$run" ${GUESTKIT_TEST_VALGRIND:-} "$vc" --connect "$libvirt_uri" "$@"; }
refclone () { /usr/bin/virt-clone --connect "$libvirt_uri" "$@"; }
compare_xml="$abs_srcdir/compare-clone-xml.py"

d="$(mktemp -d)"
cleanup_extra="$d"
start_libvirtd
export GUESTKIT_STATE_DIR="$d/state"
export GUESTKIT_SWTPM_DIR="$d/swtpm"

# Undefine every domain this test may have defined (clones included).
undefine_all () {
  local dom
  for dom in $(virsh -q -c "$libvirt_uri" list --all --name | grep '^gkc-' || true); do
    virsh -q -c "$libvirt_uri" undefine --nvram "$dom" >/dev/null 2>&1 ||
      virsh -q -c "$libvirt_uri" undefine "$dom" >/dev/null 2>&1 || true
  done
}
trap 'undefine_all; cleanup_libvirt' EXIT

# What libvirt and the disk directory hold: compared after each failure.
world () {
  virsh -q -c "$libvirt_uri" list --all --name | sort
  # (not the test's own notes: *.xml, *.out, *.err, ...)
  (cd "$d" && find . -path ./state -prune -o -print | sort |
     grep -vE '\.(xml|out|err|e|json)$|/world\.')
  [ ! -d "$d/state" ] || "$run" "$abs_top_builddir/tools/guestkit/guestkit" vol-list pool1 2>&1
}

# The guest data: text, a hole, random bytes.
mkdisk () {   # path size
  truncate -s "$2" "$1"
  head -c 1M < <(yes "guestkit $1") | dd of="$1" conv=notrunc status=none
  head -c 512k /dev/urandom | dd of="$1" bs=1M seek=5 conv=notrunc status=none
}
mkdisk "$d/gkc-one.img" 16M
mkdisk "$d/sys.img" 16M
mkdisk "$d/base.raw" 16M
qemu-img create -q -f qcow2 "$d/data.qcow2" 32M
qemu-io -c 'write -P 0x5a 1M 2M' "$d/data.qcow2" >/dev/null
qemu-img create -q -f qcow2 -b "$d/base.raw" -F raw "$d/overlay.qcow2"
qemu-io -c 'write -P 0x33 8M 1M' "$d/overlay.qcow2" >/dev/null
head -c 128k /dev/urandom > "$d/gkc-three_VARS.fd"
truncate -s 1M "$d/cd.iso"
# The TPM state swtpm would keep for the original's UUID.
mkdir -p "$GUESTKIT_SWTPM_DIR/6b3c8a8e-0000-4000-8000-0000000000c3/tpm2"
echo tpm-state > "$GUESTKIT_SWTPM_DIR/6b3c8a8e-0000-4000-8000-0000000000c3/tpm2/tpm2-00.permall"

# A dir pool with one volume.
gk () { "$run" "$abs_top_builddir/tools/guestkit/guestkit" "$@"; }
mkdir "$d/pool1"
gk pool-define-as pool1 dir --target "$d/pool1" >/dev/null
gk pool-start pool1 >/dev/null
mkdisk "$d/pool1/vol.img" 16M
gk pool-refresh pool1 >/dev/null

disk () {   # type format path target [extra [bus]]
  echo "<disk type='file' device='disk'><driver name='qemu' type='$2'/><source file='$3'/><target dev='$4' bus='${6:-virtio}'/>${5:-}</disk>"
}
domain () {   # name uuid devices...
  local name="$1" uuid="$2"; shift 2
  cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <uuid>$uuid</uuid>
  <title>Title of $name</title>
  <memory unit='MiB'>256</memory>
  <sysinfo type='smbios'>
    <system>
      <entry name='manufacturer'>guestkit</entry>
      <entry name='uuid'>$uuid</entry>
    </system>
  </sysinfo>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <smbios mode='sysinfo'/>
  </os>
  <features><acpi/></features>
  <devices>
$(printf '    %s\n' "$@")
  </devices>
</domain>
EOF
}
nic () { echo "<interface type='user'><mac address='$1'/><model type='virtio'/></interface>"; }

domain gkc-zero 6b3c8a8e-0000-4000-8000-0000000000c0 \
  "$(nic 52:54:00:00:c0:01)" > "$d/zero.xml"
domain gkc-one 6b3c8a8e-0000-4000-8000-0000000000c1 \
  "$(disk file raw "$d/gkc-one.img" vda)" "$(nic 52:54:00:00:c1:01)" > "$d/one.xml"
domain gkc-three 6b3c8a8e-0000-4000-8000-0000000000c3 \
  "$(disk file raw "$d/sys.img" vda '<serial>GKSERIAL0001</serial>')" \
  "$(disk file qcow2 "$d/data.qcow2" sdb '<wwn>5000c50015ea71ac</wwn>' scsi)" \
  "$(disk file qcow2 "$d/overlay.qcow2" vdc)" \
  "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='$d/cd.iso'/><target dev='sda' bus='sata'/><readonly/></disk>" \
  "$(nic 52:54:00:00:c3:01)" "$(nic 52:54:00:00:c3:02)" \
  "<serial type='file'><source path='$d/gkc-three-serial.log'/><target port='0'/></serial>" \
  "<channel type='unix'><source mode='bind' path='/var/lib/libvirt/qemu/channel/target/domain-gkc-three/org.qemu.guest_agent.0'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>" \
  "<graphics type='vnc' port='5931' autoport='no'/>" \
  "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>" \
  > "$d/three.xml"
# NVRAM (the loader need not exist for a defined, never started domain).
sed -i "s|<smbios mode='sysinfo'/>|<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader><nvram>$d/gkc-three_VARS.fd</nvram><smbios mode='sysinfo'/>|" "$d/three.xml"
domain gkc-pool 6b3c8a8e-0000-4000-8000-0000000000c4 \
  "$(disk file raw "$d/pool1/vol.img" vda)" "$(nic 52:54:00:00:c4:01)" > "$d/pool.xml"
for x in zero one three pool; do define_domain "$d/$x.xml" "gkc-$x"; done

# ---- Options and messages (virt-manager's, word for word) ----
for args in "" "--auto-clone" "-o gkc-one" "-o gkc-nosuch --auto-clone"; do
  set +e
  refclone $args > "$d/ref.out" 2> "$d/ref.err"; rrc=$?
  clone $args > "$d/our.out" 2> "$d/our.err"; orc=$?
  set -e
  [ $rrc -eq $orc ] || fail "'$args': exit $orc, reference $rrc"
  # The reference may add debug lines; its ERROR line is what users see.
  grep '^ERROR' "$d/ref.err" > "$d/ref.e" || true
  grep '^ERROR' "$d/our.err" > "$d/our.e" || true
  cmp -s "$d/ref.e" "$d/our.e" ||
    fail "'$args': error differs: $(cat "$d/our.e") / reference $(cat "$d/ref.e")"
done
clone --help | grep -q -- '--auto-clone' || fail "--help"
clone --version | grep -q . || fail "--version"
clone --long-options | grep -qx -- '--linked' || fail "--long-options"

# ---- --print-xml vs the reference, field by field ----
for x in zero one three pool; do
  refclone -o gkc-$x --auto-clone --print-xml > "$d/$x.ref.xml"
  clone -o gkc-$x --auto-clone --print-xml > "$d/$x.our.xml"
  virsh -q -c "$libvirt_uri" dumpxml --inactive --security-info gkc-$x > "$d/$x.orig.xml"
  python3 "$compare_xml" "$d/$x.orig.xml" "$d/$x.ref.xml" "$d/$x.our.xml" ||
    fail "--print-xml of gkc-$x differs from virt-manager's"
done
# --print-xml copies nothing and defines nothing.
[ ! -e "$d/gkc-one-clone.img" ] || fail "--print-xml made a disk"
# Explicit names, --file, --mac, --uuid, --skip-copy and --force-copy.
args=(-o gkc-three -n gkc-named -u 6b3c8a8e-1111-4000-8000-0000000000aa
      -f "$d/n1.img" -f "$d/n2.qcow2" -f "$d/n3.qcow2" -f "$d/n4.iso"
      --force-copy sda -m 52:54:00:aa:bb:01 -m 52:54:00:aa:bb:02 --print-xml)
refclone "${args[@]}" > "$d/named.ref.xml"
clone "${args[@]}" > "$d/named.our.xml"
python3 "$compare_xml" "$d/three.orig.xml" "$d/named.ref.xml" "$d/named.our.xml" ||
  fail "--print-xml with explicit options differs"
grep -q "52:54:00:aa:bb:01" "$d/named.our.xml" || fail "--mac not applied"
clone -o gkc-three --auto-clone --skip-copy sdb --print-xml > "$d/skip.xml"
grep -q "source file=\"$d/data.qcow2\"" "$d/skip.xml" || fail "--skip-copy sdb still copied"

# ---- Bad input: one line, exit 1, nothing changed ----
world > "$d/world.before"
bad () {   # pattern args...
  local pat="$1"; shift
  set +e
  clone "$@" > "$d/bad.out" 2> "$d/bad.err"; local rc=$?
  set -e
  [ $rc -eq 1 ] || { cat "$d/bad.err"; fail "'$*': exit $rc, expected 1"; }
  grep -q -- "$pat" "$d/bad.err" || { cat "$d/bad.err"; fail "'$*': no '$pat'"; }
  [ "$(grep -c '^ERROR' "$d/bad.err")" -eq 1 ] || { cat "$d/bad.err"; fail "'$*': not one error line"; }
  world > "$d/world.after"
  diff -u "$d/world.before" "$d/world.after" || fail "'$*' changed the world"
}
bad "invalid MAC address ‘zz’" -o gkc-three --auto-clone -m zz
bad "invalid MAC address ‘01:00:5e:00:00:01’" -o gkc-three --auto-clone -m 01:00:5e:00:00:01
bad "3 --mac options but the domain has 2" -o gkc-three --auto-clone -m RANDOM -m RANDOM -m RANDOM
bad "The MAC address '52:54:00:00:c1:01' is in use by another virtual machine. (Use --check mac_in_use=off" \
  -o gkc-three --auto-clone -m 52:54:00:00:c1:01
bad "Guest name 'gkc-one' is already in use." -o gkc-three -n gkc-one --auto-clone
bad "This will overwrite the existing path '$d/sys.img'" -o gkc-one -n gkc-x -f "$d/sys.img"
bad "Disk path '$d/nope.img' does not exist." -o gkc-one -n gkc-x -f "$d/nope.img" --preserve-data
bad "needs a new path: give one more --file" -o gkc-three -n gkc-x -f "$d/a.img"
bad "Domain 'gkc-nosuch' was not found." -o gkc-nosuch --auto-clone
bad "--check" -o gkc-one --auto-clone --check bogus=on
bad "original domain XML" --original-xml /dev/null --auto-clone

# ---- Real clones ----
# No disks: only a new identity.  -q prints nothing.
[ -z "$(clone -q -o gkc-zero --auto-clone 2>&1)" ] || fail "-q printed something"
virsh -q -c "$libvirt_uri" dumpxml gkc-zero-clone | grep -q "52:54:00:00:c0:01" &&
  fail "gkc-zero-clone kept the MAC"
same_bytes () { qemu-img compare -q "$1" "$2" || fail "$2 differs from $1"; }
clone -q -o gkc-one --auto-clone
virsh -q -c "$libvirt_uri" dominfo gkc-one-clone >/dev/null || fail "gkc-one-clone not defined"
same_bytes "$d/gkc-one.img" "$d/gkc-one-clone.img"
cmp "$d/gkc-one.img" "$d/gkc-one-clone.img" || fail "raw copy differs"
[ "$(du -k "$d/gkc-one-clone.img" | cut -f1)" -le 2000 ] || fail "copy of gkc-one.img is not sparse"
# A second auto clone: the next free name and path.
clone -q -o gkc-one --auto-clone
virsh -q -c "$libvirt_uri" dominfo gkc-one-clone1 >/dev/null || fail "no gkc-one-clone1"
grep -q "gkc-one-clone1.img" <(virsh -q -c "$libvirt_uri" dumpxml gkc-one-clone1) ||
  fail "gkc-one-clone1's disk is not gkc-one-clone1.img"

# Three disks, NVRAM, TPM, two NICs.
out=$(clone -o gkc-three --auto-clone)
echo "$out" | grep -qx "Clone 'gkc-three-clone' created successfully." || fail "success message: $out"
virsh -q -c "$libvirt_uri" dumpxml --inactive gkc-three-clone > "$d/three-clone.xml"
for pair in "sys.img sys-clone.img" "data.qcow2 data-clone.qcow2" "overlay.qcow2 overlay-clone.qcow2"; do
  set -- $pair
  same_bytes "$d/$1" "$d/$2"
done
# The overlay's copy keeps its backing file, as a copy of the file.
qemu-img info --output=json "$d/overlay-clone.qcow2" | grep -q '"backing-filename": "'"$d"'/base.raw"' ||
  fail "overlay-clone.qcow2 lost its backing file"
[ -e "$d/cd-clone.iso" ] && fail "the read-only cdrom was copied"
cmp "$d/gkc-three_VARS.fd" "$d/gkc-three-clone_VARS.fd" || fail "NVRAM not copied"
grep -q "<nvram[^>]*>$d/gkc-three-clone_VARS.fd</nvram>" "$d/three-clone.xml" || fail "NVRAM path not rewritten"
new_uuid=$(virsh -q -c "$libvirt_uri" domuuid gkc-three-clone)
cmp "$GUESTKIT_SWTPM_DIR/6b3c8a8e-0000-4000-8000-0000000000c3/tpm2/tpm2-00.permall" \
    "$GUESTKIT_SWTPM_DIR/$new_uuid/tpm2/tpm2-00.permall" || fail "TPM state not copied for $new_uuid"
grep -q "<entry name='uuid'>$new_uuid</entry>" "$d/three-clone.xml" || fail "sysinfo uuid not rewritten"
grep -q "gkc-three-clone-serial.log" "$d/three-clone.xml" || fail "serial log path not rewritten"
grep -q "GKSERIAL0001" "$d/three-clone.xml" && fail "disk serial not renewed"
grep -q "5000c50015ea71ac" "$d/three-clone.xml" && fail "disk wwn not renewed"
grep -q "<title>" "$d/three-clone.xml" && fail "title kept"
[ "$(grep -c "<mac address='52:54:00:" "$d/three-clone.xml")" -eq 2 ] || fail "MACs"
grep -q "52:54:00:00:c3:0[12]" "$d/three-clone.xml" && fail "a MAC was kept"
ls -a "$d" | grep -q '^\.gk-tmp-' && fail "temporary files left behind"

# A dir-pool volume: cloned by the pool, in the pool.
clone -q -o gkc-pool --auto-clone
gk vol-list pool1 | grep -q 'vol-clone.img' || fail "pool volume clone not in pool1"
same_bytes "$d/pool1/vol.img" "$d/pool1/vol-clone.img"

# --pool: into another pool.
mkdir "$d/pool2"
gk pool-define-as pool2 dir --target "$d/pool2" >/dev/null
gk pool-start pool2 >/dev/null
clone -q -o gkc-pool -n gkc-pool2 --auto-clone --pool pool2
same_bytes "$d/pool1/vol.img" "$d/pool2/vol-clone.img"
virsh -q -c "$libvirt_uri" dumpxml gkc-pool2 | grep -q "$d/pool2/vol-clone.img" ||
  fail "--pool: disk source not in pool2"

# --linked: a qcow2 overlay of the original, its format recorded.
clone -q -o gkc-one -n gkc-linked -f "$d/linked.qcow2" --linked
qemu-img info --output=json "$d/linked.qcow2" > "$d/linked.json"
grep -q '"backing-filename-format": "raw"' "$d/linked.json" || fail "--linked: no backing format"
grep -q '"backing-filename": "'"$d"'/gkc-one.img"' "$d/linked.json" || fail "--linked: backing file"
virsh -q -c "$libvirt_uri" dumpxml gkc-linked | grep -q "type='qcow2'" || fail "--linked: driver type not qcow2"
same_bytes "$d/gkc-one.img" "$d/linked.qcow2"

# --replace: the old domain goes only when the new one is defined.
clone -q -o gkc-one -n gkc-linked -f "$d/replaced.img" --replace
virsh -q -c "$libvirt_uri" dumpxml gkc-linked | grep -q "$d/replaced.img" || fail "--replace: not replaced"

# --replace when libvirt refuses the new domain: the old one stays.
virsh -q -c "$libvirt_uri" dumpxml --inactive gkc-linked > "$d/replace.before.xml"
sed "s|<interface type='user'>|<interface type='bogus'>|" "$d/one.xml" > "$d/bogus.xml"
set +e
clone --original-xml "$d/bogus.xml" -n gkc-linked -f "$d/bogus.img" --replace 2> "$d/replace.err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "--replace with a refused domain: exit $rc"
virsh -q -c "$libvirt_uri" dumpxml --inactive gkc-linked > "$d/replace.after.xml"
diff -u "$d/replace.before.xml" "$d/replace.after.xml" || fail "--replace lost the old domain"
[ ! -e "$d/bogus.img" ] || fail "--replace left the copy of a refused clone"

# ---- Failures that happen mid-way ----
world > "$d/world.before"
# The target filesystem fills up.
mkdir "$d/small"
mount -t tmpfs -o size=2M tmpfs "$d/small"
cleanup_small () { umount "$d/small" 2>/dev/null || true; }
trap 'cleanup_small; undefine_all; cleanup_libvirt' EXIT
world > "$d/world.before"
set +e
clone -o gkc-three -n gkc-full -f "$d/small/f1.img" -f "$d/small/f2.qcow2" -f "$d/small/f3.qcow2" \
  --check disk_size=off > "$d/full.out" 2> "$d/full.err"; rc=$?
set -e
[ $rc -eq 1 ] || fail "full filesystem: exit $rc"
grep -q "No space left on device" "$d/full.err" || { cat "$d/full.err"; fail "full filesystem: message"; }
[ -z "$(ls -A "$d/small")" ] || fail "full filesystem: left $(ls -A "$d/small")"
world > "$d/world.after"
diff -u "$d/world.before" "$d/world.after" || fail "full filesystem changed the world"
# Without --check disk_size=off the free-space check refuses first.
bad "There is not enough free space to create the disk" \
  -o gkc-three -n gkc-full -f "$d/small/f1.img" -f "$d/small/f2.qcow2" -f "$d/small/f3.qcow2"
cleanup_small

# SIGINT while a big copy runs.
head -c 300M /dev/urandom > "$d/big.img"
domain gkc-big 6b3c8a8e-0000-4000-8000-0000000000cb \
  "$(disk file raw "$d/big.img" vda)" "$(disk file raw "$d/sys.img" vdb)" > "$d/big.xml"
define_domain "$d/big.xml" gkc-big
world > "$d/world.before"
"$run" "$vc" --connect "$libvirt_uri" -o gkc-big -n gkc-big2 -f "$d/b1.img" -f "$d/b2.img" --nonsparse \
  > "$d/int.out" 2> "$d/int.err" &
pid=$!
for i in $(seq 1 200); do
  [ -e "$d/.gk-tmp-b1.img" ] && break
  sleep 0.05
done
[ -e "$d/.gk-tmp-b1.img" ] || fail "SIGINT: the copy never started"
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
[ $rc -eq 1 ] || fail "SIGINT: exit $rc"
grep -q "aborted at user request" "$d/int.err" || { cat "$d/int.err"; fail "SIGINT: message"; }
world > "$d/world.after"
diff -u "$d/world.before" "$d/world.after" || fail "SIGINT left something behind"

echo "$0: PASS"
