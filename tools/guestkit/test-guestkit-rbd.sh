#!/bin/bash -
# The rbd backend through the guestkit command, against a one-node Ceph
# cluster started for the test (tests/ceph-cluster.sh): pools from
# options and from XML, sparse upload/download, layered (linked) and full
# clones, clones from a dir pool and across RADOS pools, rename and
# leftover temporary volumes, refusals (an
# image with clones, qcow2, a wrong key, an unreachable monitor), and the
# key never on a command line.
set -e
. "$abs_top_builddir/tests/functions.sh"
. "$abs_top_srcdir/tests/ceph-cluster.sh"
d="$(mktemp -d)"
cleanup_extra="$d"
export GUESTKIT_STATE_DIR="$(mktemp -d -p "$d")"
g () { ours guestkit "$@"; }
alloc () { echo $(( $(stat -c %b "$1") * 512 )); }
info () { g vol-info "$1" --pool "$2" --json | python3 -c "import json,sys; print(json.load(sys.stdin)[\"$3\"])"; }
# A refusal: exit status 1 and exactly one line on stderr matching $1.
refused () {
  local pattern="$1"; shift
  local rc=0
  g "$@" > /dev/null 2> "$d/err" || rc=$?
  [ "$rc" = 1 ] || fail "$*: exit status $rc, expected 1 ($(cat "$d/err"))"
  [ "$(wc -l < "$d/err")" = 1 ] || fail "$*: not one line: $(cat "$d/err")"
  grep -q -- "$pattern" "$d/err" || fail "$*: message: $(cat "$d/err")"
  echo "ok: refused: $(cat "$d/err")"
}

t0=$(date +%s)
start_ceph_cluster gkpool
ceph_cmd osd pool create gkpool2 8 8 > /dev/null 2>&1 || fail "pool create gkpool2"
rbd_cmd pool init gkpool2 || fail "rbd pool init gkpool2"
key="$(sed -n 's/^[[:space:]]*key = //p' "$ceph_admin_keyring")"
[ -n "$key" ] || fail "no key in $ceph_admin_keyring"
echo "ok: ceph cluster up in $(( $(date +%s) - t0 )) s"

# A pool from options (keyring file) and one from XML (key in the environment).
g pool-define-as r rbd --source-host "$ceph_mon_host" --source-name gkpool \
  --auth-type ceph --auth-username admin \
  --secret-usage "file:$ceph_admin_keyring" > /dev/null
export GK_TEST_CEPH_KEY="$key"
cat > "$d/pool.xml" <<XML
<pool type='rbd'>
  <name>r2</name>
  <source>
    <host name='127.0.0.1' port='$ceph_mon_v1_port'/>
    <name>gkpool2</name>
    <auth type='ceph' username='admin'>
      <secret usage='env:GK_TEST_CEPH_KEY'/>
    </auth>
  </source>
</pool>
XML
g pool-define "$d/pool.xml" > /dev/null
g pool-start r > /dev/null
g pool-start r2 > /dev/null
g pool-info r --json | python3 -c 'import json,sys; i=json.load(sys.stdin); assert i["state"]=="running" and i["type"]=="rbd", i'
g pool-dumpxml r2 | grep -q '<secret usage="env:GK_TEST_CEPH_KEY"/>' || fail "pool-dumpxml r2"
! grep -rqF -- "$key" "$GUESTKIT_STATE_DIR" || fail "the key was stored in the state directory"
echo "ok: pools defined (options, XML) and started"

g vol-create-as r a.img 64M > /dev/null
[ "$(g vol-list r --name-only)" = a.img ] || fail "vol-list: $(g vol-list r --name-only)"
[ "$(info a.img r capacity)" = $((64<<20)) ] || fail "capacity"
[ "$(info a.img r format)" = raw ] || fail "format"
[ "$(info a.img r allocation)" = 0 ] || fail "a new image is not thin"
[ "$(info a.img r path)" = "rbd://$ceph_mon_host/gkpool/a.img" ] || fail "path: $(info a.img r path)"
refused "format ‘qcow2’ is not supported (rbd images are raw)" \
  vol-create-as r q.qcow2 64M --format qcow2
echo "ok: volumes created"
# The live pool's XML and a volume's as libvirt's schemas want them.
if command -v virt-xml-validate > /dev/null; then
  g pool-dumpxml r > "$d/live-pool.xml"
  g vol-dumpxml a.img --pool r > "$d/vol.xml"
  virt-xml-validate "$d/live-pool.xml" storagepool > /dev/null || fail "pool-dumpxml: $(cat "$d/live-pool.xml")"
  virt-xml-validate "$d/vol.xml" storagevol > /dev/null || fail "vol-dumpxml: $(cat "$d/vol.xml")"
  echo "ok: pool-dumpxml and vol-dumpxml validate against libvirt's schemas"
fi

# 1 MiB of data, a 30 MiB hole, 1 MiB of data.
head -c 1M /dev/urandom > "$d/data"
truncate -s 32M "$d/data"
head -c 1M /dev/urandom | dd of="$d/data" bs=1M seek=31 conv=notrunc status=none
# While an upload and a download run, no process has the key in its argv.
( g vol-upload a.img "$d/data" --pool r && g vol-download a.img "$d/back" --pool r ) &
xfer=$!
while kill -0 "$xfer" 2>/dev/null; do
  ! grep -qaF -- "$key" /proc/[0-9]*/cmdline 2>/dev/null || fail "the key is in a command line"
  sleep 0.05
done
wait "$xfer" || fail "upload/download"
[ "$(stat -c %s "$d/back")" = $((64<<20)) ] || fail "download size"
cmp <(head -c 32M "$d/back") "$d/data" || fail "round trip content"
cmp -n $((32<<20)) <(tail -c +$(( (32<<20) + 1 )) "$d/back") /dev/zero || fail "tail not zero"
[ "$(alloc "$d/back")" -le $((3<<20)) ] || fail "download is not sparse: $(alloc "$d/back")"
echo "ok: upload and download round trip, sparse ($(alloc "$d/back") bytes allocated)"
head -c 65M /dev/zero > "$d/big"
refused "is larger than the volume" vol-upload a.img "$d/big" --pool r

# Linked clone: layered, O(1), the parent as backing store.
g vol-clone a.img lnk.img --pool r --linked > /dev/null
[ "$(info lnk.img r backing)" = "gkpool/a.img@guestkit-clone-lnk.img" ] ||
  fail "linked clone backing: $(info lnk.img r backing)"
[ "$(info lnk.img r allocation)" = 0 ] || fail "the linked clone copied data"
g vol-download lnk.img "$d/lnk" --pool r
cmp "$d/lnk" "$d/back" || fail "linked clone content"
# Full clone: flattened, independent.
g vol-clone a.img full.img --pool r > /dev/null
[ "$(info full.img r backing)" = None ] || fail "full clone has a parent"
g vol-download full.img "$d/full" --pool r
cmp "$d/full" "$d/back" || fail "full clone content"
# Across RADOS pools: a sparse copy.
g vol-clone a.img other.img --pool r --newpool r2 > /dev/null
g vol-download other.img "$d/other" --pool r2
cmp "$d/other" "$d/back" || fail "cross-pool clone content"
refused "needs the source in the same RADOS pool" \
  vol-clone a.img other2.img --pool r --newpool r2 --linked
# From a dir pool: a sparse copy of the local file.
g pool-define-as dp dir --target "$d/dp" > /dev/null
g pool-start dp --build > /dev/null
g vol-create-as dp local.img 16M > /dev/null
head -c 16M "$d/data" > "$d/d16"
g vol-upload local.img "$d/d16" --pool dp
g vol-clone local.img fromdir.img --pool dp --newpool r > /dev/null
[ "$(info fromdir.img r capacity)" = $((16<<20)) ] || fail "clone from dir: capacity"
g vol-download fromdir.img "$d/fromdir" --pool r
cmp "$d/fromdir" "$d/dp/local.img" || fail "clone from dir content"
g vol-create-as dp q.qcow2 16M --format qcow2 > /dev/null
refused "only a raw volume can be copied into an rbd pool" \
  vol-clone q.qcow2 q.img --pool dp --newpool r
g vol-delete q.qcow2 --pool dp > /dev/null
# And back: an image cloned into the dir pool (librbd streams it), sparse.
g vol-clone a.img todir.img --pool r --newpool dp > /dev/null
cmp "$d/dp/todir.img" "$d/back" || fail "rbd to dir clone content"
[ "$(alloc "$d/dp/todir.img")" -le $((3<<20)) ] || fail "rbd to dir clone is not sparse"
g vol-delete todir.img --pool dp > /dev/null
echo "ok: clones (linked, full, across pools, from a dir pool)"

# Upload over old data: holes and zero blocks become zeros; the linked
# clone keeps the snapshot's content.
truncate -s 16M "$d/data2"
head -c 1M /dev/urandom | dd of="$d/data2" bs=1M seek=8 conv=notrunc status=none
# (A stale clone snapshot, as a killed run would leave: taken now, before
# the upload, it holds the old data.)
rbd_cmd snap create gkpool/a.img@guestkit-clone-stale.img > /dev/null 2>&1
g vol-upload a.img "$d/data2" --pool r
g vol-download a.img "$d/back2" --pool r
cmp -n $((16<<20)) "$d/back2" "$d/data2" || fail "second upload content"
cmp -n $((48<<20)) <(tail -c +$(( (16<<20) + 1 )) "$d/back2") /dev/zero || fail "second upload left old data"
g vol-download lnk.img "$d/lnk2" --pool r
cmp "$d/lnk2" "$d/back" || fail "the linked clone changed with its parent"
echo "ok: upload over old data"
g vol-clone a.img stale.img --pool r --linked > /dev/null
g vol-download stale.img "$d/stale" --pool r
cmp "$d/stale" "$d/back2" || fail "a linked clone used a stale snapshot"
g vol-delete stale.img --pool r > /dev/null
echo "ok: a stale clone snapshot is taken again"

# An upload cancelled half-way leaves the image as it was (rolled back to
# the snapshot taken before it), and leaves no snapshot behind.
cancel="$abs_top_builddir/tests/vol-upload-cancel"
[ -x "$cancel" ] || make -C "$abs_top_builddir/tests" vol-upload-cancel > /dev/null
head -c 32M /dev/urandom > "$d/data3"
"$cancel" r a.img "$d/data3" || fail "the upload was not cancelled"
g vol-download a.img "$d/back3" --pool r
cmp "$d/back3" "$d/back2" || fail "a cancelled upload changed the image"
[ -z "$(rbd_cmd snap ls gkpool/a.img | grep guestkit-upload)" ] ||
  fail "a cancelled upload left its snapshot"
# Into a new, empty image (no snapshot then): discarded again.
g vol-create-as r empty.img 64M > /dev/null
"$cancel" r empty.img "$d/data3" || fail "the upload into an empty image was not cancelled"
[ "$(info empty.img r allocation)" = 0 ] || fail "a cancelled upload left data: $(info empty.img r allocation)"
g vol-download empty.img "$d/empty" --pool r
cmp -n $((64<<20)) "$d/empty" /dev/zero || fail "a cancelled upload into an empty image left data"
g vol-delete empty.img --pool r > /dev/null
echo "ok: a cancelled upload is rolled back"
# A linked clone has no data of its own but reads its parent's: an
# upload must still replace all of it (holes and tail read as zeros).
g vol-clone a.img lnk2.img --pool r --linked > /dev/null
g vol-upload lnk2.img "$d/data2" --pool r
g vol-download lnk2.img "$d/lnk2" --pool r
cmp -n $((16<<20)) "$d/lnk2" "$d/data2" || fail "upload into a linked clone: content"
cmp -n $((48<<20)) <(tail -c +$(( (16<<20) + 1 )) "$d/lnk2") /dev/zero ||
  fail "upload into a linked clone left the parent's data"
g vol-delete lnk2.img --pool r > /dev/null
echo "ok: an upload into a linked clone replaces the parent's data"

# An image with a clone cannot be deleted; once the clone is gone it can.
refused "has 1 clone(s) (gkpool/lnk.img)" vol-delete a.img --pool r
g vol-info a.img --pool r > /dev/null || fail "the refused delete removed the image"

# Resize: grow; shrink only with --shrink.
g vol-resize full.img 128M --pool r > /dev/null
[ "$(info full.img r capacity)" = $((128<<20)) ] || fail "grow"
g vol-resize full.img 32M --pool r > /dev/null 2>&1 && fail "shrunk without --shrink"
g vol-resize full.img 32M --pool r --shrink > /dev/null
[ "$(info full.img r capacity)" = $((32<<20)) ] || fail "shrink"
echo "ok: resize"

# Rename, and clones staged under temporary names (as virt-clone does):
# hidden from vol-list, found by vol-info, renamed into place.  A linked
# clone keeps its parent snapshot through the rename, and deleting it
# still drops that snapshot.
g vol-download a.img "$d/anow" --pool r
g vol-clone a.img .gk-tmp-staged.img --pool r > /dev/null
g vol-clone a.img .gk-tmp-lstaged.img --pool r --linked > /dev/null
g vol-list r --name-only | grep -q gk-tmp && fail "vol-list shows temporary volumes"
[ "$(info .gk-tmp-staged.img r capacity)" = "$(info a.img r capacity)" ] || fail "vol-info of a temporary volume"
g vol-rename r .gk-tmp-staged.img staged.img > /dev/null
g vol-rename .gk-tmp-lstaged.img lstaged.img --pool r > /dev/null
g vol-download staged.img "$d/staged" --pool r
cmp "$d/staged" "$d/anow" || fail "renamed full clone content"
g vol-download lstaged.img "$d/lstaged" --pool r
cmp "$d/lstaged" "$d/anow" || fail "renamed linked clone content"
refused "volume ‘staged.img’ already exists in pool ‘r’" vol-rename r lstaged.img staged.img
refused "no volume called ‘nosuch.img’ in pool ‘r’" vol-rename r nosuch.img x.img
g vol-delete lstaged.img --pool r > /dev/null
rbd_cmd snap ls gkpool/a.img | grep -q "lstaged" && fail "the renamed linked clone's snapshot was left"
g vol-delete staged.img --pool r > /dev/null
echo "ok: vol-rename (full and linked clones staged under temporary names)"
# Leftovers of a killed copy (an image made by hand, as one would be
# left): pool-refresh warns and succeeds, pool-clean removes it.
rbd_cmd create --size 1M gkpool/.gk-tmp-killed.img || fail "rbd create"
g pool-refresh r > /dev/null 2> "$d/err" || fail "pool-refresh with a leftover: $(cat "$d/err")"
[ "$(wc -l < "$d/err")" = 1 ] && grep -q "guestkit: warning: pool ‘r’: leftover temporary volume ‘.gk-tmp-killed.img’ from an interrupted copy; remove it with ‘guestkit pool-clean r’" "$d/err" ||
  fail "pool-refresh warning: $(cat "$d/err")"
g vol-list r --name-only | grep -q gk-tmp && fail "vol-list shows a leftover"
g pool-clean r | grep -q "1 leftover volume removed" || fail "pool-clean"
rbd_cmd ls gkpool | grep -q gk-tmp && fail "pool-clean left: $(rbd_cmd ls gkpool)"
echo "ok: leftovers: pool-refresh warns, pool-clean removes them"

# Wipe: reads back as zeros and frees the objects.
g vol-wipe full.img --pool r > /dev/null
g vol-download full.img "$d/wiped" --pool r
cmp -n $((32<<20)) "$d/wiped" /dev/zero || fail "wipe left data"
[ "$(alloc "$d/wiped")" = 0 ] || fail "wiped download not sparse"
[ "$(info full.img r allocation)" = 0 ] || fail "wipe kept objects"
# Wiping a linked clone hides its parent's data too.
g vol-clone a.img lnk2.img --pool r --linked > /dev/null
g vol-wipe lnk2.img --pool r > /dev/null
g vol-download lnk2.img "$d/wiped2" --pool r
cmp -n $((64<<20)) "$d/wiped2" /dev/zero || fail "wiping a linked clone left the parent's data"
g vol-delete lnk2.img --pool r > /dev/null
echo "ok: wipe"

# A wrong key: one clear line, exit 1.
export GK_TEST_BAD_KEY="$(ceph-authtool --gen-print-key)"
g pool-define-as bad rbd --source-host "$ceph_mon_host" --source-name gkpool \
  --auth-type ceph --auth-username admin --secret-usage env:GK_TEST_BAD_KEY > /dev/null
refused "cannot connect to the Ceph monitors at $ceph_mon_host as client.admin: Permission denied (wrong key or user?)" \
  pool-start bad
g pool-undefine bad > /dev/null
# An unreachable monitor (a closed port): fails in bounded time.
g pool-define-as gone rbd --source-host 127.0.0.1:1 --source-name gkpool \
  --auth-type ceph --auth-username admin \
  --secret-usage "file:$ceph_admin_keyring" > /dev/null
t0=$(date +%s)
refused "cannot connect to the Ceph monitors at 127.0.0.1:1" pool-start gone
t=$(( $(date +%s) - t0 ))
[ $t -le 20 ] || fail "an unreachable monitor took $t s"
echo "ok: the unreachable monitor failed after $t s"
g pool-undefine gone > /dev/null
echo "ok: wrong key and unreachable monitor fail clearly"

# Teardown.
g vol-delete lnk.img --pool r > /dev/null
[ -z "$(rbd_cmd snap ls gkpool/a.img)" ] || fail "the last clone's snapshot was left"
for v in $(g vol-list r --name-only); do g vol-delete "$v" --pool r > /dev/null; done
for v in $(g vol-list r2 --name-only); do g vol-delete "$v" --pool r2 > /dev/null; done
[ -z "$(g vol-list r --name-only)" ] || fail "volumes left"
[ -z "$(rbd_cmd ls gkpool)" ] || fail "images left in gkpool: $(rbd_cmd ls gkpool)"
g pool-stop r > /dev/null; g pool-undefine r > /dev/null
g pool-stop r2 > /dev/null; g pool-undefine r2 > /dev/null
g vol-delete local.img --pool dp > /dev/null
g pool-stop dp > /dev/null; g pool-undefine dp > /dev/null
[ -z "$(g pool-list --all --name-only)" ] || fail "pools left"
echo "ok: everything deleted"
