#!/bin/bash -
# The native qcow2 writer (lib/qcow2-writer.c) against qemu: every image
# made here with qcow2-writer-test must pass "qemu-img check" (no errors,
# no leaks), read as the raw file made with qemu-io from the same
# operations ("qemu-img compare"), and read the same through the native
# reader (native-cat, and native-extents's map against "qemu-img map").
# The images have extended L2 entries: 2 MiB clusters of 64 KiB
# subclusters, the writer's granule.  Overlays over qcow2 (64 KiB
# clusters) and raw backing files, overwrites, zeroed data subclusters,
# a last partial subcluster, refused requests, failed writes, and an
# 8 GiB image whose metadata takes a few KiB.
set -euo pipefail
. "$abs_top_builddir/tests/functions.sh"

for p in qemu-img qemu-io jq; do
  command -v $p >/dev/null || skip "$p is not installed"
done

writer="$abs_top_builddir/tests/qcow2-writer-test"
extents="$abs_top_builddir/tests/native-extents"
cat="$abs_top_builddir/tests/native-cat"
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
cd "$d"

K=1024
M=$((1024 * K))
C=$((64 * K))                   # a subcluster
CL=$((2 * M))                   # a cluster

# Merged "OFFSET LENGTH data|zero|hole" maps, as test-native-extents.sh.
merge () {
  awk '{ if (n && $3 == t && $1 == s + l) l += $2;
         else { if (n) print s, l, t; s = $1; l = $2; t = $3; n = 1 } }
       END { if (n) print s, l, t }'
}
qemu_map () {
  qemu-img map --output=json "$@" |
    jq -r '.[] | "\(.start) \(.length) \(if .data then "data"
                  elif .present then "zero" else "hole" end)"' | merge
}

# expect RAW OP...: apply the writer's operations to a raw file with
# qemu-io (the expected content).
expect () {
  local raw="$1" args=()
  shift
  while [ $# -gt 0 ]; do
    case "$1" in
      write) args+=(-c "write -P $4 $2 $3"); shift 4 ;;
      zero) args+=(-c "write -z $2 $3"); shift 3 ;;
      read|refuse) shift 4 ;;
      read-eio) shift 3 ;;
      flush) shift ;;
      *) fail "expect: $1?" ;;
    esac
  done
  [ ${#args[@]} -eq 0 ] || qemu-io -f raw "${args[@]}" "$raw" >/dev/null
}

n=0
# verify NAME IMAGE RAW: the image is sound and reads as RAW.
verify () {
  local name="$1" img="$2" raw="$3" out
  out="$(qemu-img check "$img" 2>&1)" ||
    { echo "$out" >&2; fail "$name: qemu-img check"; }
  case "$out" in
    *"No errors were found"*) ;;
    *) echo "$out" >&2; fail "$name: qemu-img check found something" ;;
  esac
  ! grep -qi leak <<<"$out" || { echo "$out" >&2; fail "$name: leaks"; }
  qemu-img compare -q -f raw "$raw" "$img" ||
    fail "$name: $img differs from $raw"
  # The native reader: the same bytes, and qemu's map.
  timeout 120 "$cat" "$img" | cmp -s - "$raw" ||
    fail "$name: native-cat differs from $raw"
  timeout 120 "$extents" --verify "$img" > "$name.ours" ||
    fail "$name: native-extents --verify"
  qemu_map "$img" > "$name.qemu"
  same "$name.qemu" "$name.ours" "$name: map"
  n=$((n + 1))
}

# case NAME SIZE [BACKING] -- OP...: write an image and its expected raw
# file (a copy of the backing file's content, or zeros), then verify.
case_ () {
  local name="$1" size="$2" back=()
  shift 2
  while [ "$1" != -- ]; do back+=("$1"); shift; done
  shift
  if [ ${#back[@]} -gt 0 ]; then
    qemu-img convert -O raw "${back[1]}" "$name.raw"
    truncate -s "$size" "$name.raw"
  else
    truncate -s "$size" "$name.raw"
  fi
  "$writer" "${back[@]}" "$name.qcow2" "$size" "$@" > "$name.out"
  expect "$name.raw" "$@"
  verify "$name" "$name.qcow2" "$name.raw"
}

# --- a plain image, not a multiple of 64 KiB (3 clusters, the last
# partial): subclusters out of order, a run of subclusters, one across
# two clusters, an overwrite, written subclusters zeroed (all of cluster
# 1's), then written again in place, the last partial subcluster,
# read-backs before close, refused requests (nothing changes).
S=$((5 * M + 3 * 512))
case_ plain $S -- \
  write $((10 * C)) $((4 * C)) 17 \
  write 0 $C 1 \
  write $((70 * C)) $C 2 \
  write $((11 * C)) $C 3 \
  zero $((12 * C)) $C \
  write $((40 * C)) $C 4 \
  zero $((40 * C)) $((2 * C)) \
  write $((30 * C)) $((4 * C)) 5 \
  write $((80 * C)) $((S - 80 * C)) 6 \
  read $((80 * C)) $((S - 80 * C)) 6 \
  read $((11 * C)) $C 3 \
  read $((12 * C)) $C 0 \
  read $((50 * C)) 100 0 \
  refuse write 100 $C \
  refuse write 0 $((C + 512)) \
  refuse zero $((3 * C)) 4096 \
  refuse zero 512 $((S - 512)) \
  flush \
  write $((70 * C)) $C 7 \
  zero $((13 * C)) $C
[ "$(grep -c '^refused: .*is not whole 64 KiB subclusters$' plain.out)" = 4 ] ||
  { cat plain.out >&2; fail "plain: the refusals"; }
# The zeroed subclusters are deallocated (no backing file): 8 data
# subclusters and the last, partial one.  The file has a host cluster
# for each of the 3 guest clusters (cluster 1's kept, with no allocated
# subcluster), a header and 4 tables of one cluster each; only what was
# written takes space.
qemu-img map --output=json plain.qcow2 > plain.map
[ "$(jq '[.[] | select(.data) | .length] | add' plain.map)" = \
  $((8 * C + S - 80 * C)) ] || { cat plain.map >&2; fail "plain: data"; }
[ "$(stat -c %s plain.qcow2)" = $((8 * CL)) ] || fail "plain: file size"
[ "$(du -k plain.qcow2 | cut -f1)" -le $((9 * 64 + 6 * 4)) ] ||
  { du -k plain.qcow2; fail "plain: not sparse"; }
qemu-img info --output=json plain.qcow2 > plain.info
[ "$(jq '."virtual-size"' plain.info)" = $S ] &&
  [ "$(jq '."cluster-size"' plain.info)" = $CL ] &&
  [ "$(jq '."format-specific".data."extended-l2"' plain.info)" = true ] ||
  { cat plain.info >&2; fail "plain: qemu-img info"; }
qemu-img info plain.qcow2 | grep -qx '    extended l2: true' ||
  fail "plain: qemu-img info: no extended l2"
echo "ok: plain"

# A size that is not a multiple of 512: the header says it rounded up
# (as qemu-img create does); the last write still ends at our size.
S2=$((3 * C + 1000))
"$writer" odd.qcow2 $S2 write 0 $C 9 write $((3 * C)) 1000 8
truncate -s $(( (S2 + 511) / 512 * 512 )) odd.raw
expect odd.raw write 0 $C 9 write $((3 * C)) 1000 8
verify odd odd.qcow2 odd.raw
# An empty disk.
"$writer" empty.qcow2 0
qemu-img check -q empty.qcow2 || fail "empty: qemu-img check"
echo "ok: odd sizes"

# A 5 TiB disk: 20 L2 tables of 256 GiB (3 used, one only in its last
# entry), written sparsely.  (Its map is checked, not its 5 TiB of
# zeros.)
T=$((5 * 1024 * 1024 * M))
"$writer" huge.qcow2 $T write 0 $C 1 write $((4 * 1024 * 1024 * M)) $C 2 \
  write $((T - C)) $C 3
truncate -s $T huge.raw
expect huge.raw write 0 $C 1 write $((4 * 1024 * 1024 * M)) $C 2 \
  write $((T - C)) $C 3
qemu-img check -q huge.qcow2 || fail "huge: qemu-img check"
qemu-img compare -q -f raw huge.raw huge.qcow2 || fail "huge: content"
timeout 120 "$extents" huge.qcow2 > huge.ours
qemu_map huge.qcow2 > huge.qemu
same huge.qemu huge.ours "huge: map"
# 3 data subclusters; 4 KiB each for the header, 3 L2 tables, the L1
# table, a refcount block and the table (and some for the filesystem's
# extent tree: ext4 counts it).
[ "$(du -k huge.qcow2 | cut -f1)" -le $((3 * 64 + 10 * 4)) ] ||
  { du -k huge.qcow2; fail "huge: metadata is not sparse"; }
rm huge.raw
echo "ok: huge"

# --- overlays, as backups make them: the backing file named relative to
# the overlay's directory.  Every cluster of the base (64 KiB clusters)
# has data; zero subclusters must hide it, unwritten ones show it (in
# clusters with a host cluster or without); a zeroed subcluster of a
# cluster without a host cluster is written later.
mkdir base inc
S=$((2 * M + 512))
qemu-img create -q -f qcow2 base/base.qcow2 $S
qemu-io -f qcow2 -c "write -P 0xaa 0 $S" base/base.qcow2 >/dev/null
qemu-img convert -O raw base/base.qcow2 base/base.raw
for fmt in qcow2 raw; do
  cd inc
  case_ over-$fmt $S --backing ../base/base.$fmt --backing-format $fmt -- \
    zero 0 $C \
    write $C $((2 * C)) 1 \
    zero $((2 * C)) $C \
    write $((5 * C)) $C 2 \
    write $((5 * C)) $C 3 \
    zero $((8 * C)) $((4 * C)) \
    write $((32 * C)) $((S - 32 * C)) 4 \
    zero $((16 * C)) $((2 * C)) \
    write $((17 * C)) $C 6 \
    read $((2 * C)) $C 0 \
    read $((16 * C)) $C 0 \
    read $((17 * C)) $C 6 \
    read $((5 * C)) $C 3 \
    read-eio $((20 * C)) 10 \
    read-eio $((4 * C)) $((2 * C))
  qemu-img info --output=json over-$fmt.qcow2 > info
  [ "$(jq -r '."backing-filename"' info)" = ../base/base.$fmt ] &&
    [ "$(jq -r '."backing-filename-format"' info)" = $fmt ] ||
    { cat info >&2; fail "over-$fmt: backing file"; }
  cd ..
done
# Zero subclusters are recorded (present, zero), unwritten ones are not.
grep -qx "0 $C zero" inc/over-qcow2.ours &&
  grep -qx "$((8 * C)) $((4 * C)) zero" inc/over-qcow2.ours &&
  grep -qx "$((2 * C)) $C zero" inc/over-qcow2.ours &&
  grep -qx "$((16 * C)) $C zero" inc/over-qcow2.ours ||
  { cat inc/over-qcow2.ours >&2; fail "over-qcow2: map"; }
echo "ok: overlays"

# --- copies of raw files: runs of data subclusters, zero ones, holes,
# a last partial subcluster; as a full image and as an overlay of another
# content (where zeros and holes must hide the backing file).
S=$((9 * M + 4096))
truncate -s $S src.raw
head -c $((3 * C + 100)) /dev/urandom | dd of=src.raw bs=4k seek=7 conv=notrunc status=none
dd if=/dev/zero of=src.raw bs=64k seek=20 count=3 conv=notrunc status=none
head -c 5000 /dev/urandom | dd of=src.raw bs=64k seek=22 conv=notrunc status=none
head -c $((C + 7)) /dev/urandom | dd of=src.raw bs=1 seek=$((S - C - 7)) conv=notrunc status=none
"$writer" --copy src.raw full.qcow2
verify copy-full full.qcow2 src.raw
truncate -s $S other.raw
qemu-io -f raw -c "write -P 0x55 0 $S" other.raw >/dev/null
"$writer" --backing other.raw --backing-format raw --copy src.raw inc.qcow2
verify copy-overlay inc.qcow2 src.raw
echo "ok: copies"

# --- refused and failed requests: one line of error, no image left.
if "$writer" bad.qcow2 $M write $((C / 2)) $C 1 2> bad.err; then
  fail "an unaligned write was accepted"
fi
[ "$(wc -l < bad.err)" = 1 ] && grep -q 'is not whole 64 KiB subclusters' bad.err ||
  { cat bad.err >&2; fail "unaligned write: the error"; }
[ ! -e bad.qcow2 ] || fail "unaligned write: the image was left"
touch exists.qcow2
if "$writer" exists.qcow2 $M 2> exists.err; then
  fail "an existing file was overwritten"
fi
grep -q 'File exists' exists.err || { cat exists.err >&2; fail "O_EXCL"; }
# A file size limit (SIGXFSZ ignored: writes fail with EFBIG) that stops
# the data, then one that lets the data through (at 2 MiB, after the
# header's cluster) and stops the tables (at 4 MiB): close must fail.
for lim in "512 $((512 * K))" "3072 $C"; do
  set -- $lim
  if (trap '' XFSZ; ulimit -f $1; "$writer" fsize.qcow2 $M write 0 $2 1) 2> fsize.err; then
    fail "writing past the file size limit ($lim KiB) succeeded"
  fi
  [ "$(wc -l < fsize.err)" = 1 ] && grep -q 'too large' fsize.err ||
    { cat fsize.err >&2; fail "file size limit $1 KiB: the error"; }
  [ ! -e fsize.qcow2 ] || fail "file size limit $1 KiB: the image was left"
done
echo "ok: errors"

# --- under valgrind once (the plain case's operations, and a copy).
"$run" --valgrind "$writer" vg.qcow2 $((M + 512)) write 0 $((2 * C)) 1 \
  zero 0 $C write $((3 * C)) $C 2 write $((16 * C)) 512 3 read 0 $C 0 flush > /dev/null ||
  fail "valgrind"
"$run" --valgrind "$writer" --backing full.qcow2 --backing-format qcow2 \
  --copy src.raw vg2.qcow2 || fail "valgrind (copy)"
qemu-img check -q vg.qcow2 && qemu-img check -q vg2.qcow2 || fail "valgrind images"
echo "ok: valgrind"

# --- 8 GiB, 1 GiB of data in 4 pieces (one not on a cluster boundary):
# the same data as qemu-img convert's image, in less space: one L2 entry
# per 2 MiB, metadata written in 4 KiB blocks; a few tens of KiB at
# most.  du counts what the filesystem allocated.
G=$((1024 * M))
truncate -s $((8 * G)) big.raw
qemu-io -f raw -c "write -P 1 $((100 * M)) $((256 * M))" \
  -c "write -P 2 $((1500 * M)) $((256 * M))" \
  -c "write -P 3 $((3 * G + C)) $((256 * M))" \
  -c "write -P 4 $((7 * G)) $((256 * M))" big.raw >/dev/null
"$writer" --copy big.raw big.qcow2
qemu-img convert -O qcow2 big.raw big-qemu.qcow2
qemu-img check -q big.qcow2 || fail "big: qemu-img check"
qemu-img compare -q -f raw -F qcow2 big.raw big.qcow2 || fail "big: content"
ours=$(du -k big.qcow2 | cut -f1)
theirs=$(du -k big-qemu.qcow2 | cut -f1)
echo "big: du -k: ours $ours KiB, qemu-img convert $theirs KiB" \
  "(data $((G / K)) KiB, our metadata $((ours - G / K)) KiB)"
[ $((ours - G / K)) -le 48 ] || fail "big: our metadata takes $((ours - G / K)) KiB"
[ $((theirs - ours)) -ge 128 ] || fail "big: not far smaller than qemu's image"
echo "ok: big"

echo "ok: $n images verified"
