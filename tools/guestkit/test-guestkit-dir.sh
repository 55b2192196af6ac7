#!/bin/bash -
# The dir backend through the guestkit command: every verb, sparseness,
# clones (linked, across pools), upload/download round trips, locking
# between processes, and failures that leave nothing behind.
set -e
. "$abs_top_builddir/tests/functions.sh"
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
export GUESTKIT_STATE_DIR="$d/state"
g () { ours guestkit "$@"; }
alloc () { echo $(( $(stat -c %b "$1") * 512 )); }

g pool-define-as p1 dir --target "$d/p1" > /dev/null
g pool-define-as p2 dir "$d/p2" > /dev/null          # positional target
g pool-list --all --name-only | tr '\n' ' ' | grep -qx "p1 p2 " || fail "pool-list"
g pool-start p1 2> "$d/err" && fail "started a pool that was not built"
grep -q "not a directory (build the pool first)" "$d/err" || fail "start message: $(cat "$d/err")"
g pool-build p1 > /dev/null
g pool-start p1 > /dev/null
g pool-start p2 --build > /dev/null
g pool-info p1 --json | python3 -c 'import json,sys; i=json.load(sys.stdin); assert i["state"]=="running" and i["type"]=="dir" and i["capacity"]>0, i'
g pool-autostart p1 > /dev/null
g pool-info p1 | grep -q "^Autostart: *yes" || fail "autostart"
echo "ok: pools defined, built, started"

# Sparse by default (as virsh vol-create-as); fully allocated from XML
# without <allocation> (as libvirt).
g vol-create-as p1 sparse.img 64M > /dev/null
[ "$(stat -c %s "$d/p1/sparse.img")" = $((64<<20)) ] || fail "size"
[ "$(alloc "$d/p1/sparse.img")" = 0 ] || fail "vol-create-as is not sparse"
cat > "$d/vol.xml" <<XML
<volume><name>full.img</name><capacity unit='MiB'>8</capacity></volume>
XML
g vol-create p1 "$d/vol.xml" > /dev/null
[ "$(alloc "$d/p1/full.img")" -ge $((8<<20)) ] || fail "XML without <allocation> is not fully allocated"
g vol-create-as p1 disk.qcow2 1G --format qcow2 > /dev/null
qemu-img info "$d/p1/disk.qcow2" | grep -q "file format: qcow2" || fail "qcow2"
echo "ok: volumes created (sparse raw, allocated raw, qcow2)"

# Data with holes: 1 MiB of data, a 30 MiB hole, 1 MiB of data.
head -c 1M /dev/urandom > "$d/data"
truncate -s 32M "$d/data"
head -c 1M /dev/urandom | dd of="$d/data" bs=1M seek=31 conv=notrunc status=none
g vol-upload sparse.img "$d/data" --pool p1
cmp <(head -c $((32<<20)) "$d/p1/sparse.img") "$d/data" || fail "upload content"
[ "$(stat -c %s "$d/p1/sparse.img")" = $((64<<20)) ] || fail "upload changed the raw volume's size"
[ "$(alloc "$d/p1/sparse.img")" -le $((3<<20)) ] || fail "upload is not sparse: $(alloc "$d/p1/sparse.img")"
g vol-download sparse.img "$d/back" --pool p1
cmp "$d/back" "$d/p1/sparse.img" || fail "download content"
[ "$(alloc "$d/back")" -le $((3<<20)) ] || fail "download is not sparse"
echo "ok: upload and download keep data and holes"

# An upload cancelled half-way leaves the volume as it was.
cancel="$abs_top_builddir/tests/vol-upload-cancel"
[ -x "$cancel" ] || make -C "$abs_top_builddir/tests" vol-upload-cancel > /dev/null
cp --sparse=always "$d/p1/sparse.img" "$d/before"
head -c 32M /dev/urandom > "$d/data3"
"$cancel" p1 sparse.img "$d/data3" || fail "the upload was not cancelled"
cmp "$d/p1/sparse.img" "$d/before" || fail "a cancelled upload changed the volume"
[ -z "$(ls -A "$d/p1" | grep '^\.gk-tmp')" ] || fail "a cancelled upload left a temporary file"
echo "ok: a cancelled upload changes nothing"

# Clones: same pool (sparse), another pool, linked (qcow2 overlay).
g vol-clone sparse.img copy.img --pool p1 > /dev/null
cmp "$d/p1/sparse.img" "$d/p1/copy.img" || fail "clone content"
[ "$(alloc "$d/p1/copy.img")" -le $((3<<20)) ] || fail "clone is not sparse"
g vol-clone sparse.img other.img --pool p1 --newpool p2 > /dev/null
cmp "$d/p1/sparse.img" "$d/p2/other.img" || fail "cross-pool clone"
g vol-clone disk.qcow2 linked.qcow2 --pool p1 --linked > /dev/null
g vol-info linked.qcow2 --pool p1 --json > "$d/info"
python3 - "$d/info" "$d/p1/disk.qcow2" <<'PY'
import json, sys
i = json.load(open(sys.argv[1]))
assert i["format"] == "qcow2" and i["backing"] == sys.argv[2] and i["backing_format"] == "qcow2", i
assert i["capacity"] == 1 << 30, i
PY
qemu-img info "$d/p1/linked.qcow2" | grep -q "backing file format: qcow2" || fail "backing format not recorded"
g vol-dumpxml linked.qcow2 --pool p1 | grep -q "<backingStore>" || fail "vol-dumpxml backingStore"
# --reflink: succeeds where the filesystem shares blocks, else fails clearly.
if g vol-clone sparse.img reflinked.img --pool p1 --reflink > /dev/null 2> "$d/err"; then
  cmp "$d/p1/sparse.img" "$d/p1/reflinked.img" || fail "reflink content"
  echo "ok: reflink clone"
else
  grep -q "a reflink copy is not possible" "$d/err" || fail "reflink message: $(cat "$d/err")"
  [ ! -e "$d/p1/reflinked.img" ] || fail "a failed reflink left a volume"
  echo "ok: reflink refused clearly on this filesystem: $(cat "$d/err")"
fi
echo "ok: clones (sparse, cross-pool, linked)"

# A filesystem that shares blocks (xfs with reflink on a loop device):
# the clone is a reflink, of qcow2 as well as raw.
if truncate -s 320M "$d/xfs.img" && mkfs.xfs -q -m reflink=1 "$d/xfs.img" &&
   mkdir -p "$d/xfs" && mount -o loop "$d/xfs.img" "$d/xfs" 2>/dev/null; then
  g pool-define-as rl dir --target "$d/xfs/pool" > /dev/null
  g pool-start rl --build > /dev/null
  g vol-create-as rl base.qcow2 1G --format qcow2 > /dev/null
  g vol-upload base.qcow2 "$d/p1/disk.qcow2" --pool rl
  g vol-clone base.qcow2 rl.qcow2 --pool rl --reflink > /dev/null || { umount "$d/xfs"; fail "reflink clone on xfs"; }
  cmp "$d/xfs/pool/base.qcow2" "$d/xfs/pool/rl.qcow2" || { umount "$d/xfs"; fail "reflink content"; }
  g pool-stop rl > /dev/null; g pool-undefine rl > /dev/null
  umount "$d/xfs"
  echo "ok: reflink clone of a qcow2 volume on xfs"
else
  echo "note: no loop xfs mount here: reflink success not tested"
fi

# Resize: grow; shrink only with --shrink; qcow2 through qemu-img.
g vol-resize copy.img 128M --pool p1 > /dev/null
[ "$(stat -c %s "$d/p1/copy.img")" = $((128<<20)) ] || fail "grow"
g vol-resize copy.img 16M --pool p1 2> "$d/err" > /dev/null && fail "shrunk without --shrink"
grep -q "without --shrink" "$d/err" || fail "shrink message"
g vol-resize copy.img 16M --pool p1 --shrink > /dev/null
[ "$(stat -c %s "$d/p1/copy.img")" = $((16<<20)) ] || fail "shrink"
g vol-resize disk.qcow2 1G --pool p1 --delta > /dev/null
[ "$(g vol-info disk.qcow2 --pool p1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["capacity"])')" = $((2<<30)) ] || fail "qcow2 resize --delta"
echo "ok: resize"

# Wipe: zeros, and the space is given back.
g vol-wipe sparse.img --pool p1 > /dev/null
cmp "$d/p1/sparse.img" <(head -c $((64<<20)) /dev/zero) || fail "wipe left data"
[ "$(alloc "$d/p1/sparse.img")" = 0 ] || fail "wipe kept blocks allocated"
echo "ok: wipe"

# Locking: 8 processes create volumes in one pool at once; two define the
# same pool at once, and exactly one wins.
for i in 1 2 3 4 5 6 7 8; do g vol-create-as p2 "par$i.img" 1M > /dev/null & done
wait
[ "$(g vol-list p2 --name-only | grep -c '^par')" = 8 ] || fail "parallel creates"
rc1=0; rc2=0
g pool-define-as race dir --target "$d/race" > /dev/null 2>&1 & p=$!
g pool-define-as race dir --target "$d/race" > /dev/null 2>&1 || rc2=$?
wait $p || rc1=$?
[ $((rc1 + rc2)) = 1 ] || fail "two concurrent defines: exit codes $rc1 and $rc2"
g pool-undefine race > /dev/null
echo "ok: concurrent processes"

# A failed operation leaves nothing behind: a clone into a full filesystem.
if mkdir -p "$d/small" && mount -t tmpfs -o size=4M tmpfs "$d/small" 2>/dev/null; then
  trap 'umount "$d/small" 2>/dev/null || true; rm -rf "$d"' EXIT
  g pool-define-as small dir --target "$d/small" > /dev/null
  g pool-start small > /dev/null
  before=$(ls -A "$d/small")
  head -c 8M /dev/urandom > "$d/random"
  g vol-create-as p2 random.img 8M > /dev/null
  g vol-upload random.img "$d/random" --pool p2
  g vol-clone random.img big.img --pool p2 --newpool small > /dev/null 2> "$d/err" && fail "cloned 8 MiB of data into 4 MiB"
  [ "$(ls -A "$d/small")" = "$before" ] || fail "a failed clone left files: $(ls -A "$d/small")"
  echo "ok: a failed clone leaves nothing: $(cat "$d/err")"
  g pool-stop small > /dev/null
  g pool-undefine small > /dev/null
  umount "$d/small"
else
  echo "note: cannot mount a tmpfs here; the full-filesystem case is covered by the unit tests"
fi

# Rename: in place (same inode), never over an existing volume, and a
# temporary name (as virt-clone stages its copies) renamed into place.
g vol-create-as p2 ren-a.img 1M > /dev/null
g vol-create-as p2 ren-b.img 1M > /dev/null
ino=$(stat -c %i "$d/p2/ren-a.img")
g vol-rename p2 ren-a.img ren-c.img > /dev/null
[ ! -e "$d/p2/ren-a.img" ] && [ "$(stat -c %i "$d/p2/ren-c.img")" = $ino ] || fail "vol-rename did not rename in place"
g vol-rename ren-c.img ren-b.img --pool p2 2> "$d/err" && fail "vol-rename replaced an existing volume"
[ "$(wc -l < "$d/err")" = 1 ] && grep -q "volume ‘ren-b.img’ already exists in pool ‘p2’" "$d/err" || fail "rename onto existing: $(cat "$d/err")"
[ "$(stat -c %i "$d/p2/ren-c.img")" = $ino ] || fail "a refused rename changed the volume"
g vol-rename p2 nosuch.img x.img 2> "$d/err" && fail "renamed a missing volume"
grep -q "no volume called ‘nosuch.img’ in pool ‘p2’" "$d/err" || fail "rename missing: $(cat "$d/err")"
g vol-rename p2 ren-c.img ../escape.img 2> "$d/err" && fail "renamed out of the pool"
grep -q "contains ‘/’\|contains ‘..’" "$d/err" || fail "rename bad name: $(cat "$d/err")"
g vol-clone ren-b.img .gk-tmp-ren-d.img --pool p2 > /dev/null
[ -z "$(g vol-list p2 --name-only | grep gk-tmp)" ] || fail "vol-list shows a temporary volume"
g vol-info .gk-tmp-ren-d.img --pool p2 > /dev/null || fail "vol-info on a temporary name"
g vol-rename p2 .gk-tmp-ren-d.img ren-d.img > /dev/null
g vol-list p2 --name-only | grep -qx ren-d.img || fail "the staged clone is not in place"
for v in ren-b.img ren-c.img ren-d.img; do g vol-delete $v --pool p2 > /dev/null; done
echo "ok: vol-rename (in place, refuses an existing or missing name, stages a temporary clone)"

# Leftovers of a killed copy (as after a SIGKILL: made by hand here, the
# same file a killed dir_vol_clone leaves): pool-refresh warns and still
# succeeds, vol-list hides them, pool-clean removes them.
head -c 1M /dev/urandom > "$d/p2/.gk-tmp-x"
head -c 1M /dev/urandom > "$d/p2/.gk-tmp-.gk-tmp-y.img"
g vol-create-as p2 keep.img 1M > /dev/null
g pool-refresh p2 > "$d/out" 2> "$d/err" || fail "pool-refresh failed with leftovers"
grep -q "^Pool p2 refreshed" "$d/out" || fail "pool-refresh output: $(cat "$d/out")"
[ "$(wc -l < "$d/err")" = 2 ] || fail "pool-refresh warnings: $(cat "$d/err")"
grep -qx "guestkit: warning: pool ‘p2’: leftover temporary volume ‘.gk-tmp-x’ from an interrupted copy; remove it with ‘guestkit pool-clean p2’" "$d/err" ||
  fail "pool-refresh warning: $(cat "$d/err")"
grep -q "‘.gk-tmp-.gk-tmp-y.img’" "$d/err" || fail "pool-refresh warning: $(cat "$d/err")"
g vol-list p2 --name-only > "$d/list"
grep -qx keep.img "$d/list" && ! grep -q gk-tmp "$d/list" || fail "vol-list shows leftovers: $(cat "$d/list")"
g pool-clean p2 > "$d/out"
grep -q "2 leftover volumes removed" "$d/out" || fail "pool-clean: $(cat "$d/out")"
[ -z "$(ls -A "$d/p2" | grep gk-tmp)" ] && [ -e "$d/p2/keep.img" ] || fail "pool-clean left: $(ls -A "$d/p2")"
g pool-refresh p2 > /dev/null 2> "$d/err"
[ ! -s "$d/err" ] || fail "pool-refresh warns after pool-clean: $(cat "$d/err")"
g pool-clean p2 | grep -q "0 leftover volumes removed" || fail "pool-clean of a clean pool"
g vol-delete keep.img --pool p2 > /dev/null
echo "ok: leftovers: pool-refresh warns (exit 0), vol-list hides them, pool-clean removes them"

# Teardown: delete volumes, stop, delete, undefine.
for v in $(g vol-list p2 --name-only); do g vol-delete "$v" --pool p2 > /dev/null; done
g pool-undefine p2 2> "$d/err" && fail "undefined an active pool"
g pool-stop p2 > /dev/null
g pool-delete p2 > /dev/null
[ ! -e "$d/p2" ] || fail "pool-delete left the directory"
g pool-undefine p2 > /dev/null
[ "$(g pool-list --all --name-only)" = p1 ] || fail "pool-list after undefine"
echo "ok: teardown"
