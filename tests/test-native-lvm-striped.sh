#!/bin/bash -
# A striped LV (and a linear one spanning two PVs) made by lvm2 with the
# kernel's device-mapper in the test VM (tests/testvm.sh), filled with
# known bytes there, then read back on the host through the native
# engine's LVM reader (tests/native-list) and compared.
set -e
. "$abs_top_builddir/tests/functions.sh"
. "$abs_top_srcdir/tests/testvm.sh"
testvm_check || skip "$testvm_why"
command -v lvcreate > /dev/null || skip "lvm2 is not installed (scripts/setup.sh installs it)"

nl="$abs_top_builddir/tests/native-list"
# The build directory is shared with the VM (the guest's /tmp is not).
d="$(mktemp -d "$abs_top_builddir/tests/native-striped.XXXXXX")"
trap 'rm -rf "$d"' EXIT
truncate -s 64M "$d/a.img" "$d/b.img"
head -c 16M /dev/urandom > "$d/str.data"
head -c 80M /dev/urandom > "$d/span.data"

cat > "$d/inner.sh" <<'EOF'
set -e
d="$1"
pvcreate -q /dev/vda /dev/vdb
vgcreate -q -s 1M gkstripe /dev/vda /dev/vdb
lvcreate -q -i 2 -I 64k -L 16M -n str gkstripe
lvcreate -q -L 80M -n span gkstripe
lvs -o lv_name,segtype,stripes,devices gkstripe
dd if="$d/str.data" of=/dev/gkstripe/str bs=1M oflag=direct status=none
dd if="$d/span.data" of=/dev/gkstripe/span bs=1M oflag=direct status=none
vgchange -q -an gkstripe
EOF

cd "$abs_top_builddir/tests"
testvm_run -d "$d/a.img" -d "$d/b.img" "$d/inner.sh" "$d" ||
  fail "the test VM could not make the LVs"
rm -rf "$testvm_rundir"

"$nl" -l "$d/a.img" "$d/b.img"
"$nl" -r /dev/gkstripe/str 0 16777216 "$d/a.img" "$d/b.img" > "$d/str.got"
cmp "$d/str.data" "$d/str.got" || fail "the striped LV's bytes differ"
echo "ok: striped LV (2 stripes of 64 KiB)"
"$nl" -r /dev/gkstripe/span 0 83886080 "$d/a.img" "$d/b.img" > "$d/span.got"
cmp "$d/span.data" "$d/span.got" || fail "the spanning LV's bytes differ"
echo "ok: linear LV over two PVs"
