#!/bin/bash -
# The native engine's ext2/3/4 statvfs against the appliance's: every
# image made here with mke2fs (every layout the kernel's statfs depends
# on: block and cluster sizes, flex_bg, meta_bg, sparse_super(2), 64bit,
# reserved blocks, extents or not, journals) is mounted read-only in ONE
# guestfish launch, and every statvfs field, the fsid included (ext4
# derives it from the UUID), and the vfs-type must equal native-statvfs's.
# Then a corpus of corrupted images, each of which must give a one-line
# error or "unsure", never a crash or a hang.
set -euo pipefail
. "$abs_top_builddir/tests/functions.sh"

for p in mke2fs debugfs dumpe2fs resize2fs guestfish; do
  command -v $p >/dev/null || skip "$p is not installed"
done
require_images

statvfs="$abs_top_builddir/tests/native-statvfs"
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
cd "$d"

# Run native-statvfs (under valgrind for make check-valgrind), with a
# time limit: nothing here may hang.
native () { timeout 120 "$run" ${GUESTKIT_TEST_VALGRIND:-} "$statvfs" "$@"; }

# Content for mkfs -d: files of several sizes, a sparse one, many small
# ones, directories, links.
mkdir -p src/dir/sub src/many
head -c 1234567 /dev/urandom > src/random
seq 1 100000 > src/dir/numbers
truncate -s 20M src/sparse
printf 'hello\n' > src/dir/sub/hello
ln src/random src/hardlink
ln -s dir/sub/hello src/symlink
for i in $(seq 1 300); do echo "$i" > src/many/f$i; done

# mk NAME SIZE MKFS-ARGS...: a fixed UUID per image, so the fsid is
# checked too.
names=()
n=0
mk () {
  local name="$1" size="$2"; shift 2
  n=$((n + 1))
  truncate -s "$size" "$name.img"
  mke2fs -q -F -U "$(printf '%08x-1234-4321-8765-%012x' $n $((n * 7919)))" \
    -E nodiscard,lazy_itable_init=1,lazy_journal_init=1 "$@" "$name.img"
  names+=("$name")
}

# (mke2fs picks 1 KiB blocks for small filesystems: -b 4096 where 4 KiB
# blocks are wanted.)
mk ext2           48M  -t ext2 -b 4096 -d src
mk ext2-1k        20M  -t ext2 -b 1024 -O ^resize_inode -I 128
mk ext3           48M  -t ext3 -b 4096 -d src
mk ext3-1k        30M  -t ext3 -b 1024
mk ext4           64M  -t ext4 -b 4096 -d src
mk ext4-1k        40M  -t ext4 -b 1024 -d src
mk ext4-2k        40M  -t ext4 -b 2048
mk ext4-bigalloc  300M -t ext4 -b 4096 -O bigalloc -C 16384 -d src
mk ext4-bigalloc1k 300M -t ext4 -b 1024 -O bigalloc -C 16384 -d src
mk ext4-bigalloc64k 600M -t ext4 -b 4096 -O bigalloc,^flex_bg -C 65536
mk ext4-noflex    100M -t ext4 -b 1024 -O ^flex_bg -d src
mk ext4-noflex4k  400M -t ext4 -b 4096 -O ^flex_bg
mk ext4-metabg    600M -t ext4 -b 1024 -O meta_bg,^resize_inode
mk ext4-metabg32  600M -t ext4 -b 1024 -O meta_bg,^resize_inode,^64bit
mk ext4-metabg4k  9G   -t ext4 -b 4096 -O meta_bg,^resize_inode
mk ext4-64bit     40G  -t ext4 -b 4096 -O 64bit
mk ext4-32bit     2G   -t ext4 -b 4096 -O ^64bit -d src
mk ext4-m0        64M  -t ext4 -b 4096 -m 0
mk ext4-m10       64M  -t ext4 -b 4096 -m 10
mk ext4-noextent  64M  -t ext4 -b 4096 -O ^extent,^64bit -d src
mk ext4-sparse2   100M -t ext4 -b 1024 -O sparse_super2 -E num_backup_sb=1
mk ext4-sparse2-0 100M -t ext4 -b 1024 -O sparse_super2 -E num_backup_sb=0
mk ext4-sparse2-2 600M -t ext4 -b 4096 -O sparse_super2,^resize_inode -E num_backup_sb=2
mk ext4-nosparse  100M -t ext4 -b 1024 -O ^sparse_super,^resize_inode
mk ext4-inline    64M  -t ext4 -b 4096 -O inline_data -d src
mk ext4-casefold  64M  -t ext4 -b 4096 -O casefold -E encoding=utf8
mk ext4-fc        64M  -t ext4 -b 4096 -O fast_commit
mk ext4-gdtcsum   64M  -t ext4 -b 4096 -O ^metadata_csum,uninit_bg
mk ext4-orphanf   64M  -t ext4 -b 4096 -O orphan_file
mk ext4-i128      64M  -t ext4 -b 4096 -I 128 -N 30000
mk ext4-smalljnl  64M  -t ext4 -b 4096 -J size=4
mk ext4-quota     64M  -t ext4 -b 4096 -O quota,project
mk ext4-mmp       64M  -t ext4 -b 4096 -O mmp
mk ext4-small     3M   -t ext4 -b 1024

# bigalloc recomputed: without a recorded overhead the kernel counts the
# clusters holding metadata itself.
cp ext4-bigalloc.img ext4-bigalloc-ovh0.img
debugfs -w -R "ssv overhead_clusters 0" ext4-bigalloc-ovh0.img 2>/dev/null
names+=(ext4-bigalloc-ovh0)
for b in bigalloc1k bigalloc64k; do
  cp ext4-$b.img ext4-$b-ovh0.img
  debugfs -w -R "ssv overhead_clusters 0" ext4-$b-ovh0.img 2>/dev/null
  names+=(ext4-$b-ovh0)
done
# A recorded overhead without bigalloc is ignored (recomputed).
cp ext4.img ext4-ovh.img
debugfs -w -R "ssv overhead_clusters 1000" ext4-ovh.img 2>/dev/null
names+=(ext4-ovh)
# Marked with errors: a read-only mount still reads the counts.
cp ext4.img ext4-errors.img
debugfs -w -R "ssv state 2" ext4-errors.img 2>/dev/null
names+=(ext4-errors)
# Grown and shrunk offline (the resize inode's reserve used up, odd
# last groups).
mk ext4-grown     64M  -t ext4 -b 4096 -d src
truncate -s 900M ext4-grown.img
resize2fs -f ext4-grown.img 900M >/dev/null 2>&1
mk ext4-shrunk    300M -t ext4 -b 1024 -d src
resize2fs -f ext4-shrunk.img 77777K >/dev/null 2>&1
mk ext2-grown     20M  -t ext2 -b 1024
resize2fs -f ext2-grown.img 150M >/dev/null 2>&1

# The shared test images: ext4 written by the appliance's kernel (files
# written and preallocated), on an MBR partition; a whole-disk ext4.
cp "$images/ext4-mbr.img" mbr.img
cp "$images/wholefs.img" wholefs.img

# --- the reference: one launch, every image mounted read-only in turn
gf=script.gf
echo run > $gf
args=()
dev () { # the appliance's name for the i-th disk (0-based): sda ... sdz, sdaa
  local i=$1
  if [ $i -lt 26 ]; then printf "sd\\x$(printf %x $((97 + i)))"
  else printf "sd\\x$(printf %x $((96 + i / 26)))\\x$(printf %x $((97 + i % 26)))"; fi
}
i=0
for name in "${names[@]}" mbr wholefs; do
  args+=(--format=raw -a "$name.img")
  part=""; [ $name = mbr ] && part=1
  cat >> $gf <<EOF
echo @@ $name
vfs-type /dev/$(dev $i)$part
mount-ro /dev/$(dev $i)$part /
statvfs /
umount-all
EOF
  i=$((i + 1))
done
ref guestfish --ro "${args[@]}" -f $gf > ref.all ||
  fail "the appliance failed (guestfish --ro -f script.gf)"
awk '/^@@ / { f = $2 ".ref"; first = 1; next }
     first { print "vfs-type: " $0 > f; first = 0; next }
     { print > f }' ref.all

# --- ours, field by field
fields=0
for name in "${names[@]}" mbr wholefs; do
  opts=()
  [ $name = mbr ] && opts=(-o $((2048 * 512)) -s $(((204799 - 2048 + 1) * 512)))
  rc=0
  native "${opts[@]}" "$name.img" > "$name.out" 2> "$name.err" || rc=$?
  if [ $rc -ne 0 ]; then
    cat "$name.err" >&2
    fail "$name: native-statvfs exit status $rc"
  fi
  [ -s "$name.ref" ] || fail "$name: no reference output"
  same "$name.ref" "$name.out" "$name"
  fields=$((fields + $(grep -c '' "$name.out")))
  echo "ok: $name: $(grep -E '^(vfs-type|blocks|bfree|bavail):' "$name.out" | tr '\n' ' ')"
done
echo "$0: ${#names[@]} + 2 images, $fields fields equal to the appliance's"

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
# poke FILE OFFSET HEX: overwrite bytes ("00000028")
poke () {
  printf "$(echo "$3" | sed 's/../\\x&/g')" |
    dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}
# Corruptions go into images without metadata checksums (so that the
# check under test is the one that fires), except where said.
base=ext4-gdtcsum.img
sbo=1024
c () { cp "$base" "$1.img"; }

head -c $((10 * 1024 * 1024)) $base > c-trunc.img
expect c-trunc 2 "blocks on a device of" c-trunc.img
head -c 3000 $base > c-trunc-3000.img
expect c-trunc-3000 2 "blocks on a device of" c-trunc-3000.img
c c-bsize;   poke c-bsize.img $((sbo + 24)) 0a000000
expect c-bsize 2 "block size" c-bsize.img
c c-bsize3;  poke c-bsize3.img $((sbo + 24)) 03000000
expect c-bsize3 2 "block size" c-bsize3.img
c c-count;   poke c-count.img $((sbo + 4)) ffffff7f
expect c-count 2 "blocks on a device of" c-count.img
c c-count0;  poke c-count0.img $((sbo + 4)) 00000000
expect c-count0 2 "first data block" c-count0.img
c c-bpg0;    poke c-bpg0.img $((sbo + 32)) 00000000
expect c-bpg0 2 "blocks per group" c-bpg0.img
c c-bpg-odd; poke c-bpg-odd.img $((sbo + 32)) 07000000
expect c-bpg-odd 2 "blocks per group" c-bpg-odd.img
c c-ipg;     poke c-ipg.img $((sbo + 40)) ffffffff
expect c-ipg 2 "inodes per group" c-ipg.img
c c-inodes;  poke c-inodes.img $((sbo + 0)) 01000000
expect c-inodes 2 "inodes count" c-inodes.img
c c-isize;   poke c-isize.img $((sbo + 88)) 0300
expect c-isize 2 "inode size" c-isize.img
c c-descsz;  poke c-descsz.img $((sbo + 254)) 0300
expect c-descsz 2 "descriptor size" c-descsz.img
c c-resgdt;  poke c-resgdt.img $((sbo + 206)) ffff
expect c-resgdt 2 "reserved GDT" c-resgdt.img
c c-fdb;     poke c-fdb.img $((sbo + 20)) 05000000
expect c-fdb 2 "first data block" c-fdb.img
c c-incompat; poke c-incompat.img $((sbo + 99)) 80
expect c-incompat 2 "unknown incompatible features 0x80000000" c-incompat.img
c c-rocompat; poke c-rocompat.img $((sbo + 103)) 40
expect c-rocompat 2 "unknown read-only features" c-rocompat.img
c c-recover; debugfs -w -R "feature needs_recovery" c-recover.img >/dev/null 2>&1
expect c-recover 2 "needs recovery" c-recover.img
c c-orphan;  debugfs -w -R "ssv last_orphan 12" c-orphan.img 2>/dev/null
expect c-orphan 2 "orphan" c-orphan.img
c c-extjnl;  debugfs -w -R "ssv journal_inum 0" c-extjnl.img 2>/dev/null
expect c-extjnl 2 "external journal" c-extjnl.img
c c-rev;     poke c-rev.img $((sbo + 76)) 05000000
expect c-rev 2 "revision level 5" c-rev.img
# The group descriptors (block 1 with 4 KiB blocks).
c c-gd-itable; poke c-gd-itable.img $((4096 + 8)) ffffff00
expect c-gd-itable 2 "outside the group" c-gd-itable.img
c c-gd-bitmap; poke c-gd-bitmap.img $((4096 + 4)) 00001000
expect c-gd-bitmap 2 "outside the group" c-gd-bitmap.img
c c-gd-free;   poke c-gd-free.img $((4096 + 12)) ffff
expect c-gd-free 2 "more free clusters" c-gd-free.img
# The root inode and the journal's (2 and 8): where they are.
# iloc IMAGE INODE: the byte offset of the inode (4 KiB blocks)
iloc () {
  debugfs -R "imap <$2>" "$1" 2>/dev/null |
    awk '/located at block/ { sub(",", "", $4); print $4 * 4096 + strtonum($6) }'
}
c c-root;    poke c-root.img $(iloc $base 2) 0000
expect c-root 2 "corrupt root inode" c-root.img
c c-extra;   poke c-extra.img $(($(iloc $base 2) + 128)) 0201
expect c-extra 2 "inode 2: bad extra_isize 258" c-extra.img
cp ext4.img c-icsum.img;   poke c-icsum.img $(($(iloc ext4.img 2) + 8)) 5a
expect c-icsum 2 "inode 2: bad checksum" c-icsum.img
cp ext4.img c-jicsum.img;  poke c-jicsum.img $(($(iloc ext4.img 8) + 8)) 5a
expect c-jicsum 2 "inode 8: bad checksum" c-jicsum.img
c c-jinode;  poke c-jinode.img $(($(iloc $base 8) + 40)) 0000
expect c-jinode 2 "extent header in the journal" c-jinode.img
c c-jdepth;  poke c-jdepth.img $(($(iloc $base 8) + 46)) 0300
expect c-jdepth 2 "journal" c-jdepth.img
jblock=$(debugfs -R "bmap <8> 0" $base 2>/dev/null)
c c-jmagic;  poke c-jmagic.img $((jblock * 4096)) 00000000
expect c-jmagic 2 "no valid journal superblock" c-jmagic.img
c c-jmaxlen; poke c-jmaxlen.img $((jblock * 4096 + 16)) 7fffffff
expect c-jmaxlen 2 "journal file too short" c-jmaxlen.img
c c-jfirst;  poke c-jfirst.img $((jblock * 4096 + 20)) 00000000
expect c-jfirst 2 "bad journal geometry" c-jfirst.img
# With metadata checksums: a superblock and a journal superblock whose
# checksums are wrong make the mount fail.
cp ext4.img c-sbcsum.img;  poke c-sbcsum.img $((sbo + 120)) 58
expect c-sbcsum 2 "bad superblock checksum" c-sbcsum.img
# (mke2fs makes journals without checksums; the kernel adds them at
# its first mount: the appliance-made ext4 on mbr.img has them.)
dd if=mbr.img of=c-jcsum.img bs=512 skip=2048 count=$((204799 - 2048 + 1)) \
  conv=sparse status=none
jbs=$(dumpe2fs -h c-jcsum.img 2>/dev/null | awk '/^Block size:/ { print $3 }')
jblock=$(debugfs -R "bmap <8> 0" c-jcsum.img 2>/dev/null)
dumpe2fs -h c-jcsum.img 2>/dev/null | grep -q journal_checksum_v3 ||
  fail "mbr.img's journal has no checksum"
poke c-jcsum.img $((jblock * jbs + 64)) 7f
expect c-jcsum 2 "bad journal superblock checksum" c-jcsum.img
# meta_bg: a first meta_bg beyond the descriptor blocks.
cp ext4-metabg.img c-metabg.img
debugfs -w -R "ssv first_meta_bg 1000" c-metabg.img 2>/dev/null
expect c-metabg 2 "first meta_bg" c-metabg.img
# bigalloc: a cluster size smaller than the block size.
cp ext4-bigalloc.img c-cluster.img
debugfs -w -R "ssv log_cluster_size 1" c-cluster.img 2>/dev/null
expect c-cluster 2 "cluster" c-cluster.img
# Too small to hold what the superblock says (the probe still sees it).
head -c 2048 $base > c-tiny.img
expect c-tiny 2 "blocks on a device of 0" c-tiny.img
echo "$0: $(ls c-*.img | wc -l) corrupt images refused"

# The fuzz target replays the whole corpus, good and corrupt (the first
# MiBs of each).
for f in c-*.img ext2-1k.img ext4-1k.img ext4-metabg.img ext4-bigalloc-ovh0.img; do
  head -c $((4 * 1024 * 1024)) "$f" > "fz-$f"
done
timeout 300 "$run" ${GUESTKIT_TEST_VALGRIND:-} \
  "$abs_top_builddir/tests/fuzz-native-ext" fz-*.img ||
  fail "fuzz-native-ext failed on the corpus"

echo "$0: PASS"
