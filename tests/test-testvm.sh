#!/bin/bash -
# The test VM (tests/testvm.sh) in one boot: read-only root, writable
# build directory, environment, disks in order, lvm2 with the kernel's
# device-mapper (linear, resize, snapshot, thin pool, thin volume, thin
# snapshot, JSON report), and the script's exit status.  Then that a VM
# running past TESTVM_TIMEOUT is killed.
set -e
. "$abs_top_builddir/tests/functions.sh"
. "$abs_top_srcdir/tests/testvm.sh"
testvm_check || exit 77
command -v python3 > /dev/null || skip "python3 is needed to read the lvm2 JSON report"
command -v lvcreate > /dev/null || skip "lvm2 is not installed (scripts/setup.sh installs it)"
command -v thin_check > /dev/null || skip "thin-provisioning-tools is not installed (scripts/setup.sh installs it)"

d="$(mktemp -d)"
probe="$abs_top_builddir/tests/test-testvm.probe"
trap 'rm -rf "$d" "$probe"' EXIT
rm -f "$probe"
# Two disks of different sizes, to tell them apart.
truncate -s 64M "$d/disk1.img"
truncate -s 96M "$d/disk2.img"

# Run inside the VM by sh (dash).  $1: the exit code to end with when
# every check passed; $2: the file to write; $3: the host's PATH.
cat > "$d/inner.sh" <<'EOF'
set -e
code="$1" probe="$2" host_path="$3"
bad () { echo "inner: FAIL: $*"; exit 1; }

! touch /usr/.testvm-probe 2>/dev/null || bad "the root is writable"
grep -q '^root / 9p ro[, ]' /proc/mounts || bad "the root is not a read-only 9p mount"
echo "written in the VM" > "$probe" || bad "cannot write in the build directory"
[ "$(pwd)" = "$abs_top_builddir/tests" ] || bad "cwd is $(pwd)"
[ "$GUESTKIT_TESTVM_VALUE" = "a 'quoted' \$value" ] || bad "GUESTKIT_TESTVM_VALUE is '$GUESTKIT_TESTVM_VALUE'"
[ "$PATH" = "$host_path" ] || bad "PATH is $PATH, on the host $host_path"
[ -f "$abs_top_srcdir/tests/testvm.sh" ] || bad "abs_top_srcdir is '$abs_top_srcdir'"
[ "$(blockdev --getsize64 /dev/vda)" = 67108864 ] || bad "/dev/vda is not the first disk"
[ "$(blockdev --getsize64 /dev/vdb)" = 100663296 ] || bad "/dev/vdb is not the second disk"
[ ! -e /dev/vdc ] || bad "a third disk"

vg=gktestvm
size () { lvs --noheadings --units b --nosuffix -o lv_size "$vg/$1" | tr -d ' '; }
pvcreate -q /dev/vda /dev/vdb
vgcreate -q "$vg" /dev/vda /dev/vdb
lvcreate -q -L 8M -n lin "$vg"
# Without udev, lvm2 makes the nodes and links itself.
[ -b "/dev/$vg/lin" ] || bad "no /dev/$vg/lin"
[ -b "/dev/mapper/$vg-lin" ] || bad "no /dev/mapper/$vg-lin"
[ "$(size lin)" = 8388608 ] || bad "lin is $(size lin) bytes"
lvresize -q -L 16M "$vg/lin"
[ "$(size lin)" = 16777216 ] || bad "lin is $(size lin) bytes after lvresize"
[ "$(blockdev --getsize64 "/dev/$vg/lin")" = 16777216 ] || bad "/dev/$vg/lin did not grow"
lvcreate -q -s -L 8M -n linsnap "$vg/lin"
lvcreate -q --type thin-pool -L 32M -n pool "$vg"
lvcreate -q -V 64M --thin -n thin "$vg/pool"
echo thin-data | dd of="/dev/$vg/thin" conv=fsync status=none
lvcreate -q -s -n thinsnap "$vg/thin"
lvchange -q -ay -K "$vg/thinsnap"
[ "$(head -c 9 "/dev/$vg/thinsnap")" = thin-data ] || bad "the thin snapshot does not hold the origin's data"
lvs --reportformat json -o lv_name,segtype,origin,pool_lv,lv_size --units b --nosuffix "$vg" > /tmp/lvs.json
cat /tmp/lvs.json
python3 - /tmp/lvs.json <<'PY' || bad "unexpected lvs JSON report"
import json, sys
lvs = {lv["lv_name"]: lv for lv in json.load(open(sys.argv[1]))["report"][0]["lv"]}
want = {"lin": ("linear", "", "", "16777216"), "linsnap": ("linear", "", "", "8388608"),
        "pool": ("thin-pool", "", "", "33554432"), "thin": ("thin", "", "pool", "67108864"),
        "thinsnap": ("thin", "thin", "pool", "67108864")}
for name, (seg, origin, pool, size) in want.items():
    lv = lvs[name]
    if name == "linsnap":
        assert lv["origin"] == "lin", lv
        continue
    assert (lv["segtype"], lv["origin"], lv["pool_lv"], lv["lv_size"]) == (seg, origin, pool, size), lv
PY
lvremove -q -y "$vg/thinsnap" "$vg/thin" "$vg/pool" "$vg/linsnap" "$vg/lin"
[ ! -e "/dev/$vg/lin" ] || bad "/dev/$vg/lin is still there after lvremove"
vgremove -q -y "$vg"
pvremove -q /dev/vda /dev/vdb
[ "$(dmsetup ls)" = "No devices found" ] || bad "device-mapper devices left: $(dmsetup ls)"
echo "inner: all checks passed"
exit "$code"
EOF

export GUESTKIT_TESTVM_VALUE="a 'quoted' \$value"
cd "$abs_top_builddir/tests"
rc=0
testvm_run -d "$d/disk1.img" -d "$d/disk2.img" "$d/inner.sh" 3 "$probe" "$PATH" || rc=$?
[ "$rc" = 3 ] || fail "testvm_run returned $rc, not the script's 3"
[ "$(cat "$probe" 2>/dev/null)" = "written in the VM" ] || fail "the file written in the VM is not on the host"
rm -rf "$testvm_rundir"
echo "ok: boot and run in ${testvm_elapsed} s (the script started ${testvm_boot} s after the guest kernel)"

# A VM that runs too long is killed, by PID, and says so.
echo 'sleep 600' > "$d/sleep.sh"
rc=0
TESTVM_TIMEOUT=3 testvm_run "$d/sleep.sh" > "$d/timeout.out" 2>&1 || rc=$?
[ "$rc" = 124 ] || { cat "$d/timeout.out"; fail "testvm_run returned $rc after its timeout, not 124"; }
grep -q TIMEOUT "$d/timeout.out" || fail "no timeout message: $(cat "$d/timeout.out")"
if kill -0 "$testvm_qemu_pid" 2>/dev/null &&
   ! grep -q '^State:.*Z' "/proc/$testvm_qemu_pid/status" 2>/dev/null; then
  fail "qemu (PID $testvm_qemu_pid) still runs after the timeout"
fi
echo "ok: the timeout kills the VM"
rm -rf "$testvm_rundir"
