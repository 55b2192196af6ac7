#!/bin/bash -
# The native engine's xfs statvfs against the appliance's kernel: every
# image made here (mkfs.xfs with many feature and geometry choices, some
# then written by the appliance's kernel so that the free space btrees
# grow and a small log wraps round) is mounted read-only in ONE
# appliance, and each statvfs field must equal native-statvfs's (fsid
# excepted: xfs derives it from the device number).  Then images the
# mount would not take as they are (dirty log, realtime, big blocks) and
# a corrupt corpus: native-statvfs must say "unsure" or fail in one
# line, never crash nor hang.
set -euo pipefail
. "$abs_top_builddir/tests/functions.sh"

for p in mkfs.xfs xfs_db guestfish python3; do
  command -v $p >/dev/null || skip "$p is not installed"
done

statvfs="$abs_top_builddir/tests/native-statvfs"
d="$(mktemp -d)"
if [ -z "${GUESTKIT_TEST_KEEP:-}" ]; then trap 'rm -rf "$d"' EXIT; else echo "keeping $d"; fi
cd "$d"

native () { timeout 120 "$run" ${GUESTKIT_TEST_VALGRIND:-} "$statvfs" "$@"; }

# The appliance's name of the n-th disk (from 0): sda ... sdz, sdaa ...
dev () {
  local n=$1 l=abcdefghijklmnopqrstuvwxyz
  if [ $n -lt 26 ]; then echo /dev/sd${l:n:1}
  else echo /dev/sd${l:n/26-1:1}${l:n%26:1}; fi
}

# mk NAME SIZE [MKFS.XFS OPTIONS]: a sparse image with a labelled xfs.
# With tiny=1, mkfs.xfs lets us below its limits (300 MiB, a 64 MiB log,
# 2 AGs) as it does for the kernel's own test suite (fstests).
names=()
tiny=
mk () {
  local name="$1" size="$2"; shift 2
  truncate -s "$size" "$name.img"
  ${tiny:+env TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1} \
    mkfs.xfs -q -f -L "$name" "$@" "$name.img" > /dev/null 2> mkfs.err ||
    { cat mkfs.err >&2; fail "$name: mkfs.xfs $* failed"; }
  names+=("$name")
}

# A prototype file: directories, files of many sizes, symlinks, a fifo.
mkdir -p src/a/b src/c
for i in $(seq 1 300); do head -c $((i * 97)) /dev/urandom > src/a/f$i; done
for i in $(seq 1 200); do : > src/c/empty$i; done
head -c 5M /dev/urandom > src/a/b/big
ln -s a/f1 src/link
cat > proto <<EOF
/dev/null
0 0
d--755 0 0
EOF
python3 - "$d/src" >> proto <<'EOF'
import os, sys
def walk(p, depth):
    for n in sorted(os.listdir(p)):
        q = os.path.join(p, n); ind = ' ' * depth
        if os.path.islink(q):
            print(f"{ind}{n} l--777 0 0 {os.readlink(q)}")
        elif os.path.isdir(q):
            print(f"{ind}{n} d--755 0 0"); walk(q, depth + 1); print(f"{ind}$")
        else:
            print(f"{ind}{n} ---644 0 0 {q}")
walk(sys.argv[1], 1)
print("$")
EOF

# --- made by mkfs.xfs alone
mk def 300M                                   # reflink, finobt, inobtcount
mk noreflink 300M -m reflink=0
mk rmap 300M -m reflink=1,rmapbt=1
mk rmap-norefl 300M -m reflink=0,rmapbt=1
mk nofinobt 300M -m finobt=0,reflink=0        # no AGF read by the mount
mk noinobtcnt 300M -m inobtcount=0,bigtime=0
mk v4 300M -m crc=0
mk v4-1k 300M -m crc=0 -b size=1024
mk maxpct0 300M                               # mkfs makes maxpct=0 25:
xfs_db -x -c sb -c 'write -d imax_pct 0' maxpct0.img >/dev/null  # no limit
mk maxpct1 300M -i maxpct=1
mk maxpct100 300M -i maxpct=100
mk isize2k 300M -i size=2048
tiny=1
mk ag1 300M -d agcount=1
mk small 40M
mk small-v4 20M -m crc=0
mk smalllog 300M -l size=1368b
tiny=
mk ag16 2G -d agcount=16
mk b1k 300M -b size=1024
mk b1k-rmap 300M -b size=1024 -m rmapbt=1
mk b2k 400M -b size=2048
mk sect4k 300M -s size=4096
mk stripe 600M -d su=64k,sw=4
mk logsu 300M -l su=256k
mk big20g 20G
mk big100g 100G -d agcount=7
mk proto 300M -p proto
mk proto-v4 300M -m crc=0 -p proto
mk proto-maxpct 300M -i maxpct=1 -p proto

# --- written by the appliance's kernel (one read-write session): many
# files, then every other one deleted, so that the free space btrees
# split (agf_btreeblks > 0); the v4 one with the smallest log, churned
# until the log wraps round.
kern=(frag frag-rmap frag-nofin frag-v4 frag-1k full)
mk frag 300M
mk frag-rmap 300M -m rmapbt=1
mk frag-nofin 300M -m finobt=0,reflink=0
tiny=1 mk frag-v4 300M -m crc=0 -l size=854b
mk frag-1k 300M -b size=1024
mk full 300M -m rmapbt=1              # written until ENOSPC
# A dirty log: the kernel shuts the filesystem down before unmounting.
truncate -s 300M dirty.img
mkfs.xfs -q -f -L dirty dirty.img

fill='cd /sysroot && i=0 && while [ $i -lt 3000 ]; do printf %9000s x > f$i; i=$((i+1)); done && sync && rm -f f*[02468] && sync'
churn='cd /sysroot && for r in 1 2 3 4 5 6; do i=0; while [ $i -lt 1500 ]; do : > g$i; i=$((i+1)); done; rm -f g*; done; sync'
full='cd /sysroot && { head -c 400M /dev/zero > big || true; } && sync'
{
  echo run
  n=0
  for name in "${kern[@]}"; do
    dev=$(dev $n)
    echo "mount $dev /"
    echo "debug sh \"$fill\""
    [ $name = frag-v4 ] && echo "debug sh \"$churn\""
    [ $name = full ] && echo "debug sh \"$full\""
    echo "umount-all"
    n=$((n + 1))
  done
  dev=$(dev $n)
  echo "mount $dev /"
  echo "debug sh \"$fill\""
  echo "debug sh \"xfs_io -x -c 'shutdown' /sysroot\""
  echo "-umount-all"
} > rw.fish
args=()
for name in "${kern[@]}" dirty; do args+=(-a "$name.img"); done
ref guestfish --rw --format=raw "${args[@]}" -f rw.fish > rw.out 2>&1 ||
  { cat rw.out >&2; fail "the read-write appliance session failed"; }

# --- the reference: one read-only appliance for every image
{
  echo run
  n=0
  for name in "${names[@]}"; do
    dev=$(dev $n)
    echo "echo ==$name"
    echo "vfs-label $dev"
    echo "mount-ro $dev /"
    echo "statvfs /"
    echo "umount-all"
    n=$((n + 1))
  done
} > ro.fish
args=()
for name in "${names[@]}"; do args+=(-a "$name.img"); done
gpt=
if [ -f "$images/xfs-gpt.img" ]; then
  gpt="$images/xfs-gpt.img"
  args+=(-a "$gpt")
  dev=$(dev ${#names[@]})1
  printf 'echo ==xfs-gpt\necho xfs-gpt\nmount-ro %s /\nstatvfs /\numount-all\n' \
    $dev >> ro.fish
fi
ref guestfish --ro --format=raw "${args[@]}" -f ro.fish > ro.out 2> ro.err ||
  { cat ro.err >&2; fail "the read-only appliance session failed"; }

# Split the reference by image; the label proves the disk order.
awk '/^==/ { f = substr($0, 3) ".ref"; next } { print > f }' ro.out

compared=0
check () {
  local name="$1"; shift
  [ "$(head -n1 $name.ref)" = "$name" ] ||
    fail "$name: the appliance's disk order is not ours ($(head -n1 $name.ref))"
  # fsid is the device number for xfs: not compared.
  tail -n +2 $name.ref | grep -v '^fsid:' > $name.want
  local rc=0
  native "$@" > $name.out 2> $name.err || rc=$?
  if [ $rc -ne 0 ]; then
    cat $name.err >&2
    fail "$name: native-statvfs exit status $rc"
  fi
  grep -q '^vfs-type: xfs$' $name.out || fail "$name: not probed as xfs"
  grep -v '^vfs-type:\|^fsid:' $name.out > $name.got
  same $name.want $name.got "$name"
  compared=$((compared + $(wc -l < $name.want)))
}
for name in "${names[@]}"; do check $name $name.img; done
if [ -n "$gpt" ]; then
  start=$(sfdisk -d "$gpt" | sed -n 's/.*start= *\([0-9]*\),.*/\1/p' | head -n1)
  size=$(sfdisk -d "$gpt" | sed -n 's/.*size= *\([0-9]*\),.*/\1/p' | head -n1)
  check xfs-gpt -o $((start * 512)) -s $((size * 512)) "$gpt"
fi
echo "compared $compared fields of ${#names[@]} images${gpt:+ + xfs-gpt}"

# --- unsure and errors: exit 2 or 1, one line on stderr
bad () {
  local name="$1" want="$2" img="$3"
  local rc=0
  native "$img" > $name.out 2> $name.err || rc=$?
  if [ $rc -ne $want ]; then
    cat $name.out $name.err >&2
    fail "$name: exit status $rc, expected $want"
  fi
  [ "$(wc -l < $name.err)" -eq 1 ] || { cat $name.err >&2; fail "$name: not one line on stderr"; }
}
bad dirty 2 dirty.img
grep -q 'log is not provably clean' dirty.err || fail "dirty: $(cat dirty.err)"

truncate -s 300M rt.img rtdev.img
mkfs.xfs -q -f -r rtdev="$d/rtdev.img",size=100m rt.img 2>/dev/null &&
  bad realtime-ext 2 rt.img           # external realtime device
truncate -s 300M extlog.img logdev.img
mkfs.xfs -q -f -l logdev="$d/logdev.img",size=64m extlog.img
bad extlog 2 extlog.img
mk b64k 600M -b size=65536
bad b64k 2 b64k.img                   # over the page size: no mount

# The corrupt corpus, from copies of def.img (4 AGs of 19200 blocks,
# AGFs at 512 + n * 19200 * 4096) and v4.img.  xfs_db rewrites the
# superblock's CRC, so a bad value is not caught by the CRC alone.
corrupt () {
  local name="$1" src="$2"; shift 2
  cp --sparse=always $src.img $name.img
  xfs_db -x "$@" $name.img >/dev/null 2>&1
}
poke () {   # poke IMG OFFSET HEXBYTES: write raw bytes
  printf "$(echo $3 | sed 's/\(..\)/\\x\1/g')" |
    dd of=$1 bs=1 seek=$2 conv=notrunc status=none
}
corrupt c-blocksize def -c sb -c "write -d blocksize 3000"
corrupt c-blocklog def -c sb -c "write -d blocklog 31"
corrupt c-dblocks def -c sb -c "write -d dblocks 999999999999"
corrupt c-agcount def -c sb -c "write -d agcount 4000000000"
corrupt c-agblocks0 def -c sb -c "write -d agblocks 0"
corrupt c-fdblocks def -c sb -c "write -d fdblocks 99999999"
corrupt c-icount def -c sb -c "write -d icount 999999999999"
corrupt c-ifree def -c sb -c "write -d ifree 100000"
corrupt c-inopblock def -c sb -c "write -d inopblock 0"
corrupt c-logstart def -c sb -c "write -d logstart 999999999"
corrupt c-logblocks def -c sb -c "write -d logblocks 0"
corrupt c-imaxpct def -c sb -c "write -d imax_pct 200"
corrupt c-feature def -c sb -c "write -d features_incompat 1024"
corrupt c-rocompat def -c sb -c "write -d features_ro_compat 4096"
corrupt c-v4-version v4 -c sb -c "write -d versionnum 3"
corrupt c-agf-btree def -c "agf 1" -c "write -d btreeblks 4000000000"
corrupt c-agf-magic def -c "agf 2" -c "write -d magicnum 0"
for n in blocksize blocklog dblocks agcount agblocks0 fdblocks icount ifree \
         inopblock logstart logblocks imaxpct feature rocompat v4-version \
         agf-btree agf-magic; do
  bad c-$n 2 c-$n.img
done
# Raw damage with no CRC fixed up: a flipped superblock bit, a flipped
# AGF byte, a log record header smashed, the log zeroed.
cp --sparse=always def.img c-sbflip.img; poke c-sbflip.img 9 ff
bad c-sbflip 2 c-sbflip.img
cp --sparse=always def.img c-agfflip.img; poke c-agfflip.img $((512 + 19200 * 4096 + 60)) 7f
bad c-agfflip 2 c-agfflip.img
# logbyte IMG: the byte offset of the internal log.
logbyte () {
  local fsb
  fsb=$(xfs_db -r -c sb -c 'p logstart' $1 | awk '{print $3}')
  xfs_db -r -c "convert fsb $fsb byte" $1 | sed 's/.*(\([0-9]*\)).*/\1/'
}
logoff=$(logbyte def.img)
cp --sparse=always def.img c-loghdr.img; poke c-loghdr.img $logoff 00000000
bad c-loghdr 2 c-loghdr.img
cp --sparse=always def.img c-logzero.img
dd if=/dev/zero of=c-logzero.img bs=4096 seek=$((logoff / 4096)) count=16 conv=notrunc status=none
bad c-logzero 2 c-logzero.img
# A block before the head of the wrapped log back at the previous cycle
# (an out-of-order write: the kernel moves the head back to it).
head=$(xfs_logprint -t frag-v4.img 2>/dev/null | sed -n 's/.*head: \([0-9]*\).*/\1/p')
[ "$head" -gt 200 ] || fail "frag-v4: log head $head"
cp --sparse=always frag-v4.img c-logmid.img
poke c-logmid.img $(( $(logbyte frag-v4.img) + (head - 100) * 512)) 00000001
bad c-logmid 2 c-logmid.img
# Truncated devices: a filesystem larger than its device; nothing at all.
head -c 100M def.img > c-short.img
bad c-short 2 c-short.img
head -c 300 def.img > c-tiny.img
bad c-tiny 2 c-tiny.img
