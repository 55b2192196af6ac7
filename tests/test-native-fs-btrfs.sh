#!/bin/bash -
# The native engine's btrfs against the appliance: for every image made
# here, statvfs after a read-only mount (guestfish statvfs) and the
# subvolumes list-filesystems shows must equal native-statvfs's output,
# field by field.  Then a corpus of corrupt images, each of which must
# give "unsure" or an error on one line, never a crash or a hang.
#
# The images that need a kernel (subvolumes, snapshots, files written and
# deleted, another default subvolume) are made by the appliance itself,
# in the same (single) launch that then mounts every image read-only.
set -euo pipefail
. "$abs_top_builddir/tests/functions.sh"

for p in mkfs.btrfs btrfs-map-logical guestfish python3 sfdisk; do
  command -v $p >/dev/null || skip "$p is not installed"
done

statvfs="$abs_top_builddir/tests/native-statvfs"
native () { timeout 120 "$run" ${GUESTKIT_TEST_VALGRIND:-} "$statvfs" "$@"; }
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
cd "$d"

# --- what to put in filesystems (mkfs.btrfs --rootdir)
mkdir -p root/dir/deep/deeper root/empty
head -c 20M /dev/urandom > root/random
head -c 3M < <(yes btrfs) > root/text
for i in $(seq 1 600); do echo "file $i" > root/dir/f$i; done
head -c 100k /dev/urandom > root/dir/deep/deeper/small
ln root/text root/dir/hardlink
ln -s ../text root/dir/symlink
truncate -s 50M root/sparse
mkdir -p bigroot
head -c 150M /dev/urandom > bigroot/big

# mk NAME SIZE [MKFS OPTIONS]
mk () {
  local name="$1" size="$2"; shift 2
  truncate -s "$size" "$name.img"
  mkfs.btrfs -q -f "$@" "$name.img" > /dev/null
}

host=(small mixed mixed-dup big single dup-data files files-4k n64k
      n64k-files nofst quota full)
mk small 256M
mk mixed 256M --mixed
mk mixed-dup 512M --mixed -d dup -m dup
mk big 2G
mk single 2G -d single -m single
mk dup-data 1G -d dup -m dup
mk files 512M --rootdir root
mk files-4k 512M -n 4096 --rootdir root
mk n64k 1G -n 65536
mk n64k-files 1G -n 65536 --rootdir root
mk nofst 512M -R ^free-space-tree
mk quota 512M -R quota
mk full 200M --rootdir bigroot
# Made by the appliance below (mkfs here, the rest there).
kern=(subvols default kwrite)
mk subvols 1G
mk default 256M
mk kwrite 512M -d dup -m dup
# The first copy of the root tree's block trashed (DUP metadata): the
# kernel, and we, read the second.
cp small.img mirror.img
rootbytenr=$(btrfs inspect-internal dump-super small.img | awk '$1 == "root" {print $2}')
mirror1=$(btrfs-map-logical -l "$rootbytenr" small.img | awk '/mirror 1/ {print $6}')
dd if=/dev/zero of=mirror.img bs=512 seek=$((mirror1 / 512)) count=8 conv=notrunc status=none
host+=(mirror)

# The test images' btrfs on an MBR partition, made by the appliance's
# mkfs, with a subvolume (tests/make-images.sh), if it is there.
mbr=
if [ -f "$images/btrfs.img" ]; then
  cp "$images/btrfs.img" mbr.img
  read -r mbr_start mbr_size < <(sfdisk --dump mbr.img |
    sed -n 's/.*start= *\([0-9]*\), size= *\([0-9]*\).*/\1 \2/p' | head -1)
  mbr="-o $((mbr_start * 512)) -s $((mbr_size * 512))"
fi

# --- the appliance: one launch
all=("${kern[@]}" "${host[@]}")
[ -z "$mbr" ] || all+=(mbr)
letters=(a b c d e f g h i j k l m n o p q r s t u v w x y z)
declare -A dev
{
  i=0
  for n in "${all[@]}"; do
    dev[$n]=/dev/sd${letters[$i]}
    case " ${kern[*]} " in
      *" $n "*) echo "add $n.img format:raw" ;;
      *) echo "add $n.img readonly:true format:raw" ;;
    esac
    i=$((i + 1))
  done
  [ -z "$mbr" ] || dev[mbr]=${dev[mbr]}1
  echo run
  # Subvolumes, nested ones (in a directory, in a subvolume, in a
  # directory of a nested subvolume), a snapshot, files.
  s=${dev[subvols]}
  cat <<EOF
mount $s /
btrfs-subvolume-create /sub1
write /sub1/file "in sub1\n"
mkdir-p /dir/deeper
btrfs-subvolume-create /dir/deeper/sub2
btrfs-subvolume-create /sub1/nested
mkdir /sub1/nested/inner
btrfs-subvolume-create /sub1/nested/inner/leaf
fill 0x41 3000000 /sub1/nested/inner/leaf/data
btrfs-subvolume-snapshot /sub1 /snap-of-sub1
btrfs-subvolume-create "/with space"
fallocate64 /dir/big 40000000
umount-all
mount ${dev[default]} /
btrfs-subvolume-create /dflt
btrfs-subvolume-create /other
btrfs-subvolume-set-default 256 /
umount-all
mount ${dev[kwrite]} /
fill 0x42 30000000 /kept
fill 0x43 40000000 /deleted
mkdir /d
fill 0x44 100000 /d/small
sync
rm /deleted
umount-all
EOF
  for n in "${all[@]}"; do
    echo "echo ==== $n"
    echo "mount-ro ${dev[$n]} /"
    echo "statvfs /"
    echo "umount-all"
  done
  # A subvolume shows its device's numbers (virt-df relies on it).
  echo "echo ==== subvol-sub1"
  echo "mount-options ro,subvol=sub1/nested ${dev[subvols]} /"
  echo "statvfs /"
  echo "umount-all"
  echo "echo ==== list-filesystems"
  echo "list-filesystems"
} > script.gf

timeout 1500 env $(reference_env) guestfish -f script.gf > ref.out 2> ref.err ||
  { cat ref.err >&2; fail "guestfish failed"; }

# The appliance's block for NAME (statvfs lines).
ref_block () {
  awk -v n="==== $1" '$0 == n {on = 1; next} /^==== / {on = 0} on' ref.out
}

n=0 fields=0
for name in "${all[@]}"; do
  opts=
  [ "$name" != mbr ] || opts=$mbr
  ref_block "$name" > "$name.ref"
  [ "$(grep -c '' "$name.ref")" -eq 11 ] || { cat "$name.ref" >&2; fail "$name: no statvfs from the appliance"; }
  # The subvolumes list-filesystems shows after the device.
  # (Taken as the btrfsvol: lines after the device's own line: the
  # appliance may name them after another device, see compare_virt_df.)
  awk -v d="${dev[$name]}: btrfs" '
    $0 == d {on = 1; next}
    on && /^btrfsvol:/ {sub(/^btrfsvol:\/dev\/[a-z]+[0-9]*\//, ""); sub(/: btrfs$/, "");
                        print "subvolume: " $0; next}
    {on = 0}' ref.out >> "$name.ref"
  rc=0
  native $opts "$name.img" > "$name.out" 2> "$name.err" || rc=$?
  if [ "$name" = default ]; then
    # Another default subvolume: its statvfs is known, its subvolume
    # list (relative to it) is not.
    [ $rc -eq 2 ] && grep -q "default subvolume is 256" "$name.err" ||
      { cat "$name.err" >&2; fail "$name: exit $rc, expected unsure"; }
    grep -v '^subvolume: ' "$name.ref" > "$name.ref2"; mv "$name.ref2" "$name.ref"
  elif [ $rc -ne 0 ]; then
    cat "$name.err" >&2
    fail "$name: native-statvfs exit status $rc"
  fi
  grep -q '^vfs-type: btrfs$' "$name.out" || fail "$name: not probed as btrfs"
  grep -v '^vfs-type: ' "$name.out" > "$name.mine"
  same "$name.ref" "$name.mine" "$name"
  n=$((n + 1)); fields=$((fields + $(grep -c '' "$name.ref")))
done
# The test must see what it claims to cover.
grep -q '^subvolume: sub1/nested/inner/leaf$' subvols.mine || fail "no nested subvolume"
grep -q '^subvolume: snap-of-sub1$' subvols.mine || fail "no snapshot"
grep -q '^subvolume: dir/deeper/sub2$' subvols.mine || fail "no subvolume in a directory"
grep -q '^blocks: 0$\|^bsize: 65536' n64k.mine && fail "n64k: odd"
[ "$(sed -n 's/^bavail: //p' small.mine)" -gt 0 ] || fail "small: bavail 0"

# A subvolume mounted shows the numbers of its device (but its own fsid,
# and rw flags for mount-options).
ref_block subvol-sub1 | grep -E '^(bsize|frsize|blocks|bfree|bavail|files|ffree|favail|namemax):' > sv.ref
grep -E '^(bsize|frsize|blocks|bfree|bavail|files|ffree|favail|namemax):' subvols.mine > sv.mine
same sv.ref sv.mine "a subvolume's statvfs"

echo "$0: $n images, $fields fields and subvolumes equal to the appliance's"

# --- unsure and errors: exit 2 or 1, one line on stderr
# expect NAME STATUS PATTERN IMAGE
expect () {
  local name="$1" want="$2" pattern="$3" img="$4"
  local rc=0 lines
  native "$img" > "$name.out" 2> "$name.err" || rc=$?
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

# Two devices.
truncate -s 256M two-a.img two-b.img
mkfs.btrfs -q -f -d single -m raid1 two-a.img two-b.img > /dev/null
expect two-a 2 "2 devices" two-a.img
expect two-b 2 "2 devices" two-b.img

# Corruption: poke bytes, then (re)compute the checksum of the superblock
# or of a tree block, so that the checks behind the checksum are reached.
# poke IMG OFFSET FORMAT VALUE (python struct format, little-endian)
poke () {
  python3 - "$@" <<'PY'
import struct, sys
img, off, fmt, val = sys.argv[1], int(sys.argv[2], 0), sys.argv[3], int(sys.argv[4], 0)
with open(img, "r+b") as f:
    f.seek(off); f.write(struct.pack("<" + fmt, val))
PY
}
# csum IMG OFFSET SIZE: crc32c of [OFFSET+32, OFFSET+SIZE) at OFFSET
csum () {
  python3 - "$@" <<'PY'
import struct, sys
img, off, size = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3], 0)
def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff
with open(img, "r+b") as f:
    f.seek(off + 32); data = f.read(size - 32)
    f.seek(off); f.write(struct.pack("<I", crc32c(data)) + bytes(28))
PY
}
sb=65536
sbpoke () { cp small.img "$1.img"; poke "$1.img" $((sb + $2)) "$3" "$4"; csum "$1.img" $sb 4096; }
# The physical copies of the tree block at a logical address.
copies () { btrfs-map-logical -l "$2" "$1" | awk '/^mirror/ {print $6}'; }
# blkpoke NAME SRC LOGICAL OFFSET FORMAT VALUE: in every copy, recomputing
# its checksum.
blkpoke () {
  local name="$1" src="$2" logical="$3" off="$4" fmt="$5" val="$6" p
  local ns; ns=$(btrfs inspect-internal dump-super "$src" | awk '$1 == "nodesize" {print $2}')
  cp "$src" "$name.img"
  for p in $(copies "$src" "$logical"); do
    poke "$name.img" $((p + off)) "$fmt" "$val"
    csum "$name.img" "$p" "$ns"
  done
}
super_field () { btrfs inspect-internal dump-super "$1" | awk -v f="$2" '$1 == f {print $2}'; }

head -c 100M small.img > c-trunc.img
expect c-trunc 2 "beyond" c-trunc.img
head -c 69000 small.img > c-trunc-sb.img
expect c-trunc-sb 2 "too small" c-trunc-sb.img
cp small.img c-sbcsum.img; poke c-sbcsum.img $((sb + 0x12b)) B 0x41
expect c-sbcsum 2 "bad superblock checksum" c-sbcsum.img
sbpoke c-sectorsize 0x90 I 0x10000
expect c-sectorsize 2 "sectorsize 65536" c-sectorsize.img
sbpoke c-nodesize 0x94 I 3
expect c-nodesize 2 "nodesize 3" c-nodesize.img
sbpoke c-total 0x70 Q 0x7ffffffffffff000
expect c-total 2 "total_bytes" c-total.img
sbpoke c-ndev 0x88 Q 0
expect c-ndev 2 "0 devices" c-ndev.img
sbpoke c-log 0x60 Q 0x1000000
expect c-log 2 "log tree" c-log.img
sbpoke c-incompat 0xbc Q 0x2341
expect c-incompat 2 "incompat features 0x2000" c-incompat.img
sbpoke c-bgtree 0xb4 Q 0xb
expect c-bgtree 2 "compat_ro features 0x8" c-bgtree.img
sbpoke c-csumtype 0xc4 H 1
expect c-csumtype 2 "checksum type 1" c-csumtype.img
sbpoke c-level 0xc6 B 9
expect c-level 2 "root level 9" c-level.img
sbpoke c-sysarray 0xa0 I 4000
expect c-sysarray 2 "sys_chunk_array_size 4000" c-sysarray.img
sbpoke c-sysarray-short 0xa0 I 80
expect c-sysarray-short 2 "sys_chunk_array truncated" c-sysarray-short.img
chunkroot=$(super_field small.img chunk_root)
sbpoke c-chunkroot 0x58 Q "$rootbytenr"
expect c-chunkroot 2 "tree block $rootbytenr" c-chunkroot.img
sbpoke c-rootnowhere 0x50 Q 0x7fff0000000
expect c-rootnowhere 2 "is in no chunk" c-rootnowhere.img
# Both copies of the root tree's block trashed.
cp mirror.img c-root-both.img
m2=$(btrfs-map-logical -l "$rootbytenr" small.img | awk '/mirror 2/ {print $6}')
dd if=/dev/zero of=c-root-both.img bs=512 seek=$((m2 / 512)) count=8 conv=notrunc status=none
expect c-root-both 2 "bad checksum" c-root-both.img
# Tree blocks whose checksums are right: absurd item counts, an item out
# of the block, the device larger than the image.
blkpoke c-nritems small.img "$rootbytenr" 0x60 I 100000
expect c-nritems 2 "bad number of items" c-nritems.img
blkpoke c-itemoff small.img "$rootbytenr" $((101 + 17)) I 0xfffff000
expect c-itemoff 2 "item out of bounds" c-itemoff.img
blkpoke c-keyorder small.img "$rootbytenr" $((101 + 25)) Q 0
expect c-keyorder 2 "keys out of order" c-keyorder.img
# The device item (the chunk tree's first item): total_bytes far beyond.
p=$(copies small.img "$chunkroot" | head -1)
off=$(python3 -c "
import struct
f = open('small.img', 'rb'); f.seek($p + 101 + 17)
print(struct.unpack('<I', f.read(4))[0] + 101 + 8)")
blkpoke c-devtotal small.img "$chunkroot" "$off" Q 0x100000000000
expect c-devtotal 2 "device total_bytes" c-devtotal.img
# A tree with internal nodes (the extent tree of files-4k): in its root
# node, the pointer to a child that holds a block group item (read to
# find it) made to point to the node itself (a loop), then to another
# child (a block reached twice).
btrfs inspect-internal dump-tree -t extent files-4k.img > ext.dump
read -r ext child other < <(python3 - <<'PY'
import re
lines = open("ext.dump").read().splitlines()
root = None; keys = []; bgs = []
for l in lines:
    m = re.match(r"node (\d+) level (\d+)", l)
    if m and root is None:
        root = m.group(1); inroot = True; continue
    elif re.match(r"(node|leaf) \d+ (level|items) ", l):
        inroot = False
    m = re.match(r"\s+key \((\d+) \S+ \d+\) block (\d+)", l)
    if m and root and inroot:
        keys.append((int(m.group(1)), m.group(2)))
    m = re.search(r"key \((\d+) BLOCK_GROUP_ITEM", l)
    if m:
        bgs.append(int(m.group(1)))
i = max(j for j, (k, _) in enumerate(keys) if k <= bgs[-1])
print(root, i, i - 1 if i > 0 else 1)
PY
)
[ -n "$ext" ] && [ -n "$child" ] || fail "files-4k: the extent tree has no internal node"
blkpoke c-loop files-4k.img "$ext" $((101 + 33 * child + 17)) Q "$ext"
expect c-loop 2 "tree block $ext: wrong level" c-loop.img
p=$(copies files-4k.img "$ext" | head -1)
p0=$(python3 -c "
import struct
f = open('files-4k.img', 'rb'); f.seek($p + 101 + 33 * $other + 17)
print(struct.unpack('<Q', f.read(8))[0])")
blkpoke c-dupchild files-4k.img "$ext" $((101 + 33 * child + 17)) Q "$p0"
expect c-dupchild 2 "first key does not match\|wrong generation" c-dupchild.img

# The fuzz target replays the whole corpus, good and corrupt.
timeout 600 "$run" ${GUESTKIT_TEST_VALGRIND:-} \
  "$abs_top_builddir/tests/fuzz-native-btrfs" c-*.img small.img mixed.img \
  files-4k.img subvols.img || fail "fuzz-native-btrfs failed on the corpus"

echo "$0: PASS"
