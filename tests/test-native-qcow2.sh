#!/bin/bash -
# The native engine's block sources against qemu: every image made here
# with qemu-img/qemu-io is read whole through native-cat and compared
# byte for byte with "qemu-img convert -O raw".  Then the safety rules
# (unrecorded backing formats, loops, raw never probed) and a corpus of
# corrupted images, each of which must give a one-line error or "unsure",
# never a crash or a hang.
set -euo pipefail
. "$abs_top_builddir/tests/functions.sh"

for p in qemu-img qemu-io; do
  command -v $p >/dev/null || skip "$p is not installed (qemu-utils)"
done

cat="$abs_top_builddir/tests/native-cat"
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
cd "$d"
# qemu-nbd's private directories go here: the test checks none is left.
mkdir tmp
export TMPDIR="$d/tmp"

# Run native-cat (under valgrind for make check-valgrind), with a time
# limit: nothing here may hang.
native () { timeout 120 "$run" ${GUESTKIT_TEST_VALGRIND:-} "$cat" "$@"; }

# The guest data: text, zeros, random bytes, a compressible pattern, and a
# size that is not a multiple of any cluster size.
src=src.raw
truncate -s $((6 * 1024 * 1024 + 1536)) $src
head -c 1M < <(yes guestkit) | dd of=$src conv=notrunc status=none
head -c 1M /dev/urandom | dd of=$src bs=1M seek=2 conv=notrunc status=none
head -c 1M < <(seq 1 200000) | dd of=$src bs=1M seek=3 conv=notrunc status=none
head -c 65536 /dev/urandom | dd of=$src bs=64k seek=70 conv=notrunc status=none
printf 'the last bytes' | dd of=$src bs=1 seek=$((6 * 1024 * 1024 + 1000)) \
  conv=notrunc status=none

n=0
# check NAME IMAGE [NATIVE-CAT OPTIONS]: ours must equal qemu's.
check () {
  local name="$1" img="$2"; shift 2
  qemu-img convert -O raw "$img" "$name.ref"
  if ! native "$@" "$img" > "$name.out"; then
    fail "$name: native-cat failed on $img"
  fi
  cmp "$name.ref" "$name.out" || fail "$name: differs from qemu-img convert"
  rm -f "$name.ref" "$name.out"
  n=$((n + 1))
}

img () { qemu-img convert -q -f raw -O qcow2 "$@"; }

# --- qcow2 versions and cluster sizes
img -o compat=0.10 $src v2.qcow2;                      check v2 v2.qcow2
img -o compat=0.10,cluster_size=512 $src v2-512.qcow2; check v2-512 v2-512.qcow2
img -o cluster_size=512 $src v3-512.qcow2;             check v3-512 v3-512.qcow2
img $src v3.qcow2;                                     check v3 v3.qcow2
img -o cluster_size=2M $src v3-2M.qcow2;               check v3-2M v3-2M.qcow2
check v3-fmt v3.qcow2 --format qcow2
img -o preallocation=metadata $src prealloc.qcow2;     check prealloc prealloc.qcow2

# --- compressed clusters
img -c $src zlib.qcow2;                                check zlib zlib.qcow2
img -c -o compat=0.10 $src zlib-v2.qcow2;              check zlib-v2 zlib-v2.qcow2
img -c -o cluster_size=512 $src zlib-512.qcow2;        check zlib-512 zlib-512.qcow2
img -c -o cluster_size=2M $src zlib-2M.qcow2;          check zlib-2M zlib-2M.qcow2
img -c -o compression_type=zstd $src zstd.qcow2;       check zstd zstd.qcow2
img -c -o compression_type=zstd,cluster_size=2M $src zstd-2M.qcow2
check zstd-2M zstd-2M.qcow2

# --- zero clusters: over a backing file (they must hide it), and
# preallocated ones (the zero flag on an allocated cluster)
img $src base.qcow2
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 zero.qcow2
qemu-io -c 'write -z 0 1M' -c 'write -z 2M 128k' -c 'write -P 0x11 3M 64k' \
  -c 'write -z 3M 64k' zero.qcow2 >/dev/null
check zero zero.qcow2
cp v3.qcow2 zero-alloc.qcow2
qemu-io -c 'write -z 2M 1M' -c 'write -z 64k 64k' zero-alloc.qcow2 >/dev/null
check zero-alloc zero-alloc.qcow2
qemu-img create -q -f qcow2 -o compat=0.10 -b base.qcow2 -F qcow2 zero-v2.qcow2
qemu-io -c 'write -z 0 1M' zero-v2.qcow2 >/dev/null
check zero-v2 zero-v2.qcow2

# --- extended L2 entries: subclusters allocated, zero, and unallocated
# (reading the backing file), with and without a backing file
qemu-img create -q -f qcow2 -o extended_l2=on -b base.qcow2 -F qcow2 ext.qcow2
qemu-io -c 'write -P 0x55 4k 4k' -c 'write -z 8k 4k' -c 'write -P 0xaa 130k 3k' \
  -c 'write -P 0x66 2044k 8k' -c 'write -z 3M 200k' ext.qcow2 >/dev/null
check ext ext.qcow2
qemu-img create -q -f qcow2 -o extended_l2=on,cluster_size=2M ext-2M.qcow2 5M
qemu-io -c 'write -P 0x55 4k 4k' -c 'write -P 0x77 1M 70k' -c 'write -z 1M 64k' \
  ext-2M.qcow2 >/dev/null
check ext-2M ext-2M.qcow2
img -o extended_l2=on -c $src ext-zlib.qcow2;          check ext-zlib ext-zlib.qcow2

# --- a 3-deep chain, data in every layer, formats recorded (-F)
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 mid.qcow2
qemu-io -c 'write -P 0x22 512k 1M' -c 'write -P 0x23 5M 4k' mid.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 8M
qemu-io -c 'write -P 0x33 1M 100k' -c 'write -P 0x34 7M 4k' top.qcow2 >/dev/null
check chain3 top.qcow2
# ... named by a path with a directory: backing files are found beside it
mkdir sub
mv top.qcow2 mid.qcow2 sub/ && cp base.qcow2 sub/
check chain3-dir sub/top.qcow2

# --- backing files shorter than the overlay, raw and qcow2
head -c 1000000 $src > short.raw
qemu-img create -q -f qcow2 -b short.raw -F raw over-short.qcow2 4M
qemu-io -c 'write -P 0x44 3M 4k' over-short.qcow2 >/dev/null
check over-short over-short.qcow2
qemu-img create -q -f qcow2 small.qcow2 1M
qemu-io -c 'write -P 0x12 0 1M' small.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b small.qcow2 -F qcow2 over-small.qcow2 3M
check over-small over-small.qcow2

# --- a raw backing file
qemu-img create -q -f qcow2 -b "$d/$src" -F raw over-raw.qcow2
qemu-io -c 'write -P 0x45 0 4k' -c 'write -P 0x46 6M 1536' over-raw.qcow2 >/dev/null
check over-raw over-raw.qcow2

# --- raw images, named raw or probed; a raw image is never probed
check raw $src --format raw
check raw-probed $src
native --format raw zlib.qcow2 > as-raw.out
cmp zlib.qcow2 as-raw.out || fail "an image named raw was not read as raw"
n=$((n + 1))

echo "$0: $n images read as qemu reads them"

# --- unsure and errors: exit 2 or 1, one line on stderr
# expect NAME STATUS PATTERN IMAGE [OPTIONS]
expect () {
  local name="$1" want="$2" pattern="$3" img="$4"; shift 4
  local rc=0 lines
  native "$@" "$img" > "$name.out" 2> "$name.err" || rc=$?
  if [ $rc -ne $want ]; then
    cat "$name.err" >&2
    fail "$name: exit status $rc, expected $want"
  fi
  lines=$(grep -c '' "$name.err" || true)
  [ "$lines" -eq 1 ] || { cat "$name.err" >&2; fail "$name: $lines lines on stderr"; }
  grep -q -- "$pattern" "$name.err" ||
    { cat "$name.err" >&2; fail "$name: message does not match '$pattern'"; }
  echo "$name: $(cat "$name.err")"
}

# A backing file whose format is not recorded is not probed.
cp sub/mid.qcow2 nofmt.qcow2
cp base.qcow2 nofmt-base.qcow2
qemu-img rebase -u -b nofmt-base.qcow2 -F qcow2 nofmt.qcow2
off=$(LC_ALL=C grep -m1 -obUaP '\xe2\x79\x2a\xca' nofmt.qcow2 | cut -d: -f1)
[ -n "$off" ] || fail "no backing format extension in nofmt.qcow2"
printf '\x12\x34\x56\x78' | dd of=nofmt.qcow2 bs=1 seek=$off conv=notrunc status=none
qemu-img info nofmt.qcow2 | grep -q 'backing file format' &&
  fail "nofmt.qcow2 still records its backing format"
expect nofmt 2 "not recorded" nofmt.qcow2

# A backing "file" that qemu would take as a protocol is not a file.
qemu-img create -q -f qcow2 proto.qcow2 1M
qemu-img rebase -u -b nbd:localhost:10809 -F raw proto.qcow2
expect proto 2 "backing file nbd:localhost:10809 is not a local file" proto.qcow2

# A chain that loops: an error naming it, at once.
qemu-img create -q -f qcow2 a.qcow2 1M
qemu-img create -q -f qcow2 b.qcow2 1M
qemu-img rebase -u -b b.qcow2 -F qcow2 a.qcow2
qemu-img rebase -u -b a.qcow2 -F qcow2 b.qcow2
expect loop 1 "loops: a.qcow2 -> b.qcow2 -> a.qcow2" a.qcow2
qemu-img rebase -u -b self.qcow2 -F qcow2 a.qcow2
cp a.qcow2 self.qcow2
expect self-loop 1 "loops: self.qcow2 -> self.qcow2" self.qcow2

# A chain longer than the limit (64 backing files).
qemu-img create -q -f raw deep0.img 64k
for i in $(seq 1 66); do
  qemu-img create -q -f qcow2 -b deep$((i - 1)).$([ $i -eq 1 ] && echo img || echo qcow2) \
    -F $([ $i -eq 1 ] && echo raw || echo qcow2) deep$i.qcow2
done
check deep64 deep64.qcow2
expect deep66 1 "longer than 65 images: deep66.qcow2 -> deep65.qcow2 -> deep64.qcow2 -> deep63.qcow2 -> ... (59 more) -> deep3.qcow2 -> deep2.qcow2 -> deep1.qcow2" deep66.qcow2

# Encrypted images go to the appliance.  qemu-img times PBKDF2 to pick
# the LUKS iteration count and fails now and then with "Unable to get
# accurate CPU usage" when its thread's CPU clock reads 0 ms on a loaded
# machine (valgrind alongside), so creating the image is retried.
for try in 1 2 3 4 5; do
  qemu-img create -q -f qcow2 --object secret,id=sec0,data=secret \
    -o encrypt.format=luks,encrypt.key-secret=sec0 enc.qcow2 1M && break
  [ $try -lt 5 ] || fail "qemu-img could not create a LUKS qcow2 in 5 tries"
  rm -f enc.qcow2
done
expect luks 2 "encrypted" enc.qcow2

# Other formats through qemu-nbd (unsure when built without libnbd).
qemu-img convert -q -f raw -O vmdk $src src.vmdk
qemu-img convert -q -f raw -O vdi $src src.vdi
if grep -q '^#define HAVE_LIBNBD 1' "$abs_top_builddir/config.h" &&
   command -v qemu-nbd >/dev/null; then
  check vmdk src.vmdk
  check vmdk-fmt src.vmdk --format vmdk
  check vdi src.vdi
  qemu-img create -q -f qcow2 -b src.vmdk -F vmdk over-vmdk.qcow2
  qemu-io -c 'write -P 0x47 64k 4k' over-vmdk.qcow2 >/dev/null
  check over-vmdk over-vmdk.qcow2
  # A relative name with a colon is a file, not a protocol.
  cp src.vmdk x:y.vmdk
  qemu-img convert -O raw src.vmdk xy.ref
  native x:y.vmdk > xy.out
  cmp xy.ref xy.out || fail "x:y.vmdk: differs from qemu-img convert"
  [ -z "$(ls "$TMPDIR")" ] ||
    fail "qemu-nbd's private directory was left behind"
else
  expect vmdk 2 "vmdk" src.vmdk
fi

# --- the corrupt corpus
# poke FILE OFFSET HEX: overwrite bytes ("00000028")
poke () {
  printf "$(echo "$3" | sed 's/../\\x&/g')" |
    dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}
# be64 FILE OFFSET: read a big-endian number
be64 () { echo $((16#$(od -An -tx1 -j $(($2)) -N8 "$1" | tr -d ' \n'))); }
corrupt () { cp "$1" "$2"; }

head -c 100 v3.qcow2 > c-trunc-header.qcow2
expect c-trunc-header 1 "too short" c-trunc-header.qcow2
head -c 50 v3.qcow2 > c-trunc-50.qcow2
expect c-trunc-50 1 "c-trunc-50.qcow2: .*too short" c-trunc-50.qcow2

l1=$(be64 v3.qcow2 40)
head -c $((l1 + 4)) v3.qcow2 > c-trunc-l1.qcow2
expect c-trunc-l1 1 "L1 table .* beyond the end" c-trunc-l1.qcow2

corrupt v3.qcow2 c-l1-offset.qcow2; poke c-l1-offset.qcow2 40 0000001000000000
expect c-l1-offset 1 "L1 table .* beyond the end" c-l1-offset.qcow2

corrupt v3.qcow2 c-l1-unaligned.qcow2; poke c-l1-unaligned.qcow2 40 0000000000030200
expect c-l1-unaligned 1 "L1 table offset .* not aligned" c-l1-unaligned.qcow2

corrupt v3.qcow2 c-bits40.qcow2; poke c-bits40.qcow2 20 00000028
expect c-bits40 1 "cluster_bits 40" c-bits40.qcow2

corrupt v3.qcow2 c-bits8.qcow2; poke c-bits8.qcow2 20 00000008
expect c-bits8 1 "cluster_bits 8" c-bits8.qcow2

corrupt v3.qcow2 c-l1-huge.qcow2; poke c-l1-huge.qcow2 36 7fffffff
expect c-l1-huge 1 "L1 table .* too large" c-l1-huge.qcow2

corrupt v3.qcow2 c-l1-small.qcow2; poke c-l1-small.qcow2 36 00000000
expect c-l1-small 1 "L1 table has 0 entries, 1 are needed" c-l1-small.qcow2

corrupt v3.qcow2 c-size.qcow2; poke c-size.qcow2 24 7fffffffffffff00
expect c-size 1 "L1 table has .* needed" c-size.qcow2

corrupt v3.qcow2 c-size-neg.qcow2; poke c-size-neg.qcow2 24 ffffffffffffff00
expect c-size-neg 1 "virtual size .* too large" c-size-neg.qcow2

l2=$(( $(be64 v3.qcow2 $l1) & 0x00fffffffffffe00 ))
corrupt v3.qcow2 c-l2-eof.qcow2; poke c-l2-eof.qcow2 $l2 8000000010000000
expect c-l2-eof 1 "data cluster at offset 268435456 is beyond the end" c-l2-eof.qcow2

corrupt v3.qcow2 c-l2-unaligned.qcow2; poke c-l2-unaligned.qcow2 $l2 8000000000050200
expect c-l2-unaligned 1 "unaligned cluster" c-l2-unaligned.qcow2

corrupt v3.qcow2 c-l1-entry-eof.qcow2; poke c-l1-entry-eof.qcow2 $l1 8000001000000000
expect c-l1-entry-eof 1 "L2 table at offset .* beyond the end" c-l1-entry-eof.qcow2

corrupt v3.qcow2 c-l1-entry-unaligned.qcow2; poke c-l1-entry-unaligned.qcow2 $l1 8000000000040200
expect c-l1-entry-unaligned 1 "unaligned L2 table" c-l1-entry-unaligned.qcow2

# Compressed clusters whose data is garbage (zlib and zstd).
for z in zlib zstd; do
  zl1=$(be64 $z.qcow2 40)
  zl2=$(( $(be64 $z.qcow2 $zl1) & 0x00fffffffffffe00 ))
  zoff=$(( $(be64 $z.qcow2 $zl2) & ((1 << 54) - 1) ))
  corrupt $z.qcow2 c-$z-garbage.qcow2
  poke c-$z-garbage.qcow2 $zoff ffffffffffffffff0123456789abcdefffffffffffffffff
  expect c-$z-garbage 1 "does not decompress ($z)" c-$z-garbage.qcow2
  corrupt $z.qcow2 c-$z-eof.qcow2
  poke c-$z-eof.qcow2 $zl2 4000000100000000
  expect c-$z-eof 1 "compressed cluster .* beyond the end" c-$z-eof.qcow2
done

corrupt v3.qcow2 c-hdrlen.qcow2; poke c-hdrlen.qcow2 100 00000007
expect c-hdrlen 1 "header_length 7" c-hdrlen.qcow2

corrupt v3.qcow2 c-ext.qcow2
off=$(( $(od -An -tu4 --endian=big -j 100 -N4 v3.qcow2) ))
poke c-ext.qcow2 $off 12345678ffff0000
expect c-ext 1 "header extension 0x12345678 .* beyond the header" c-ext.qcow2

corrupt sub/top.qcow2 c-backing.qcow2
poke c-backing.qcow2 8 00000000ffffff00
expect c-backing 1 "invalid backing file name" c-backing.qcow2

corrupt v3.qcow2 c-incompat.qcow2; poke c-incompat.qcow2 72 0000000000100000
expect c-incompat 2 "unknown incompatible feature bit 20" c-incompat.qcow2

corrupt v3.qcow2 c-corrupt-bit.qcow2; poke c-corrupt-bit.qcow2 79 02
expect c-corrupt-bit 2 "marked corrupt" c-corrupt-bit.qcow2

corrupt v3.qcow2 c-datafile.qcow2; poke c-datafile.qcow2 79 04
expect c-datafile 2 "external data file" c-datafile.qcow2

corrupt v3.qcow2 c-aes.qcow2; poke c-aes.qcow2 32 00000001
expect c-aes 2 "encrypted (method 1)" c-aes.qcow2

corrupt v3.qcow2 c-ctype.qcow2; poke c-ctype.qcow2 104 01
expect c-ctype 1 "compression type 1 does not match" c-ctype.qcow2

corrupt v3.qcow2 c-version.qcow2; poke c-version.qcow2 4 00000004
expect c-version 2 "qcow2 version 4" c-version.qcow2

# The fuzz target replays the whole corpus, good and corrupt (it reads
# each image's first MiB over a backing file of zeros).
timeout 300 "$run" ${GUESTKIT_TEST_VALGRIND:-} \
  "$abs_top_builddir/tests/fuzz-native-qcow2" c-*.qcow2 v*.qcow2 z*.qcow2 \
  ext*.qcow2 || fail "fuzz-native-qcow2 failed on the corpus"

# The dirty bit: refcounts may be stale, the data is not; read it.
corrupt v3.qcow2 dirty.qcow2; poke dirty.qcow2 79 01
check dirty dirty.qcow2

echo "$0: PASS"
