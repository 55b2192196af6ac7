# Run by test-guestkit-lvm.sh inside the test VM (sh SCRIPT DIR), with
# the disks /dev/vda, /dev/vdb (512 MiB) and /dev/vdc (8 MiB).  DIR is a scratch directory.
# Every check compares guestkit with lvm2's own reports.
set -eu
d="$1"
t=/tmp/gk-lvm
mkdir -p "$t"
export LVM_SUPPRESS_FD_WARNINGS=1
S="$t/state"
g () { "$abs_top_builddir/run" guestkit --state-dir "$S" "$@"; }
fail () { echo "FAIL: $*"; exit 1; }
ok () { echo "ok: $*"; }

# One field of one LV / VG / PV from lvm2's JSON report ("" if absent).
# lvm2 prints each row on one line, {"name":"value", ...}; sed reads it
# (python3 takes ~13 s to start under TCG).
report () {
  "$1" --reportformat json --units b --nosuffix -o "$3" "$2" 2>/dev/null |
    sed -n "s/.*\"$3\":\"\([^\"]*\)\".*/\1/p"
}
lv () { report lvs "$1" "$2"; }
vg () { report vgs "$1" "$2"; }
pv () { report pvs "$1" "$2"; }
# All LVs of a VG, as lvm2 lists them (to see that failures change nothing).
lvs_of () { lvs --reportformat json --units b --nosuffix -o lv_name,lv_size "$1"; }
# A field of guestkit's --json output ({"name": value, ...} on one line).
jget () { sed -n "s/.*\"$1\": \"\{0,1\}\([^,\"}]*\).*/\1/p"; }
# A command that must fail with exactly one line on stderr.
must_fail () {
  what="$1"; shift
  if "$@" > "$t/out" 2> "$t/err"; then fail "$what: succeeded"; fi
  [ "$(wc -l < "$t/err")" = 1 ] || fail "$what: not one line: $(cat "$t/err")"
  echo "ok: $what fails: $(cat "$t/err")"
}
MiB=1048576

# --- A plain pool on /dev/vda -----------------------------------------
g pool-define-as lin logical --source-dev /dev/vda --source-name gklin > /dev/null
g pool-build lin > /dev/null
[ "$(pv /dev/vda vg_name)" = gklin ] || fail "pool-build: /dev/vda is not in VG gklin"
g pool-start lin > /dev/null
g pool-info lin --json > "$t/info"
[ "$(jget capacity < "$t/info")" = "$(vg gklin vg_size)" ] || fail "pool capacity"
[ "$(jget available < "$t/info")" = "$(vg gklin vg_free)" ] || fail "pool available"
ok "plain pool built and started: VG gklin of $(vg gklin vg_size) bytes"

# Linear volume: 10 MiB is rounded up to 3 extents (12 MiB), as lvm2 does.
g vol-create-as lin disk1 10M > /dev/null
[ "$(lv gklin/disk1 segtype)" = linear ] || fail "disk1 is not a linear LV"
[ "$(lv gklin/disk1 lv_size)" = $((12 * MiB)) ] || fail "disk1 size $(lv gklin/disk1 lv_size)"
g vol-info disk1 --pool lin --json > "$t/info"
[ "$(jget capacity < "$t/info")" = "$(lv gklin/disk1 lv_size)" ] || fail "vol-info capacity"
[ "$(jget path < "$t/info")" = "$(lv gklin/disk1 lv_path)" ] || fail "vol-info path"
[ "$(jget path < "$t/info")" = /dev/gklin/disk1 ] || fail "vol-info path is not /dev/VG/LV"
[ "$(jget format < "$t/info")" = raw ] || fail "vol-info format"
[ "$(g vol-list lin --name-only)" = disk1 ] || fail "vol-list: $(g vol-list lin --name-only)"
g vol-dumpxml disk1 --pool lin > "$t/xml"
grep -q "<path>/dev/gklin/disk1</path>" "$t/xml" && grep -q 'type="block"' "$t/xml" ||
  fail "vol-dumpxml: $(cat "$t/xml")"
ok "linear volume: $(lv gklin/disk1 lv_path), $(lv gklin/disk1 lv_size) bytes"

# Upload over stale data: the holes and the tail must read as zeros.
head -c $((12 * MiB)) /dev/urandom > /dev/gklin/disk1
head -c $MiB /dev/urandom > "$t/data"
truncate -s $((7 * MiB)) "$t/data"
head -c $MiB /dev/urandom >> "$t/data"
cp "$t/data" "$t/expect"; truncate -s $((12 * MiB)) "$t/expect"
g vol-upload disk1 "$t/data" --pool lin
cmp /dev/gklin/disk1 "$t/expect" || fail "upload: the LV does not hold the file then zeros"
g vol-download disk1 "$t/back" --pool lin
cmp "$t/back" "$t/expect" || fail "download content"
[ "$(du -k "$t/back" | cut -f1)" -le 3072 ] || fail "download is not sparse: $(du -k "$t/back")"
ok "upload over stale data and sparse download"

g vol-resize disk1 20M --pool lin > /dev/null
[ "$(lv gklin/disk1 lv_size)" = $((20 * MiB)) ] || fail "resize: $(lv gklin/disk1 lv_size)"
cmp -n $((12 * MiB)) /dev/gklin/disk1 "$t/expect" || fail "resize lost data"
ok "resize grows the LV to $(lv gklin/disk1 lv_size)"

g vol-clone disk1 copy1 --pool lin > /dev/null
[ "$(lv gklin/copy1 lv_size)" = "$(lv gklin/disk1 lv_size)" ] || fail "clone size"
cmp /dev/gklin/disk1 /dev/gklin/copy1 || fail "clone content"
ok "clone by copy: copy1"

must_fail "shrink without --shrink" g vol-resize copy1 8M --pool lin
g vol-resize copy1 8M --pool lin --shrink > /dev/null
[ "$(lv gklin/copy1 lv_size)" = $((8 * MiB)) ] || fail "shrink"
g vol-wipe copy1 --pool lin > /dev/null
cmp /dev/gklin/copy1 /dev/zero 2>&1 | grep -q EOF || fail "wipe left data"
ok "shrink with --shrink, wipe"

# Bad input: one line, and lvm2 lists the same LVs afterwards.
lvs_of gklin > "$t/before"
must_fail "a volume name with /" g vol-create-as lin a/b 4M
must_fail "a name lvm2 refuses" g vol-create-as lin "bad name" 4M
must_fail "more than the VG" g vol-create-as lin huge 10G
must_fail "clone onto an existing name" g vol-clone disk1 copy1 --pool lin
must_fail "a reflink clone" g vol-clone disk1 copy2 --pool lin --reflink
# A qcow2 source whose L1 table offset is broken: the LV is made, the
# conversion fails, and the LV must be gone again.
mkdir -p "$t/dirpool"
g pool-define-as dp dir --target "$t/dirpool" > /dev/null
g pool-start dp > /dev/null
qemu-img create -q -f qcow2 "$t/dirpool/bad.qcow2" 16M
printf '\001' | dd of="$t/dirpool/bad.qcow2" bs=1 seek=47 conv=notrunc status=none
must_fail "a clone whose copy fails" g vol-clone bad.qcow2 frombad --pool dp --newpool lin
lvs_of gklin > "$t/after"
cmp -s "$t/before" "$t/after" || fail "a failure changed the LVs: $(cat "$t/after")"
ok "failures leave lvs unchanged"

# --- Builds that fail on /dev/vdc leave the device as it was ----------
mkfs.ext4 -q /dev/vdc
g pool-define-as small logical --source-dev /dev/vdc --source-name gksmall --thin-pool tp > /dev/null
must_fail "pool-build on a filesystem" g pool-build small
[ "$(blkid -p -o value -s TYPE /dev/vdc)" = ext4 ] || fail "a refused build touched the filesystem"
# With --overwrite the PV and VG are made, then the thin pool does not
# fit: both must be gone again.
must_fail "pool-build of a thin pool that does not fit" g pool-build small --overwrite
[ -z "$(vg gksmall vg_name)" ] || fail "a failed build left the VG"
[ -z "$(pv /dev/vdc pv_name)" ] || fail "a failed build left the PV label"
ok "failed builds leave no VG and no PV label"

# --- A thin pool pool on /dev/vdb --------------------------------------
g pool-define-as thin logical --source-dev /dev/vdb --source-name gkthin --thin-pool tp > /dev/null
g pool-dumpxml thin | grep -q "guestkit:thinpool" || fail "no thin pool in the XML"
g pool-build thin > /dev/null
[ "$(lv gkthin/tp segtype)" = thin-pool ] || fail "pool-build made no thin pool"
g pool-start thin > /dev/null
g pool-info thin --json > "$t/info"
[ "$(jget capacity < "$t/info")" = "$(lv gkthin/tp lv_size)" ] || fail "thin pool capacity"
ok "thin pool gkthin/tp of $(lv gkthin/tp lv_size) bytes in a VG of $(vg gkthin vg_size)"

g vol-create-as thin t1 64M > /dev/null
[ "$(lv gkthin/t1 segtype)" = thin ] && [ "$(lv gkthin/t1 pool_lv)" = tp ] || fail "t1 is not a thin LV of tp"
[ "$(lv gkthin/t1 lv_size)" = $((64 * MiB)) ] || fail "t1 size"
[ "$(g vol-list thin --name-only)" = t1 ] || fail "vol-list shows: $(g vol-list thin --name-only)"
g vol-upload t1 "$t/data" --pool thin
cp "$t/data" "$t/expect64"; truncate -s $((64 * MiB)) "$t/expect64"
cmp /dev/gkthin/t1 "$t/expect64" || fail "thin upload content"
alloc=$(g vol-info t1 --pool thin --json | jget allocation)
[ "$alloc" -le $((3 * MiB)) ] || fail "thin upload wrote the holes: allocation $alloc"
ok "thin volume t1: 2 MiB of data, allocation $alloc (data_percent $(lv gkthin/t1 data_percent))"

g vol-clone t1 t1snap --pool thin > /dev/null
[ "$(lv gkthin/t1snap origin)" = t1 ] || fail "the clone is not a thin snapshot of t1"
cmp /dev/gkthin/t1snap /dev/gkthin/t1 || fail "snapshot content"
ok "clone in the thin pool is a thin snapshot (origin $(lv gkthin/t1snap origin))"

g vol-clone disk1 fromlin --pool lin --newpool thin > /dev/null
[ "$(lv gkthin/fromlin segtype)" = thin ] || fail "cross-pool clone is not thin"
cmp /dev/gkthin/fromlin /dev/gklin/disk1 || fail "cross-pool clone content"
alloc=$(g vol-info fromlin --pool thin --json | jget allocation)
[ "$alloc" -le $((3 * MiB)) ] || fail "copy into a thin LV wrote zeros: allocation $alloc"
ok "clone from the plain pool into the thin pool: sparse (allocation $alloc)"

cp "$t/data" "$t/dirpool/raw.img"
qemu-img convert -f raw -O qcow2 "$t/data" "$t/dirpool/img.qcow2"
g vol-clone raw.img fromdir --pool dp --newpool thin > /dev/null
cmp -n $((8 * MiB)) /dev/gkthin/fromdir "$t/data" || fail "clone from a dir pool"
g vol-clone img.qcow2 fromqcow --pool dp --newpool lin > /dev/null
cmp -n $((8 * MiB)) /dev/gklin/fromqcow "$t/data" || fail "clone of a qcow2 file is not its disk"
ok "clones from a dir pool (raw into thin, qcow2 converted into linear)"

g vol-wipe t1snap --pool thin > /dev/null
cmp /dev/gkthin/t1snap /dev/zero 2>&1 | grep -q EOF || fail "thin wipe left data"
cmp /dev/gkthin/t1 "$t/expect64" || fail "wiping the snapshot changed its origin"
ok "thin wipe (data_percent now $(lv gkthin/t1snap data_percent))"

g vol-resize t1 128M --pool thin > /dev/null
[ "$(lv gkthin/t1 lv_size)" = $((128 * MiB)) ] || fail "thin resize"
ok "thin resize"

# --- Temporary names, rename, leftovers --------------------------------
# virt-clone copies each disk as .gk-tmp-NAME, then renames it: lvm2
# must take a leading dot, vol-list must hide it, vol-info find it.
g vol-clone disk1 .gk-tmp-staged --pool lin > /dev/null
[ "$(lv gklin/.gk-tmp-staged lv_name)" = .gk-tmp-staged ] || fail "lvm2 made no LV .gk-tmp-staged"
g vol-list lin --name-only | grep -q gk-tmp && fail "vol-list shows a temporary LV"
g vol-info .gk-tmp-staged --pool lin > /dev/null || fail "vol-info of a temporary LV"
g vol-rename lin .gk-tmp-staged staged > /dev/null
[ -z "$(lv gklin/.gk-tmp-staged lv_name)" ] && [ "$(lv gklin/staged lv_name)" = staged ] || fail "lvrename"
cmp /dev/gklin/staged /dev/gklin/disk1 || fail "renamed LV content"
must_fail "rename onto an existing LV" g vol-rename lin staged disk1
must_fail "rename to a name lvm2 refuses" g vol-rename lin staged "bad name"
g vol-clone t1 .gk-tmp-t1snap --pool thin > /dev/null
g vol-rename t1snap2 x --pool thin > /dev/null 2>&1 && fail "renamed a missing LV"
g vol-rename .gk-tmp-t1snap t1snap2 --pool thin > /dev/null
[ "$(lv gkthin/t1snap2 origin)" = t1 ] || fail "the renamed thin snapshot lost its origin"
ok "clones staged as .gk-tmp-NAME and renamed into place (linear and thin snapshot)"
# A leftover, as a killed copy would leave it: pool-refresh warns (exit
# 0), vol-list hides it, pool-clean removes it.
lvcreate -qq --yes -L 4M -n .gk-tmp-killed gklin > /dev/null 2>&1 || fail "lvcreate .gk-tmp-killed"
g pool-refresh lin > /dev/null 2> "$t/err" || fail "pool-refresh with a leftover: $(cat "$t/err")"
grep -q "leftover temporary volume ‘.gk-tmp-killed’ from an interrupted copy; remove it with ‘guestkit pool-clean lin’" "$t/err" ||
  fail "pool-refresh warning: $(cat "$t/err")"
g vol-list lin --name-only | grep -q gk-tmp && fail "vol-list shows a leftover"
g pool-clean lin | grep -q "1 leftover volume removed" || fail "pool-clean"
[ -z "$(lv gklin/.gk-tmp-killed lv_name)" ] || fail "pool-clean left the LV"
g vol-delete staged --pool lin > /dev/null
g vol-delete t1snap2 --pool thin > /dev/null
ok "leftover LV: pool-refresh warns, pool-clean removes it"

# --- Teardown -------------------------------------------------------------
must_fail "pool-delete of a pool with volumes" sh -c "'$abs_top_builddir/run' guestkit --state-dir '$S' pool-destroy thin > /dev/null && '$abs_top_builddir/run' guestkit --state-dir '$S' pool-delete thin"
g pool-start thin > /dev/null
for v in t1 t1snap fromlin fromdir; do
  g vol-delete "$v" --pool thin > /dev/null
  [ -z "$(lv "gkthin/$v" lv_name)" ] || fail "vol-delete left $v"
done
g pool-destroy thin > /dev/null
g pool-delete thin > /dev/null
[ -z "$(vg gkthin vg_name)" ] || fail "pool-delete left the VG"
[ -z "$(pv /dev/vdb pv_name)" ] || fail "pool-delete left the PV label"
for v in disk1 copy1 fromqcow; do g vol-delete "$v" --pool lin > /dev/null; done
[ "$(lvs_of gklin | grep -c lv_name || true)" = 0 ] || fail "LVs left in gklin"
g pool-destroy lin > /dev/null
g pool-delete lin > /dev/null
[ -z "$(vg gklin vg_name)" ] || fail "pool-delete left the VG gklin"
ok "volumes deleted, pools destroyed and deleted (VGs and PV labels gone)"
ok "all lvm checks passed"
