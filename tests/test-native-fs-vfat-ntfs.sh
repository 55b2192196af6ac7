#!/bin/bash -
# The native engine's vfat and ntfs statvfs against the appliance's:
# FAT12/16/32 volumes (the kernel's FAT type rules, 512 to 4096-byte
# logical sectors, 1 to 64 sectors per cluster, one or two FATs, a stale
# FSINFO, reserved FAT32 bits, a size clamped by the FAT, dirty flags,
# an MBR partition) and NTFS volumes (cluster sizes 512 to 64 KiB,
# 4096-byte sectors, many files created and deleted, a dirty volume, a
# hibernated Windows' hiberfil.sys) are made with mkfs.fat/mtools and
# mkntfs/ntfs-3g, then read by native-statvfs and, in ONE appliance
# launch, by "mount-ro" + "statvfs": every field must be equal.  vfat's
# fsid comes from the device number (not compared: native says 0);
# ntfs's (FUSE) is 0 and is compared.
# Then a corrupt corpus: native-statvfs must say "unsure" or fail with
# one line on stderr, never crash or hang; and the fuzz targets replay
# all of it.
set -euo pipefail
. "$abs_top_builddir/tests/functions.sh"

for p in mkfs.fat mcopy mmd mdel mkntfs ntfs-3g ntfscp guestfish od; do
  command -v $p >/dev/null || skip "$p is not installed (dosfstools, mtools, ntfs-3g, guestfish)"
done

statvfs="$abs_top_builddir/tests/native-statvfs"
d="$(mktemp -d)"
mnt=
cleanup () {
  if [ -n "$mnt" ] && mountpoint -q "$mnt" 2>/dev/null; then
    fusermount -u "$mnt" || true
  fi
  rm -rf "$d"
}
trap cleanup EXIT
cd "$d"

native () { timeout 120 "$run" ${GUESTKIT_TEST_VALGRIND:-} "$statvfs" "$@"; }

# poke FILE OFFSET HEX: overwrite bytes ("0102")
poke () {
  printf "$(echo "$3" | sed 's/../\\x&/g')" |
    dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}
# Little-endian numbers from a file.
le16 () { echo $(( $(od -An -tu2 --endian=little -j $(($2)) -N2 "$1") )); }
le32 () { echo $(( $(od -An -tu4 --endian=little -j $(($2)) -N4 "$1") )); }
le64 () { echo $(( $(od -An -tu8 --endian=little -j $(($2)) -N8 "$1") )); }
hex32 () { printf '%02x%02x%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }

head -c 700000 /dev/urandom > big.bin
head -c 100000 /dev/urandom > mid.bin
head -c 5000 /dev/urandom > small.bin

# --- vfat
# fat NAME SIZE MKFS-OPTIONS...: a volume with directories, long names,
# files of several sizes and a deleted one.
fat () {
  local n="$1" size="$2"; shift 2
  truncate -s "$size" $n.img
  mkfs.fat "$@" $n.img >/dev/null
  mmd -i $n.img ::/dir1 ::/dir1/sub ::/empty
  mcopy -i $n.img mid.bin ::/dir1/mid.bin
  mcopy -i $n.img small.bin ::/small.bin
  mcopy -i $n.img small.bin ::/deleted.bin
  [ $(stat -c %s $n.img) -lt 8000000 ] || mcopy -i $n.img big.bin ::/dir1/sub/big.bin
  for i in $(seq 1 30); do
    echo $i | mcopy -i $n.img - ::/dir1/a-file-with-a-long-name-$i.txt
  done
  mdel -i $n.img ::/deleted.bin
}
fat fat12 4M -F 12
fat fat12-s1024 8M -F 12 -S 1024
fat fat12-s4096 15M -F 12 -S 4096 -s 1
fat fat12-max 15M -F 12 -s 8            # near the FAT12 limit (4084)
fat fat16-min 17M -F 16 -s 8            # just above it
fat fat16 64M -F 16
fat fat16-s1 30M -F 16 -s 1
fat fat16-s2048 64M -F 16 -S 2048
fat fat16-s64 200M -F 16 -s 64
fat fat32 260M -F 32
fat fat32-s1 100M -F 32 -s 1
fat fat32-s8 300M -F 32 -s 8
fat fat32-s4096 260M -F 32 -S 4096
fat fat32-f1 260M -F 32 -f 1
fat fat32-small 40M -F 32               # FAT32 with few clusters: still FAT32

# FAT32's FSINFO free count is not what the kernel shows (it scans).
cp fat32.img fat32-fsinfo.img
fsinfo=$(( $(le16 fat32.img 48) * $(le16 fat32.img 11) ))
poke fat32-fsinfo.img $((fsinfo + 488)) 39300000
# A free FAT32 entry with its reserved top bits set is still free.
fatoff=$(( $(le16 fat32.img 14) * $(le16 fat32.img 11) ))
cp fat32.img fat32-topbits.img
poke fat32-topbits.img $((fatoff + 4 * 5000)) 000000f0
# The label says FAT16, the cluster count says FAT12: FAT12.
cp fat12.img fat12-label16.img
poke fat12-label16.img 54 4641543136202020
# Dirty flags (only a warning for the kernel).
cp fat16.img fat16-dirty.img; poke fat16-dirty.img 37 01
cp fat32.img fat32-dirty.img; poke fat32-dirty.img 65 01
# More sectors than the FAT can describe: the cluster count is clamped.
cp fat16.img fat16-clamp.img
poke fat16-clamp.img 19 0000
poke fat16-clamp.img 32 $(hex32 $(( $(le32 fat16.img 32) + $(le32 fat16.img 32) )))
# A partition of an MBR disk.
cp "$images/fat32-mbr.img" fat32-mbr.img

# --- ntfs
mnt="$d/mnt"
mkdir "$mnt"
fuse=yes
command -v fusermount >/dev/null || fuse=no
# ntfs NAME SIZE MKNTFS-OPTIONS...: with files written and deleted
# through ntfs-3g (or copied with ntfscp when FUSE is not available).
ntfs () {
  local n="$1" size="$2"; shift 2
  truncate -s "$size" $n.img
  mkntfs -q -F -f "$@" $n.img >/dev/null 2>&1
  if [ $fuse = yes ] && ntfs-3g $n.img "$mnt" 2>/dev/null; then
    mkdir -p "$mnt/dir/sub"
    cp big.bin "$mnt/dir/big.bin"
    cp mid.bin "$mnt/dir/sub/mid.bin"
    cp small.bin "$mnt/deleted.bin"
    rm "$mnt/deleted.bin"
    fusermount -u "$mnt"
  else
    fuse=no
    ntfscp -q -f $n.img big.bin big.bin >/dev/null
    ntfscp -q -f $n.img mid.bin mid.bin >/dev/null
  fi
}
ntfs ntfs64 64M
ntfs ntfs1g 1G
ntfs ntfs-c512 64M -c 512               # clusters smaller than MFT records
ntfs ntfs-c65536 1G -c 65536
ntfs ntfs-s4096 200M -s 4096
ntfs ntfs-many 100M
if [ $fuse = yes ]; then
  # Thousands of MFT records, half of them freed again.
  ntfs-3g ntfs-many.img "$mnt"
  mkdir "$mnt/many"
  for i in $(seq 1 3000); do echo $i > "$mnt/many/f$i"; done
  rm -f "$mnt"/many/f1[0-9]*
  fusermount -u "$mnt"
  # A hibernated Windows: a read-only ntfs-3g mount does not look.
  cp ntfs64.img ntfs-hiber.img
  ntfs-3g ntfs-hiber.img "$mnt"
  { printf hibr; head -c 8188 /dev/zero; } > "$mnt/hiberfil.sys"
  fusermount -u "$mnt"
fi
# A dirty volume ($Volume's flags, in $MFT and $MFTMirr alike): a
# read-only ntfs-3g mount does not look either.
cp ntfs64.img ntfs-dirty.img
cs=$(( $(le16 ntfs64.img 11) * $(od -An -tu1 -j 13 -N1 ntfs64.img) ))
recsize=1024
for lcn in $(le64 ntfs64.img 48) $(le64 ntfs64.img 56); do
  rec=$((lcn * cs + 3 * recsize))
  off=$((rec + $(le16 ntfs64.img $((rec + 20)))))
  while [ $(le32 ntfs64.img $off) != $((0x70)) ]; do
    [ $(le32 ntfs64.img $off) != 4294967295 ] || fail "no \$VOLUME_INFORMATION"
    off=$((off + $(le32 ntfs64.img $((off + 4)))))
  done
  flags=$((off + $(le16 ntfs64.img $((off + 20))) + 10))
  [ $(( (flags - rec) % 512 )) -lt 510 ] || fail "\$Volume flags under a fixup"
  poke ntfs-dirty.img $flags 0100
done

images=( fat12 fat12-s1024 fat12-s4096 fat12-max fat16-min fat16 fat16-s1
         fat16-s2048 fat16-s64 fat32 fat32-s1 fat32-s8 fat32-s4096 fat32-f1
         fat32-small fat32-fsinfo fat32-topbits fat12-label16 fat16-dirty
         fat32-dirty fat16-clamp fat32-mbr
         ntfs64 ntfs1g ntfs-c512 ntfs-c65536 ntfs-s4096 ntfs-many ntfs-dirty )
[ $fuse = no ] || images+=( ntfs-hiber )

# Ours.
for n in "${images[@]}"; do
  opts=()
  if [ $n = fat32-mbr ]; then
    start=$(le32 $n.img $((446 + 8))); count=$(le32 $n.img $((446 + 12)))
    opts=(-o $((start * 512)) -s $((count * 512)))
  fi
  native "${opts[@]}" $n.img > $n.native ||
    fail "$n: native-statvfs failed: $(cat $n.native)"
  sed -i 's/^vfs-type: //' $n.native
  case $n in fat*) sed -i '/^fsid: /d' $n.native ;; esac
done

# The appliance's, in one launch.
dev () {
  local i=$1 l=abcdefghijklmnopqrstuvwxyz
  if [ $i -lt 26 ]; then echo sd${l:$i:1}; else echo sd${l:$((i / 26 - 1)):1}${l:$((i % 26)):1}; fi
}
args=(); i=0
echo run > script
for n in "${images[@]}"; do
  args+=(--format=raw -a $n.img)
  dv=/dev/$(dev $i); [ $n != fat32-mbr ] || dv=${dv}1
  printf 'echo "=== %s"\nvfs-type %s\nmount-ro %s /\nstatvfs /\numount-all\n' \
    $n $dv $dv >> script
  i=$((i + 1))
done
ref guestfish --ro "${args[@]}" -f script > ref.out 2> ref.err ||
  { cat ref.err >&2; fail "guestfish failed"; }
awk '/^=== /{f=$2".ref"; next} {print > f}' ref.out

n_fields=0
for n in "${images[@]}"; do
  [ -s $n.ref ] || { cat ref.err >&2; fail "$n: nothing from the appliance"; }
  case $n in fat*) sed -i '/^fsid: /d' $n.ref ;; esac
  same $n.ref $n.native "$n: native statvfs"
  n_fields=$((n_fields + $(grep -c ': ' $n.ref)))
done
echo "$0: ${#images[@]} volumes, $n_fields fields equal to the appliance's"

# --- the corrupt corpus: exit 1 or 2, one line on stderr
# expect NAME PATTERN IMAGE
expect () {
  local name="$1" pattern="$2" img="$3" rc=0 lines
  native "$img" > $name.out 2> $name.err || rc=$?
  if [ $rc -ne 1 ] && [ $rc -ne 2 ]; then
    cat $name.out $name.err >&2
    fail "$name: exit status $rc, expected 1 or 2"
  fi
  lines=$(grep -c '' $name.err || true)
  [ "$lines" -eq 1 ] || { cat $name.err >&2; fail "$name: $lines lines on stderr"; }
  grep -q -- "$pattern" $name.err ||
    { cat $name.err >&2; fail "$name: message does not match '$pattern'"; }
  echo "$name: $(cat $name.err)"
}
corrupt () { cp "$1" "$2"; }

# vfat
head -c 20000 fat16.img > c-fat-trunc.img
expect c-fat-trunc "the FAT is beyond the end" c-fat-trunc.img
corrupt fat16.img c-fat-nofat.img; poke c-fat-nofat.img 22 0000; poke c-fat-nofat.img 36 00000000
expect c-fat-nofat "FAT size is 0" c-fat-nofat.img
corrupt fat16.img c-fat-rootents.img; poke c-fat-rootents.img 17 0102
expect c-fat-rootents "root directory entries" c-fat-rootents.img
corrupt fat16.img c-fat-total.img; poke c-fat-total.img 32 0a000000
expect c-fat-total "data area starts beyond" c-fat-total.img
corrupt fat16-s1.img c-fat-toomany.img
poke c-fat-toomany.img 19 0000; poke c-fat-toomany.img 22 2c01
poke c-fat-toomany.img 32 400d0300
expect c-fat-toomany "too many clusters" c-fat-toomany.img
corrupt fat32-small.img c-fat-rootclus.img; poke c-fat-rootclus.img 44 01000000
expect c-fat-rootclus "invalid cluster 1 in the root" c-fat-rootclus.img
root=$(le32 fat32-small.img 44)
foff=$(( $(le16 fat32-small.img 14) * 512 + 4 * root ))
corrupt fat32-small.img c-fat-rootloop.img; poke c-fat-rootloop.img $foff $(hex32 $root)
expect c-fat-rootloop "chain loops" c-fat-rootloop.img
corrupt fat32-small.img c-fat-rootfree.img; poke c-fat-rootfree.img $foff 00000000
expect c-fat-rootfree "reaches a free cluster" c-fat-rootfree.img
head -c 20M fat32-small.img > c-fat-fsinfo.img; poke c-fat-fsinfo.img 48 ffff
expect c-fat-fsinfo "FSINFO sector 65535" c-fat-fsinfo.img

# ntfs
mft=$(( $(le64 ntfs64.img 48) * cs )); mirr=$(( $(le64 ntfs64.img 56) * cs ))
head -c 1048576 ntfs64.img > c-ntfs-trunc.img
expect c-ntfs-trunc "larger than the device" c-ntfs-trunc.img
corrupt ntfs64.img c-ntfs-nosectors.img; poke c-ntfs-nosectors.img 40 0000000000000000
expect c-ntfs-nosectors "volume size is 0" c-ntfs-nosectors.img
corrupt ntfs64.img c-ntfs-mftlcn.img; poke c-ntfs-mftlcn.img 48 0000000000000010
expect c-ntfs-mftlcn "beyond the volume" c-ntfs-mftlcn.img
corrupt ntfs64.img c-ntfs-recsize.img; poke c-ntfs-recsize.img 64 03
expect c-ntfs-recsize "clusters per MFT record 3" c-ntfs-recsize.img
corrupt ntfs64.img c-ntfs-spc.img; poke c-ntfs-spc.img 13 03
expect c-ntfs-spc "3 sectors per cluster" c-ntfs-spc.img
corrupt ntfs64.img c-ntfs-reserved.img; poke c-ntfs-reserved.img 16 02
expect c-ntfs-reserved "reserved boot sector fields" c-ntfs-reserved.img
corrupt ntfs64.img c-ntfs-torn.img; poke c-ntfs-torn.img $((mft + 510)) 4242
expect c-ntfs-torn "record 0 has a bad update sequence" c-ntfs-torn.img
corrupt ntfs64.img c-ntfs-mirror.img; poke c-ntfs-mirror.img $((mirr + 1024 + 0x50)) 5a5a
expect c-ntfs-mirror "does not match" c-ntfs-mirror.img
# datarun REC: where the mapping pairs of record REC's $DATA start
datarun () {
  local a=$(( $1 + $(le16 ntfs64.img $(($1 + 20))) ))
  while [ $(le32 ntfs64.img $a) != $((0x80)) ]; do
    a=$((a + $(le32 ntfs64.img $((a + 4)))))
  done
  echo $((a + $(le16 ntfs64.img $((a + 32)))))
}
runs=$(datarun $mft)
corrupt ntfs64.img c-ntfs-runlist.img; poke c-ntfs-runlist.img $runs 0f
expect c-ntfs-runlist "corrupt runlist" c-ntfs-runlist.img
h=$(od -An -tu1 -j $runs -N1 ntfs64.img)
corrupt ntfs64.img c-ntfs-mftrun.img
poke c-ntfs-mftrun.img $((runs + (h & 15) + (h >> 4))) 7f
expect c-ntfs-mftrun "does not start at mft_lcn" c-ntfs-mftrun.img
# $Bitmap's data placed beyond the volume (its first LCN's top byte).
runs=$(datarun $((mft + 6 * recsize)))
h=$(od -An -tu1 -j $runs -N1 ntfs64.img)
[ $((h >> 4)) -ge 2 ] || fail "\$Bitmap's LCN has fewer than 2 bytes"
corrupt ntfs64.img c-ntfs-runbeyond.img
poke c-ntfs-runbeyond.img $((runs + (h & 15) + (h >> 4))) 7f
expect c-ntfs-runbeyond "run beyond the volume" c-ntfs-runbeyond.img
corrupt ntfs64.img c-ntfs-bitmaprec.img; poke c-ntfs-bitmaprec.img $((mft + 6 * recsize)) 58585858
expect c-ntfs-bitmaprec "record 6 is corrupt" c-ntfs-bitmaprec.img

# The fuzz targets replay the corpus and the smaller volumes.
timeout 600 "$run" ${GUESTKIT_TEST_VALGRIND:-} \
  "$abs_top_builddir/tests/fuzz-native-vfat" c-fat-*.img fat12*.img fat16-s1.img \
  fat32-small.img || fail "fuzz-native-vfat failed on the corpus"
timeout 600 "$run" ${GUESTKIT_TEST_VALGRIND:-} \
  "$abs_top_builddir/tests/fuzz-native-ntfs" c-ntfs-*.img ntfs64.img ntfs-c512.img \
  || fail "fuzz-native-ntfs failed on the corpus"

echo "$0: PASS"
