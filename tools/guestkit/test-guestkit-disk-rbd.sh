#!/bin/bash -
# Block-level access to rbd volumes (gk_disk_open_volume, through
# tests/disk-tool), against a one-node Ceph cluster started for the test
# (tests/ceph-cluster.sh).  The references are Ceph's own tools: `rbd
# diff` for the extents and the changes since a snapshot, `rbd export`
# for the bytes; an independent writer (librbd's Python binding) changes
# the image behind the open disk.  Covered: extents of a thin image with
# default features and of a guestkit-made one and of a linked clone
# (parent data), full reads, checkpoints (snapshots: create pins the
# reads, list, changed extents, delete, incremental backup applied to
# the older full one), writes and zeroing at unaligned offsets, and the
# one-line refusals.
set -e
. "$abs_top_builddir/tests/functions.sh"
# Not the ports of test-guestkit-rbd.sh: both may run at once.
export CEPH_TEST_MON_V1_PORT=${CEPH_TEST_MON_V1_PORT_DISK:-16889}
export CEPH_TEST_MON_V2_PORT=${CEPH_TEST_MON_V2_PORT_DISK:-13400}
. "$abs_top_srcdir/tests/ceph-cluster.sh"

py=/usr/bin/python3
tool="$abs_top_builddir/tests/disk-tool"
[ -x "$tool" ] || make -C "$abs_top_builddir/tests" disk-tool > /dev/null
[ -x "$abs_top_builddir/tests/.libs/disk-tool" ] || fail "tests/.libs/disk-tool was not built"

d="$(mktemp -d)"
cleanup_extra="$d"
export GUESTKIT_STATE_DIR="$(mktemp -d -p "$d")"
g () { ours guestkit "$@"; }
dt () { ours "$abs_top_builddir/tests/.libs/disk-tool" "$@"; }
sha () { sha256sum < "$1" | cut -d' ' -f1; }
# rbd export IMAGE[@SNAP] to a file, replacing it.
export_to () {
  rm -f "$2"
  rbd_cmd export --no-progress "gkpool/$1" "$2" || fail "rbd export $1"
}
# A refusal: exit status 1 and exactly one line on stderr matching $1.
refused () {
  local pattern="$1"; shift
  local rc=0
  dt "$@" > /dev/null 2> "$d/err" || rc=$?
  [ "$rc" = 1 ] || fail "disk-tool $*: exit status $rc, expected 1 ($(cat "$d/err"))"
  [ "$(wc -l < "$d/err")" = 1 ] || fail "disk-tool $*: not one line: $(cat "$d/err")"
  grep -qF -- "$pattern" "$d/err" || fail "disk-tool $*: message: $(cat "$d/err")"
  echo "ok: refused: $(cat "$d/err")"
}
# Write random bytes (w) or discard (x) at OFFSET:LENGTH..., with librbd
# from outside guestkit (tests/ceph-cluster.sh): pyrbd IMAGE w|x
# OFF:LEN...; for disk-tool's sh, "$ceph_pyrbd_cmd gkpool" is the same.
pyrbd () { ceph_pyrbd gkpool "$@"; }
# Compare our ranges with rbd diff's: same_ranges OURS RBD_JSON MODE SIZE.
# extents: ours are "OFF LEN TYPE" lines that must cover [0, SIZE) in
# order, their data ranges against rbd's exists=true ranges; changed:
# ours are "OFF LEN" against all of rbd's ranges (discarded ones too).
same_ranges () {
  "$py" - "$@" <<'PY' || fail "$1 differs from rbd diff ($2): $(cat "$1")"
import json, sys
ours, ref, mode, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def merge(rs):
    out = []
    for s, e in sorted(rs):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        elif e > s:
            out.append([s, e])
    return out
mine, pos = [], 0
for line in open(ours):
    f = line.split()
    off, n = int(f[0]), int(f[1])
    if mode == "extents":
        assert off == pos, "not contiguous at %d" % off
        assert f[2] in ("data", "hole"), f
        pos = off + n
        if f[2] != "data":
            continue
    mine.append((off, off + n))
if mode == "extents":
    assert pos == size, "covers %d of %d" % (pos, size)
theirs = [(x["offset"], x["offset"] + x["length"]) for x in json.load(open(ref))
          if mode == "changed" or x["exists"] == "true"]
if merge(mine) != merge(theirs):
    print("ours:  ", merge(mine), file=sys.stderr)
    print("theirs:", merge(theirs), file=sys.stderr)
    sys.exit(1)
PY
}

t0=$(date +%s)
start_ceph_cluster gkpool
ceph_pyrbd_setup
echo "ok: ceph cluster up in $(( $(date +%s) - t0 )) s"
g pool-define-as r rbd --source-host "$ceph_mon_host" --source-name gkpool \
  --auth-type ceph --auth-username admin \
  --secret-usage "file:$ceph_admin_keyring" > /dev/null
g pool-start r > /dev/null
size=$((64 << 20))
M=$((1 << 20))

# Two images: one made by guestkit (layering only), one by rbd with its
# default features (exclusive lock, object map, fast diff): data in
# partial objects, a whole object, across an object boundary, at the end.
g vol-create-as r a.img 64M > /dev/null
rbd_cmd create --size 64M gkpool/b.img || fail "rbd create b.img"
for v in a.img b.img; do
  pyrbd $v w 1000:5000 $((4*M)):$((4*M)) $((12*M-777)):9000 $((size-512)):512
  dt --vol r/$v size > "$d/size"
  [ "$(cat "$d/size")" = $size ] || fail "$v: size $(cat "$d/size")"
  dt --vol r/$v extents > "$d/ext"
  rbd_cmd diff gkpool/$v --format json > "$d/ref.json"
  same_ranges "$d/ext" "$d/ref.json" extents $size
  grep -q hole "$d/ext" || fail "$v: no holes: $(cat "$d/ext")"
  # A range inside: clipped exactly.
  dt --vol r/$v extents $((4*M-10)) $((20*M)) > "$d/ext2"
  [ "$(head -c 8 "$d/ext2")" = "$((4*M-10)) " ] || fail "$v: range start: $(cat "$d/ext2")"
  [ "$(tail -1 "$d/ext2" | awk '{print $1+$2}')" = $((24*M-10)) ] || fail "$v: range end: $(cat "$d/ext2")"
  dt --vol r/$v cat > "$d/cat"
  export_to $v "$d/export"
  [ "$(sha "$d/cat")" = "$(sha "$d/export")" ] || fail "$v: cat differs from rbd export"
  dt --vol r/$v cat | cmp - "$d/export" || fail "$v: cat to a pipe differs from rbd export"
  echo "ok: $v: extents as rbd diff ($(grep -c data "$d/ext") data extents), cat as rbd export"
done

# Checkpoints.  Create pins the open disk to the snapshot: what is written
# meanwhile is not read, the snapshot is.
dt --vol r/b.img snap-create s1 + snap-list > "$d/list"
[ "$(cat "$d/list")" = s1 ] || fail "snap-list: $(cat "$d/list")"
rbd_cmd snap ls gkpool/b.img | grep -qw s1 || fail "no rbd snapshot s1"
export_to b.img@s1 "$d/s1"
dt --vol r/b.img snap-create s2 \
  + sh "$ceph_pyrbd_cmd gkpool b.img w 0:4096 $((40*M)):100" \
  + cat > "$d/pinned"
export_to b.img@s2 "$d/s2"
export_to b.img "$d/head"
cmp -s "$d/s2" "$d/head" && fail "the writer did not change the image"
[ "$(sha "$d/pinned")" = "$(sha "$d/s2")" ] || fail "reads after checkpoint_create do not come from the snapshot"
echo "ok: reads after checkpoint_create come from the snapshot, not later writes"

# Changes since a snapshot: as rbd diff --from-snap, discarded ranges
# included (rbd reports them with exists=false).
pyrbd b.img x $((4*M)):$((4*M))
pyrbd b.img w $((30*M+3)):70000
dt --vol r/b.img changed s1 > "$d/changed"
rbd_cmd diff --from-snap s1 gkpool/b.img --format json > "$d/ref.json"
grep -q '"exists":"false"' "$d/ref.json" || fail "no discarded range in rbd diff: $(cat "$d/ref.json")"
same_ranges "$d/changed" "$d/ref.json" changed $size
# Pinned to s2, the changes since s1 are those up to s2.
dt --vol r/b.img snap-create s3 + changed s2 > "$d/changed"
rbd_cmd diff --from-snap s2 gkpool/b.img@s3 --format json > "$d/ref.json"
same_ranges "$d/changed" "$d/ref.json" changed $size
[ -s "$d/changed" ] || fail "nothing changed between s2 and s3"
echo "ok: changed extents as rbd diff --from-snap (discards included)"
# An incremental backup: the full copy at s1 plus what changed since s1,
# read from a new checkpoint s4, is the image at s4.
cp "$d/s1" "$d/incr"
dt --vol r/b.img snap-create s4 + cat --since s1 1<> "$d/incr"
export_to b.img@s4 "$d/s4"
cmp "$d/incr" "$d/s4" || fail "full at s1 + changes since s1 differs from s4"
echo "ok: incremental backup (full at s1 + changed since s1 = s4)"

dt --vol r/b.img snap-list > "$d/list"
[ "$(tr '\n' ' ' < "$d/list")" = "s1 s2 s3 s4 " ] || fail "snap-list: $(cat "$d/list")"
# Deleting the pinned snapshot unpins: reads come from the image again.
export_to b.img "$d/head"
dt --vol r/b.img snap-create s5 + snap-delete s5 + cat > "$d/unpinned"
cmp "$d/unpinned" "$d/head" || fail "after deleting the pinned checkpoint"
dt --vol r/b.img snap-delete s1 + snap-delete s3 + snap-list > "$d/list"
[ "$(tr '\n' ' ' < "$d/list")" = "s2 s4 " ] || fail "snap-list after delete: $(cat "$d/list")"
[ "$(rbd_cmd snap ls gkpool/b.img --format json | "$py" -c 'import json,sys; print(" ".join(s["name"] for s in json.load(sys.stdin)))')" = "s2 s4" ] ||
  fail "rbd snap ls after delete: $(rbd_cmd snap ls gkpool/b.img)"
# A protected snapshot is unprotected first.
rbd_cmd snap protect gkpool/b.img@s4
dt --vol r/b.img snap-delete s4
rbd_cmd snap ls gkpool/b.img | grep -qw s4 && fail "protected s4 was not deleted"
echo "ok: snap-list, snap-delete (pinned, protected)"

# Refusals: one line each.
refused "bad checkpoint name" --vol r/b.img snap-create 'a@b'
refused "bad checkpoint name" --vol r/b.img snap-create 'x/y'
refused "bad checkpoint name" --vol r/b.img snap-create ''
refused "bad checkpoint name" --vol r/b.img changed 'a@b'
refused "rbd pool ‘r’: volume ‘b.img’: checkpoint ‘s2’ already exists" --vol r/b.img snap-create s2
refused "rbd pool ‘r’: volume ‘b.img’: no checkpoint ‘nosuch’" --vol r/b.img snap-delete nosuch
refused "rbd pool ‘r’: volume ‘b.img’: no checkpoint ‘nosuch’" --vol r/b.img changed nosuch
# A snapshot made by someone else after the one the disk is pinned to.
refused "rbd pool ‘r’: volume ‘b.img’: checkpoint ‘s7’ is not older than ‘s6’, the one this disk reads" \
  --vol r/b.img snap-create s6 + sh "rbd -c $ceph_conf snap create gkpool/b.img@s7 > /dev/null 2>&1" \
  + changed s7
refused "no volume called ‘nosuch.img’ in pool ‘r’" --vol r/nosuch.img extents
refused "r/b.img: the disk is open read-only" --vol r/b.img write 0 < /dev/null
echo "ok: refusals"

# Writes and zeroing at unaligned offsets (a restore), checked against a
# local copy and rbd export.
export_to a.img "$d/ref"
head -c 3000 /dev/urandom > "$d/w1"
head -c $((5*M+3)) /dev/urandom > "$d/w2"
dt --rw --vol r/a.img write 4095 < "$d/w1"
dt --rw --vol r/a.img write $((8*M-1)) < "$d/w2"
dt --rw --vol r/a.img zero 1001 3000 + zero $((4*M)) $((4*M)) + zero $((9*M+5)) $((2*M)) + flush
dd if="$d/w1" of="$d/ref" bs=1 seek=4095 conv=notrunc status=none
dd if="$d/w2" of="$d/ref" bs=1M oflag=seek_bytes seek=$((8*M-1)) conv=notrunc status=none
dd if=/dev/zero of="$d/ref" bs=1 seek=1001 count=3000 conv=notrunc status=none
dd if=/dev/zero of="$d/ref" bs=1M seek=4 count=4 conv=notrunc status=none
dd if=/dev/zero of="$d/ref" bs=1M oflag=seek_bytes seek=$((9*M+5)) count=2 conv=notrunc status=none
export_to a.img "$d/export"
cmp "$d/export" "$d/ref" || fail "writes and zeroing: rbd export differs from the local copy"
dt --vol r/a.img read $((8*M-3)) 70000 > "$d/piece"
cmp "$d/piece" <(tail -c +$((8*M-2)) "$d/ref" | head -c 70000) || fail "an unaligned read"
# The zeroed whole object is a hole now.
dt --vol r/a.img extents $((4*M)) $((4*M)) > "$d/ext"
[ "$(cat "$d/ext")" = "$((4*M)) $((4*M)) hole" ] || fail "the zeroed object: $(cat "$d/ext")"
# Writable and pinned: writes go to the image, reads from the snapshot.
cp "$d/ref" "$d/ref-w"
dt --rw --vol r/a.img snap-create w1 + write 0 < "$d/w1" + read 0 3000 > "$d/piece"
cmp "$d/piece" <(head -c 3000 "$d/ref") || fail "a writable pinned disk read its own write"
dd if="$d/w1" of="$d/ref-w" conv=notrunc status=none
export_to a.img "$d/export"
cmp "$d/export" "$d/ref-w" || fail "a write to a pinned writable disk is not in the image"
dt --vol r/a.img snap-delete w1
echo "ok: writes and zeroing at unaligned offsets; pinned writable disk"

# A linked clone: its extents and bytes include the parent's.
g vol-clone a.img lnk.img --pool r --linked > /dev/null
pyrbd lnk.img w $((50*M)):1000
dt --vol r/lnk.img extents > "$d/ext"
rbd_cmd diff gkpool/lnk.img --format json > "$d/ref.json"
same_ranges "$d/ext" "$d/ref.json" extents $size
dt --vol r/lnk.img cat > "$d/cat"
export_to lnk.img "$d/export"
cmp "$d/cat" "$d/export" || fail "linked clone: cat differs from rbd export"
# The clone's parent snapshot is not ours to delete.
refused "has clones (gkpool/lnk.img)" --vol r/a.img snap-delete guestkit-clone-lnk.img
echo "ok: a linked clone reads through to its parent"

# (The cluster and everything in it goes away with the test.)
echo "ok: done in $(( $(date +%s) - t0 )) s"
