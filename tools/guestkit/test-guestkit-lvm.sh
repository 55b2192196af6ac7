#!/bin/bash -
# The lvm backend through the guestkit command, for real: lvm2 needs the
# kernel's device-mapper, so everything runs in one boot of the test VM
# (tests/testvm.sh) on sparse disks: /dev/vda (a plain pool), /dev/vdb
# (a thin pool pool) and /dev/vdc (builds that fail).  The inner script checks each step against
# what lvm2 itself reports (lvs/vgs/pvs --reportformat json).
set -e
. "$abs_top_builddir/tests/functions.sh"
[ -f "$abs_top_srcdir/tests/testvm.sh" ] || skip "tests/testvm.sh (the test VM) is not in this tree"
. "$abs_top_srcdir/tests/testvm.sh"
testvm_check || skip "no test VM: $testvm_why"

# The VM sees the build directory (writable) but not the host's /tmp.
d="$(mktemp -d "$abs_top_builddir/tools/guestkit/lvm-test.XXXXXX")"
trap 'rm -rf "$d"' EXIT
truncate -s 512M "$d/vda.img" "$d/vdb.img"
truncate -s 8M "$d/vdc.img"      # too small for a thin pool

# About 70 guestkit commands at ~2 s each under TCG.
export TESTVM_TIMEOUT="${TESTVM_TIMEOUT:-600}"
rc=0
testvm_run -d "$d/vda.img" -d "$d/vdb.img" -d "$d/vdc.img" \
  "$abs_srcdir/test-guestkit-lvm.inner.sh" "$d" > "$d/out" 2>&1 || rc=$?
cat "$d/out"
echo "(VM: ${testvm_elapsed:-?} s, of which boot ${testvm_boot:-?} s)"
[ "$rc" = 0 ] || fail "the test in the VM failed (exit $rc)"
grep -q "^ok: all lvm checks passed" "$d/out" || fail "the VM did not finish the checks"
