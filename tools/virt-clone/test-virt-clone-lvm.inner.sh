# Run by test-virt-clone-lvm.sh inside the test VM (sh SCRIPT DIR), with
# the disks /dev/vda and /dev/vdb (256 MiB each).  DIR is a scratch
# directory.  Checks against lvm2's own reports; sed and grep only
# (python3 takes ~13 s to start under TCG).
set -eu
d="$1"
t=/tmp/gk-vclvm
mkdir -p "$t"
export LVM_SUPPRESS_FD_WARNINGS=1
export GUESTKIT_STATE_DIR="$t/state"
g () { "$abs_top_builddir/run" guestkit "$@"; }
vc () { "$abs_top_builddir/run" virt-clone --connect test:///default "$@"; }
fail () { echo "FAIL: $*"; exit 1; }
ok () { echo "ok: $*"; }
lv () {
  lvs --reportformat json --units b --nosuffix -o "$2" "$1" 2>/dev/null |
    sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p"
}
# Every LV of both VGs, as lvm2 lists them: what a failure must not change.
lvs_all () { lvs --reportformat json --units b --nosuffix -o vg_name,lv_name,lv_size,origin 2>/dev/null; }
# A virt-clone that must fail with an ERROR line matching $1, and leave
# lvs as it was.
refused () {
  pattern="$1"; shift
  lvs_all > "$t/before"
  if vc "$@" > "$t/out" 2> "$t/err"; then fail "virt-clone $*: succeeded"; fi
  grep -q "^ERROR .*$pattern" "$t/err" || fail "virt-clone $*: message: $(cat "$t/err")"
  lvs_all > "$t/after"
  cmp -s "$t/before" "$t/after" || fail "virt-clone $*: lvs changed: $(cat "$t/after")"
  ok "refused, lvs unchanged: $(grep ^ERROR "$t/err")"
}
no_tmp () {
  ! lvs --noheadings -o lv_name 2>/dev/null | grep -F .gk-tmp- ||
    fail "$1: temporary LVs left"
}
# A domain with one block disk on $2 (the define fails with $3 = bad).
domxml () {
  {
    echo "<domain type='test'><name>$1</name><memory>1048576</memory>"
    echo "<os><type>hvm</type></os>"
    [ "${3:-}" != bad ] || echo "<on_poweroff>bogus</on_poweroff>"
    echo "<devices><disk type='block' device='disk'><driver name='qemu' type='raw'/>"
    echo "<source dev='$2'/><target dev='vda' bus='virtio'/></disk>"
    echo "<interface type='network'><mac address='52:54:00:01:02:03'/><source network='default'/></interface>"
    echo "</devices></domain>"
  }
}

# --- A plain pool on /dev/vda -----------------------------------------
g pool-define-as lin logical --source-dev /dev/vda --source-name gkvcl > /dev/null
g pool-build lin > /dev/null
g pool-start lin > /dev/null
g vol-create-as lin disk 16M > /dev/null
head -c 4194304 /dev/urandom > /dev/gkvcl/disk
head -c 1048576 /dev/urandom | dd of=/dev/gkvcl/disk bs=1M seek=12 conv=notrunc 2>/dev/null
domxml linvm /dev/gkvcl/disk > "$t/lin.xml"
domxml linvm /dev/gkvcl/disk bad > "$t/linbad.xml"
ok "plain pool gkvcl, LV disk with data"

vc --original-xml "$t/lin.xml" --auto-clone --print-xml > "$t/print.xml"
grep -q "<name>linvm-clone</name>" "$t/print.xml" || fail "--print-xml name: $(cat "$t/print.xml")"
grep -q "<source dev=\"/dev/gkvcl/disk-clone\"/>" "$t/print.xml" ||
  fail "--print-xml source: $(cat "$t/print.xml")"
[ -z "$(lv gkvcl/disk-clone lv_name)" ] || fail "--print-xml made the LV"
ok "--print-xml: /dev/gkvcl/disk-clone, nothing made"

refused "invalid MAC address" --original-xml "$t/lin.xml" --auto-clone --mac 52:54:00:zz:00:01
refused "could not define the new domain" --original-xml "$t/linbad.xml" --auto-clone
no_tmp "failed clones"

vc --original-xml "$t/lin.xml" --auto-clone > "$t/out"
grep -q "Clone 'linvm-clone' created successfully" "$t/out" || fail "clone: $(cat "$t/out")"
[ "$(lv gkvcl/disk-clone lv_size)" = "$(lv gkvcl/disk lv_size)" ] || fail "clone size"
[ -z "$(lv gkvcl/disk-clone origin)" ] || fail "the clone of a plain LV is a snapshot"
cmp /dev/gkvcl/disk /dev/gkvcl/disk-clone || fail "clone content"
g vol-list lin --name-only | grep -qx disk-clone || fail "vol-list: $(g vol-list lin --name-only)"
no_tmp "clone"
ok "clone: LV gkvcl/disk-clone with the same bytes"
refused "Clone onto existing storage volume" --original-xml "$t/lin.xml" -n other -f lin/disk-clone

# --- A thin pool on /dev/vdb -------------------------------------------
g pool-define-as thin logical --source-dev /dev/vdb --source-name gkvct --thin-pool tp > /dev/null
g pool-build thin > /dev/null
g pool-start thin > /dev/null
g vol-create-as thin t1 32M > /dev/null
head -c 2097152 /dev/urandom | dd of=/dev/gkvct/t1 bs=1M seek=4 conv=notrunc 2>/dev/null
domxml thinvm /dev/gkvct/t1 > "$t/thin.xml"
domxml thinvm /dev/gkvct/t1 bad > "$t/thinbad.xml"
ok "thin pool gkvct/tp, thin LV t1 with data"

refused "could not define the new domain" --original-xml "$t/thinbad.xml" --auto-clone
no_tmp "failed thin clone"
vc --original-xml "$t/thin.xml" --auto-clone > "$t/out"
grep -q "Clone 'thinvm-clone' created successfully" "$t/out" || fail "thin clone: $(cat "$t/out")"
[ "$(lv gkvct/t1-clone segtype)" = thin ] || fail "the clone is not a thin LV"
[ "$(lv gkvct/t1-clone origin)" = t1 ] || fail "the clone is not a thin snapshot of t1: origin '$(lv gkvct/t1-clone origin)'"
cmp /dev/gkvct/t1 /dev/gkvct/t1-clone || fail "thin clone content"
no_tmp "thin clone"
ok "thin clone: gkvct/t1-clone is a thin snapshot of t1"

# Teardown.
for v in disk-clone disk; do g vol-delete "$v" --pool lin > /dev/null; done
for v in t1-clone t1; do g vol-delete "$v" --pool thin > /dev/null; done
g pool-stop lin > /dev/null; g pool-stop thin > /dev/null
echo "ok: all virt-clone lvm checks passed"
