#!/bin/bash -
# The native engine's allocation map (gk_reader_extents) against qemu:
# for every image made here with qemu-img/qemu-io, the map native-extents
# prints is compared with "qemu-img map --output=json", every zero or
# hole extent is read back as zeros (--verify), and the whole image
# reads as "qemu-img convert -O raw" does (sha256).  Then slices, ranges,
# a callback that stops, large images (the map must not take time in
# proportion to the clusters' data), and corrupt images: one line of
# error, never a crash.
set -euo pipefail
. "$abs_top_builddir/tests/functions.sh"

for p in qemu-img qemu-io jq; do
  command -v $p >/dev/null || skip "$p is not installed"
done

extents="$abs_top_builddir/tests/native-extents"
cat="$abs_top_builddir/tests/native-cat"
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
cd "$d"
mkdir tmp
export TMPDIR="$d/tmp"

# Under valgrind for make check-valgrind; nothing here may hang.
native () { timeout 120 "$run" ${GUESTKIT_TEST_VALGRIND:-} "$extents" "$@"; }

# Merge neighbouring "OFFSET LENGTH TYPE" lines of the same type.
merge () {
  awk '{ if (n && $3 == t && $1 == s + l) l += $2;
         else { if (n) print s, l, t; s = $1; l = $2; t = $3; n = 1 } }
       END { if (n) print s, l, t }'
}
# qemu's map in the same form: data, zero (allocated in some layer, or a
# raw file's hole: "present") or hole (allocated nowhere in the chain).
qemu_map () {
  qemu-img map --output=json "$@" |
    jq -r '.[] | "\(.start) \(.length) \(if .data then "data"
                  elif .present then "zero" else "hole" end)"' | merge
}
# Two states only: data, or reads as zeros.
two () { sed 's/ hole$/ zero/' | merge; }

n=0
# check NAME IMAGE 2|3: our map equals qemu's, in two states (data or
# zeros: raw files, whose holes qemu calls present) or three; zeros read
# as zeros; the image reads as qemu reads it.
check () {
  local name="$1" img="$2" states="$3"
  native --verify "$img" > "$name.ours" ||
    fail "$name: native-extents --verify failed on $img"
  qemu_map "$img" > "$name.qemu3"
  if [ "$states" = 3 ]; then
    same "$name.qemu3" "$name.ours" "$name: map (data/zero/hole)"
  else
    two < "$name.qemu3" > "$name.qemu2"
    two < "$name.ours" > "$name.ours2"
    same "$name.qemu2" "$name.ours2" "$name: map (data/zeros)"
  fi
  qemu-img convert -O raw "$img" "$name.ref"
  [ "$(timeout 120 "$cat" "$img" | sha256sum)" = "$(sha256sum < "$name.ref")" ] ||
    fail "$name: native-cat differs from qemu-img convert"
  rm -f "$name.ref"
  n=$((n + 1))
}
# has NAME LINE: our map of NAME has this extent.
has () { grep -qx "$2" "$1.ours" || { cat "$1.ours" >&2; fail "$1: no extent '$2'"; }; }
hasnt () { ! grep -q "$2" "$1.ours" || { cat "$1.ours" >&2; fail "$1: an extent matches '$2'"; }; }

K=1024
M=$((1024 * 1024))

# --- raw files: holes, data at odd places, a hole at the end, all data,
# empty.  The filesystem decides what a hole is: compare with qemu.
truncate -s $((10 * M + 1536)) sparse.raw
head -c 128k /dev/urandom | dd of=sparse.raw bs=64k seek=3 conv=notrunc status=none
printf 'tail' | dd of=sparse.raw bs=1 seek=$((10 * M + 1000)) conv=notrunc status=none
head -c 4k /dev/urandom | dd of=sparse.raw bs=4k seek=1000 conv=notrunc status=none
check sparse-raw sparse.raw 2
if qemu-img map --output=json sparse.raw | grep -q '"data": false'; then
  has sparse-raw "0 196608 hole"
  has sparse-raw "196608 131072 data"
fi
truncate -s $((4 * M)) hole-end.raw
head -c 64k /dev/urandom | dd of=hole-end.raw conv=notrunc status=none
check hole-end-raw hole-end.raw 2
head -c $((1 * M + 512)) /dev/urandom > full.raw
check full-raw full.raw 2
has full-raw "0 $((M + 512)) data"
: > empty.raw
native empty.raw > empty.ours
[ ! -s empty.ours ] || fail "empty.raw: extents reported"

# --- qcow2 v3: data, zero clusters, discarded clusters, an odd size
qemu-img create -q -f qcow2 v3.qcow2 $((16 * M + 1536))
qemu-io -c 'write -P 0x11 0 256k' -c 'write -P 0x12 1M 1M' \
  -c 'write -z 4M 512k' -c 'write -P 0x13 8M 2M' -c 'discard 8M 512k' \
  -c 'write -P 0x14 16M 1536' -c 'write -z 1152k 64k' v3.qcow2 >/dev/null
check v3 v3.qcow2 3
has v3 "4194304 524288 zero"
has v3 "1179648 65536 zero"
has v3 "8388608 524288 zero"   # discarded: qemu leaves zero clusters
# preallocated: the zero flag on allocated clusters
qemu-img create -q -f qcow2 -o preallocation=metadata prealloc.qcow2 4M
qemu-io -c 'write -P 0x21 1M 64k' -c 'write -z 2M 1M' prealloc.qcow2 >/dev/null
check prealloc prealloc.qcow2 3
has prealloc "2097152 1048576 zero"
# 512 byte and 2 MiB clusters
qemu-img create -q -f qcow2 -o cluster_size=512 c512.qcow2 3M
qemu-io -c 'write -P 0x31 1000 3000' -c 'write -z 1M 1536' \
  -c 'write -P 0x32 2M 512' c512.qcow2 >/dev/null
check c512 c512.qcow2 3
qemu-img create -q -f qcow2 -o cluster_size=2M c2m.qcow2 9M
qemu-io -c 'write -P 0x33 3M 4k' -c 'write -z 6M 2M' c2m.qcow2 >/dev/null
check c2m c2m.qcow2 3

# --- compressed clusters (qemu-img convert -c), zlib and zstd
qemu-img convert -q -c -f raw -O qcow2 sparse.raw zlib.qcow2
check zlib zlib.qcow2 3
qemu-img convert -q -c -f raw -O qcow2 -o compression_type=zstd full.raw zstd.qcow2
check zstd zstd.qcow2 3
has zstd "0 $((M + 512)) data"

# --- qcow2 v2 (compat=0.10): no zero clusters of its own
qemu-img create -q -f qcow2 -o compat=0.10 v2.qcow2 4M
qemu-io -c 'write -P 0x41 64k 64k' -c 'write -z 1M 128k' \
  -c 'write -P 0x42 3M 4k' v2.qcow2 >/dev/null
check v2 v2.qcow2 3
qemu-img create -q -f qcow2 -o compat=0.10 -b v2.qcow2 -F qcow2 v2-over.qcow2
qemu-io -c 'write -z 0 1M' -c 'write -P 0x43 2M 64k' v2-over.qcow2 >/dev/null
check v2-over v2-over.qcow2 3

# --- a chain of 3 qcow2 layers, each writing and zeroing over the ones
# below; zero clusters of the top layer are zero, never data
qemu-img create -q -f qcow2 base.qcow2 16M
qemu-io -c 'write -P 0x51 0 4M' -c 'write -z 6M 1M' -c 'write -P 0x52 10M 2M' \
  base.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 mid.qcow2
qemu-io -c 'write -z 1M 1M' -c 'write -P 0x53 6M 512k' -c 'discard 10M 1M' \
  -c 'write -P 0x54 13M 64k' mid.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 20M
qemu-io -c 'write -z 0 512k' -c 'write -P 0x55 1M 256k' -c 'write -z 6M 64k' \
  -c 'write -z 13M 64k' -c 'write -P 0x56 18M 4k' -c 'write -z 19M 64k' \
  top.qcow2 >/dev/null
check base base.qcow2 3
check mid mid.qcow2 3
check chain3 top.qcow2 3
has chain3 "0 524288 zero"
has chain3 "13631488 65536 zero"
has chain3 "19922944 65536 zero"
has chain3 "13697024 5177344 hole"

# --- backing files shorter than the overlay: beyond their end, holes
qemu-img create -q -f qcow2 small.qcow2 1M
qemu-io -c 'write -P 0x61 0 1M' small.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b small.qcow2 -F qcow2 over-small.qcow2 3M
qemu-io -c 'write -z 2M 64k' over-small.qcow2 >/dev/null
check over-small over-small.qcow2 3
has over-small "0 1048576 data"
has over-small "1048576 1048576 hole"
head -c 1000000 sparse.raw > short.raw
qemu-img create -q -f qcow2 -b short.raw -F raw over-short.qcow2 4M
qemu-io -c 'write -P 0x62 3M 4k' -c 'write -z 64k 64k' over-short.qcow2 >/dev/null
check over-short over-short.qcow2 2
has over-short "65536 65536 zero"
has over-short "1000000 $((3 * M - 1000000)) hole"
# ... and a 3-layer chain over a sparse raw file
qemu-img create -q -f qcow2 -b "$d/sparse.raw" -F raw raw-mid.qcow2
qemu-io -c 'write -z 192k 64k' -c 'write -P 0x63 5M 4k' raw-mid.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b raw-mid.qcow2 -F qcow2 raw-top.qcow2
qemu-io -c 'write -P 0x64 0 4k' -c 'write -z 5M 64k' raw-top.qcow2 >/dev/null
check raw-chain raw-top.qcow2 2

# --- extended L2 entries: subclusters allocated, zero and unallocated
qemu-img create -q -f qcow2 -o extended_l2=on -b base.qcow2 -F qcow2 ext.qcow2
qemu-io -c 'write -P 0x71 4k 4k' -c 'write -z 8k 4k' -c 'write -P 0x72 130k 3k' \
  -c 'write -P 0x73 2044k 8k' -c 'write -z 3M 200k' -c 'write -z 7M 6k' \
  -c 'write -P 0x74 11M 2k' ext.qcow2 >/dev/null
check ext ext.qcow2 3
has ext "8192 4096 zero"
qemu-img create -q -f qcow2 -o extended_l2=on,cluster_size=128k ext-nb.qcow2 4M
qemu-io -c 'write -P 0x75 4k 4k' -c 'write -z 16k 8k' -c 'write -P 0x76 1M 70k' \
  -c 'write -z 1M 8k' ext-nb.qcow2 >/dev/null
check ext-nobacking ext-nb.qcow2 3
has ext-nobacking "16384 8192 zero"
has ext-nobacking "4096 4096 data"
qemu-img convert -q -c -f raw -O qcow2 -o extended_l2=on sparse.raw ext-zlib.qcow2
check ext-zlib ext-zlib.qcow2 3

# --- other formats through qemu-nbd (base:allocation)
if grep -q '^#define HAVE_LIBNBD 1' "$abs_top_builddir/config.h" &&
   command -v qemu-nbd >/dev/null; then
  qemu-img convert -q -f raw -O vmdk sparse.raw sparse.vmdk
  check vmdk sparse.vmdk 2
  grep -q " hole$" vmdk.ours || fail "vmdk: no hole reported through qemu-nbd"
  qemu-img convert -q -f qcow2 -O vdi top.qcow2 top.vdi
  check vdi top.vdi 2
  [ -z "$(ls "$TMPDIR")" ] || fail "qemu-nbd's private directory was left behind"
fi

echo "$0: $n maps as qemu maps them"

# --- ranges and slices: the full map, clipped (and shifted)
# clip OFF LEN SHIFT < MAP
clip () {
  awk -v o="$1" -v l="$2" -v s="$3" '{
    a = $1; b = $1 + $2; e = o + l;
    if (a < o) a = o; if (b > e) b = e;
    if (a < b) print a - s, b - a, $3 }'
}
for r in 0:1 100:1048600 524288:524288 1000:$((19 * M)) $((20 * M - 1)):1 \
         $((13 * M - 7)):$((64 * K + 14)); do
  off=${r%:*} len=${r#*:}
  clip $off $len 0 < chain3.ours > range.want
  native --range $r top.qcow2 > range.ours || fail "--range $r failed"
  same range.want range.ours "range $r"
  clip $off $len $off < chain3.ours > slice.want
  native --verify --slice $r top.qcow2 > slice.ours || fail "--slice $r failed"
  same slice.want slice.ours "slice $r"
done
# A slice of a raw file, and a range beyond the end.
clip 65536 $((4 * M)) 65536 < sparse-raw.ours > slice.want
native --slice 65536:$((4 * M)) sparse.raw > slice.ours
same slice.want slice.ours "slice of sparse.raw"
rc=0
native --range $((20 * M - 1)):2 top.qcow2 > /dev/null 2> beyond.err || rc=$?
[ $rc -eq 1 ] && grep -q "beyond its end" beyond.err ||
  { cat beyond.err >&2; fail "a range beyond the end: status $rc"; }

# --- a callback that stops: no more calls, its value returned
native --stop-after 3 top.qcow2 > stop.out || fail "--stop-after failed"
[ "$(grep -c '' stop.out)" -eq 4 ] && [ "$(tail -n1 stop.out)" = "stopped: 42" ] ||
  { cat stop.out >&2; fail "--stop-after 3"; }
head -n3 chain3.ours | cmp - <(head -n3 stop.out) || fail "--stop-after: other extents"

# --- 8 GiB images: the map reads only L2 tables
qemu-img create -q -f qcow2 big.qcow2 8G
qemu-io -c 'write -P 0x81 1G 64k' -c 'write -z 5G 1M' -c 'write -P 0x82 8191M 1M' \
  big.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o preallocation=metadata big-prealloc.qcow2 8G
qemu-io -c 'write -z 2G 1G' big-prealloc.qcow2 >/dev/null
for img in big big-prealloc; do
  start=$(date +%s%N)
  native $img.qcow2 > $img.ours || fail "$img: native-extents failed"
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "$img: $(grep -c '' $img.ours) extents in $ms ms"
  [ -n "${GUESTKIT_TEST_VALGRIND:-}" ] || [ $ms -lt 5000 ] ||
    fail "$img: the map took $ms ms"
  qemu_map $img.qcow2 > $img.qemu3
  same $img.qemu3 $img.ours "$img: map"
done

# --- corrupt images: one line on stderr, status 1
# poke FILE OFFSET HEX / be64 FILE OFFSET, as in test-native-qcow2.sh
poke () {
  printf "$(echo "$3" | sed 's/../\\x&/g')" |
    dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}
be64 () { echo $((16#$(od -An -tx1 -j $(($2)) -N8 "$1" | tr -d ' \n'))); }
expect () {
  local name="$1" pattern="$2" img="$3" rc=0 lines
  native "$img" > "$name.out" 2> "$name.err" || rc=$?
  [ $rc -eq 1 ] || { cat "$name.err" >&2; fail "$name: exit status $rc"; }
  lines=$(grep -c '' "$name.err" || true)
  [ "$lines" -eq 1 ] || { cat "$name.err" >&2; fail "$name: $lines lines on stderr"; }
  grep -q -- "$pattern" "$name.err" ||
    { cat "$name.err" >&2; fail "$name: message does not match '$pattern'"; }
  echo "$name: $(cat "$name.err")"
}
l1=$(be64 v3.qcow2 40)
l2=$(( $(be64 v3.qcow2 $l1) & 0x00fffffffffffe00 ))
cp v3.qcow2 c-l2-eof.qcow2; poke c-l2-eof.qcow2 $l1 8000001000000000
expect c-l2-eof "L2 table at offset .* beyond the end" c-l2-eof.qcow2
cp v3.qcow2 c-l2-unaligned.qcow2; poke c-l2-unaligned.qcow2 $l1 8000000000040200
expect c-l2-unaligned "unaligned L2 table" c-l2-unaligned.qcow2
cp v3.qcow2 c-data-unaligned.qcow2; poke c-data-unaligned.qcow2 $l2 8000000000050200
expect c-data-unaligned "unaligned cluster" c-data-unaligned.qcow2
# ... also as a backing file
qemu-img create -q -f qcow2 -b c-l2-eof.qcow2 -F qcow2 c-over.qcow2
expect c-over "c-l2-eof.qcow2: corrupt qcow2 image: L2 table" c-over.qcow2

echo "$0: PASS"
