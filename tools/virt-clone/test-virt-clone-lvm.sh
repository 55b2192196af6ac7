#!/bin/bash -
# virt-clone of a domain whose disk is an LV of a guestkit lvm pool, for
# real: lvm2 needs the kernel's device-mapper, so everything runs in one
# boot of the test VM (tests/testvm.sh, test-virt-clone-lvm.inner.sh) on
# two sparse disks: /dev/vda (a plain pool) and /dev/vdb (a thin pool).
# The domain comes from --original-xml and is defined with libvirt's
# in-process test driver (test:///default): no libvirtd.
set -e
. "$abs_top_builddir/tests/functions.sh"
[ -f "$abs_top_srcdir/tests/testvm.sh" ] || skip "tests/testvm.sh (the test VM) is not in this tree"
. "$abs_top_srcdir/tests/testvm.sh"
testvm_check || skip "no test VM: $testvm_why"

# The VM sees the build directory (writable) but not the host's /tmp.
d="$(mktemp -d "$abs_top_builddir/tools/virt-clone/lvm-test.XXXXXX")"
trap 'rm -rf "$d"' EXIT
truncate -s 256M "$d/vda.img" "$d/vdb.img"

# About 25 guestkit commands at ~2 s each under TCG.
export TESTVM_TIMEOUT="${TESTVM_TIMEOUT:-600}"
rc=0
testvm_run -d "$d/vda.img" -d "$d/vdb.img" \
  "$abs_srcdir/test-virt-clone-lvm.inner.sh" "$d" > "$d/out" 2>&1 || rc=$?
cat "$d/out"
echo "(VM: ${testvm_elapsed:-?} s, of which boot ${testvm_boot:-?} s)"
[ "$rc" = 0 ] || fail "the test in the VM failed (exit $rc)"
grep -q "^ok: all virt-clone lvm checks passed" "$d/out" || fail "the VM did not finish the checks"
