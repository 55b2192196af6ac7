#!/bin/bash -
# Capture real lvm2 reports (pvs, vgs, lvs --reportformat json --units b
# --nosuffix) in the test VM, as parser fixtures: linear LVs, an old-style
# snapshot, a thin pool, a thin volume and a thin snapshot on two disks.
# Not a test: run it by hand after a build, and review the diff.
#   abs_top_builddir=BUILD abs_top_srcdir=SRC tests/make-lvm-reports.sh [OUTDIR]
# OUTDIR (default SRC/tests/golden/lvm-report) must be inside the build
# or source directory: the VM writes there.
set -e
. "$abs_top_builddir/tests/functions.sh"
. "$abs_top_srcdir/tests/testvm.sh"
testvm_check || exit 1
out="${1:-$abs_top_srcdir/tests/golden/lvm-report}"
mkdir -p "$out"
out="$(realpath "$out")"

d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
truncate -s 128M "$d/disk1.img"
truncate -s 64M "$d/disk2.img"

cat > "$d/capture.sh" <<'EOF'
set -e
out="$1"
vg=gkvm
# The fields guestkit's lvm backend asks for (pools/lvm/lvm-cmd.h).
lvs_f=lv_name,lv_path,lv_size,segtype,pool_lv,origin,data_percent,discards,chunk_size
vgs_f=vg_name,vg_size,vg_free,vg_extent_size
pvs_f=pv_name,vg_name,pv_size,pv_free
r () { "$@" --reportformat json --units b --nosuffix; }
# NAME CMD...: the report in NAME.json, its exit code and stderr beside
# when it is not a plain success.
cap () {
  name="$1"; shift
  rc=0
  r "$@" > "$out/$name.json" 2> /tmp/err || rc=$?
  if [ "$rc" != 0 ] || [ -s /tmp/err ]; then
    { echo "exit $rc"; cat /tmp/err; } > "$out/$name.stderr"
  fi
  echo "$name.json: $* --reportformat json --units b --nosuffix (exit $rc)" >> "$out/vm-captures.txt"
}
{
  echo "Captured by tests/make-lvm-reports.sh in the test VM"
  echo "($(lvm version | sed -n 's/^ *LVM version: *//p'), kernel $(uname -r)):"
  echo "/dev/vda is 128 MiB, /dev/vdb 64 MiB."
} > "$out/vm-captures.txt"

pvcreate -q /dev/vda /dev/vdb > /dev/null
cap vm-pvs-two-pvs-no-vg pvs -o "$pvs_f" /dev/vda /dev/vdb
vgcreate -q "$vg" /dev/vda /dev/vdb > /dev/null
cap vm-vgs-two-pvs-empty vgs -o "$vgs_f" "$vg"
cap vm-lvs-empty-vg lvs -o "$lvs_f" "$vg"
lvcreate -q -L 8M -n lin "$vg" > /dev/null
lvresize -q -L 16M "$vg/lin" > /dev/null
lvcreate -q -L 12M -n lin2 "$vg" > /dev/null
lvcreate -q -s -L 8M -n linsnap "$vg/lin" > /dev/null
lvcreate -q --type thin-pool -L 32M -n tp "$vg" > /dev/null 2>&1
lvcreate -q -V 64M --thin -n thin1 "$vg/tp" > /dev/null 2>&1
# 1 MiB written to thin1, so that its data_percent is not 0.
yes thin-data | head -c 1048576 | dd of="/dev/$vg/thin1" bs=1M conv=fsync status=none
lvcreate -q -s -n thinsnap "$vg/thin1" > /dev/null 2>&1
cap vm-lvs-thinsnap-inactive lvs -o "$lvs_f" "$vg/thinsnap"
lvchange -q -ay -K "$vg/thinsnap"
cap vm-lvs-all lvs -o "$lvs_f" "$vg"
cap vm-lvs-all-hidden lvs -a -o "$lvs_f" "$vg"
cap vm-lvs-one-linear lvs -o "$lvs_f" "$vg/lin"
cap vm-lvs-one-old-snapshot lvs -o "$lvs_f" "$vg/linsnap"
cap vm-lvs-one-thin-pool lvs -o "$lvs_f" "$vg/tp"
cap vm-lvs-one-thin-snapshot lvs -o "$lvs_f" "$vg/thinsnap"
cap vm-lvs-nosuch-lv lvs -o "$lvs_f" "$vg/nosuch"
cap vm-lvs-nosuch-vg lvs -o "$lvs_f" nosuchvg
cap vm-vgs-two-pvs-used vgs -o "$vgs_f" "$vg"
cap vm-pvs-two-pvs-in-vg pvs -o "$pvs_f" /dev/vda /dev/vdb
# lvm2's default columns too, for a parser that must not depend on them.
cap vm-lvs-default-fields lvs "$vg"
cap vm-vgs-default-fields vgs "$vg"
cap vm-pvs-default-fields pvs /dev/vda /dev/vdb
lvremove -q -y "$vg" > /dev/null
vgremove -q -y "$vg" > /dev/null
pvremove -q /dev/vda /dev/vdb > /dev/null
EOF

cd "$out"
rm -f "$out"/vm-*
testvm_run -d "$d/disk1.img" -d "$d/disk2.img" "$d/capture.sh" "$out"
echo "make-lvm-reports.sh: $(ls "$out"/vm-* | wc -l) files in $out (VM: $testvm_elapsed s)"
