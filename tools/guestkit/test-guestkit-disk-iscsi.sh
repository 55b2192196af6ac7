#!/bin/bash -
# Block-level access to iscsi volumes (gk_disk_open_volume, through
# tests/disk-tool), against a private tgtd on 127.0.0.1: the LUNs'
# backing files are the reference.  Covered: reads, writes and zeroing at
# unaligned offsets on LUNs of 512- and 4096-byte blocks (partial blocks,
# requests split over several commands), full reads, extents (GET LBA
# STATUS on a thin-provisioned LUN against the backing file's own
# allocation map; all data on a thick one), WRITE SAME with UNMAP giving
# the space back, a CHAP target, and the one-line refusals (checkpoints,
# writes to a read-only disk).
set -e
. "$abs_top_builddir/tests/functions.sh"

# Not the portal and control port of test-guestkit-iscsi.sh: both may
# run at once.
port=3263
ctl=8
iqn=iqn.2026-11.org.guestkit.test:disk
chap_iqn=iqn.2026-11.org.guestkit.test:disk-chap
user=gkuser
secret="s3cret-$RANDOM-$RANDOM"

tgtd=$(command -v tgtd || true)
[ -x /usr/sbin/tgtd ] && tgtd=/usr/sbin/tgtd
[ -n "$tgtd" ] || fail "tgtd is missing: scripts/setup.sh installs it (package tgt)"
tgtadm=$(command -v tgtadm || echo /usr/sbin/tgtadm)
tool="$abs_top_builddir/tests/disk-tool"
[ -x "$tool" ] || make -C "$abs_top_builddir/tests" disk-tool > /dev/null
[ -x "$abs_top_builddir/tests/.libs/disk-tool" ] || fail "tests/.libs/disk-tool was not built"

d="$(mktemp -d)"
tgtd_pid=
trap '[ -z "$tgtd_pid" ] || stop_pid "$tgtd_pid" 10; rm -rf "$d"' EXIT
export GUESTKIT_STATE_DIR="$(mktemp -d -p "$d")"
g () { ours guestkit "$@"; }
dt () { ours "$abs_top_builddir/tests/.libs/disk-tool" "$@"; }
adm () { "$tgtadm" -C $ctl --lld iscsi "$@"; }
M=$((1 << 20))
# A refusal: exit status 1 and exactly one line on stderr containing $1.
refused () {
  local pattern="$1"; shift
  local rc=0
  dt "$@" > /dev/null 2> "$d/err" || rc=$?
  [ "$rc" = 1 ] || fail "disk-tool $*: exit status $rc, expected 1 ($(cat "$d/err"))"
  [ "$(wc -l < "$d/err")" = 1 ] || fail "disk-tool $*: not one line: $(cat "$d/err")"
  grep -qF -- "$pattern" "$d/err" || fail "disk-tool $*: message: $(cat "$d/err")"
  echo "ok: refused: $(cat "$d/err")"
}
# The data ranges of a file (SEEK_DATA/SEEK_HOLE), or of extents lines
# ("OFF LEN TYPE", which must cover [0, SIZE) in order), merged.
file_map () {
  python3 - "$1" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size, pos = os.fstat(fd).st_size, 0
while pos < size:
    try:
        s = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError:
        break
    e = os.lseek(fd, s, os.SEEK_HOLE)
    print(s, e)
    pos = e
PY
}
extents_map () {
  python3 - "$1" "$2" <<'PY' || fail "extents of $2 bytes: $(cat "$1")"
import sys
out, pos = [], 0
for line in open(sys.argv[1]):
    off, n, t = line.split()
    off, n = int(off), int(n)
    assert off == pos, "not contiguous at %d" % off
    assert t in ("data", "hole"), t
    pos = off + n
    if t != "data":
        continue
    if out and out[-1][1] == off:
        out[-1][1] = off + n
    else:
        out.append([off, off + n])
assert pos == int(sys.argv[2]), "covers %d bytes" % pos
for s, e in out:
    print(s, e)
PY
}

# LUN 1: thick, 512-byte blocks; LUN 2: thin (GET LBA STATUS, WRITE SAME
# with UNMAP), not a multiple of 4096; LUN 3: 4096-byte blocks.  All
# start sparse, with a little data.
size1=$((64 * M))
size2=$((16 * M + 512))
size3=$((8 * M))
truncate -s $size1 "$d/lun1"
truncate -s $size2 "$d/lun2"
truncate -s $size3 "$d/lun3"
truncate -s $((4 * M)) "$d/lun4"
for f in lun1 lun2 lun3 lun4; do
  head -c 70000 /dev/urandom | dd of="$d/$f" bs=4096 seek=100 conv=notrunc status=none
done

t0=$(date +%s)
"$tgtd" -f -C $ctl --iscsi portal=127.0.0.1:$port > "$d/tgtd.log" 2>&1 &
tgtd_pid=$!
disown "$tgtd_pid"         # no "Killed" message from bash at the end
for i in $(seq 50); do
  adm --mode target --op show > /dev/null 2>&1 && break
  sleep 0.1
done
kill -0 "$tgtd_pid" || fail "tgtd did not start: $(cat "$d/tgtd.log")"
adm --mode target --op new --tid 1 --targetname $iqn
adm --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$d/lun1"
adm --mode logicalunit --op new --tid 1 --lun 2 --backing-store "$d/lun2"
adm --mode logicalunit --op update --tid 1 --lun 2 --params thin_provisioning=1
adm --mode logicalunit --op new --tid 1 --lun 3 --backing-store "$d/lun3" --blocksize=4096
adm --mode target --op bind --tid 1 --initiator-address ALL
adm --mode target --op new --tid 2 --targetname $chap_iqn
adm --mode logicalunit --op new --tid 2 --lun 1 --backing-store "$d/lun4"
adm --mode target --op bind --tid 2 --initiator-address ALL
adm --mode account --op new --user $user --password "$secret"
adm --mode account --op bind --tid 2 --user $user
adm --mode target --op show | grep -q "Block size: 4096" || fail "LUN 3 does not have 4096-byte blocks"
g pool-define-as p iscsi --source-host 127.0.0.1:$port --source-path $iqn > /dev/null
g pool-start p > /dev/null
echo "ok: tgtd (pid $tgtd_pid) on 127.0.0.1:$port"

# Sizes, and full reads equal to the backing files.
for l in 1:$size1 2:$size2 3:$size3; do
  n=${l%%:*}
  [ "$(dt --vol p/unit:0:0:$n size)" = ${l#*:} ] || fail "LUN $n: size"
  dt --vol p/unit:0:0:$n cat > "$d/cat"
  cmp "$d/cat" "$d/lun$n" || fail "LUN $n: cat differs from the backing file"
  dt --vol p/unit:0:0:$n cat | cmp - "$d/lun$n" || fail "LUN $n: cat to a pipe differs"
done
echo "ok: sizes, cat as the backing files"

# Writes, zeroing and reads at unaligned offsets, against a local copy:
# partial first and last blocks, several commands (more than 1 MiB), the
# very end of the LUN.
head -c 3000 /dev/urandom > "$d/w1"
head -c $((3 * M + 5)) /dev/urandom > "$d/w2"
for n in 1 2 3; do
  eval size=\$size$n
  cp "$d/lun$n" "$d/ref"
  put () {
    dt --rw --vol p/unit:0:0:$n write $1 < "$2"
    dd if="$2" of="$d/ref" bs=1M oflag=seek_bytes seek=$1 conv=notrunc status=none
  }
  put 4095 "$d/w1"
  put $((M + 1)) "$d/w2"
  put 0 "$d/w1"
  put $((size - 3000)) "$d/w1"
  put $((size - 3 * M - 4101)) "$d/w2"
  cmp "$d/lun$n" "$d/ref" || fail "LUN $n: writes differ from the local copy"
  for z in 7:1 4100:30000 $((M - 9)):$((2 * M + 20)) $((5 * M)):$((3 * M)) $((size - 100)):100; do
    off=${z%%:*} len=${z#*:}
    [ $((off + len)) -le $size ] || continue
    dt --rw --vol p/unit:0:0:$n zero $off $len
    dd if=/dev/zero of="$d/ref" bs=1M oflag=seek_bytes seek=$off iflag=count_bytes count=$len conv=notrunc status=none
  done
  cmp "$d/lun$n" "$d/ref" || fail "LUN $n: zeroing differs from the local copy"
  for r in 0:1 511:2 4095:4098 $((M - 3)):$((2 * M + 7)) $((size - 1)):1; do
    off=${r%%:*} len=${r#*:}
    dt --vol p/unit:0:0:$n read $off $len > "$d/piece"
    cmp "$d/piece" <(tail -c +$((off + 1)) "$d/ref" | head -c $len) || fail "LUN $n: read $off $len"
  done
  dt --rw --vol p/unit:0:0:$n flush
  echo "ok: LUN $n: writes, zeroing and reads at unaligned offsets"
done

# Extents.  A thick LUN: all data.  The thin one: GET LBA STATUS, which
# tgt answers from its backing file's allocation (SEEK_DATA/SEEK_HOLE).
[ "$(dt --vol p/unit:0:0:1 extents)" = "0 $size1 data" ] || fail "LUN 1 extents: $(dt --vol p/unit:0:0:1 extents)"
dt --vol p/unit:0:0:2 extents > "$d/ext"
grep -q hole "$d/ext" || fail "LUN 2 (thin) has no holes: $(cat "$d/ext")"
[ "$(extents_map "$d/ext" $size2)" = "$(file_map "$d/lun2")" ] ||
  fail "LUN 2 extents $(extents_map "$d/ext" $size2 | tr '\n' ' ') differ from the backing file's map $(file_map "$d/lun2" | tr '\n' ' ')"
# Zeroing aligned blocks unmaps them (WRITE SAME with UNMAP): holes in
# the backing file and in the extents.
blocks=$(stat -c %b "$d/lun2")
dt --rw --vol p/unit:0:0:2 zero $((M + 1)) $((3 * M))
[ "$(stat -c %b "$d/lun2")" -lt "$blocks" ] || fail "zeroing LUN 2 did not free space"
dt --vol p/unit:0:0:2 extents $((2 * M)) $M > "$d/ext"
[ "$(cat "$d/ext")" = "$((2 * M)) $M hole" ] || fail "LUN 2: the zeroed range: $(cat "$d/ext")"
cmp -n $((3 * M)) <(tail -c +$((M + 2)) "$d/lun2") /dev/zero || fail "LUN 2: the zeroed range is not zeros"
# An extents range inside: clipped exactly.
dt --vol p/unit:0:0:2 extents 1000 $((6 * M)) > "$d/ext"
[ "$(head -1 "$d/ext" | cut -d' ' -f1)" = 1000 ] &&
  [ "$(tail -1 "$d/ext" | awk '{print $1 + $2}')" = $((6 * M + 1000)) ] || fail "LUN 2: extents of a range: $(cat "$d/ext")"
echo "ok: extents (thick: data; thin: as the backing file's map; WRITE SAME unmaps)"

# A CHAP target.
g pool-define-as c iscsi --source-host 127.0.0.1:$port \
  --source-path $chap_iqn --auth-type chap --auth-username $user \
  --secret-usage env:GK_TEST_CHAP > /dev/null
GK_TEST_CHAP="$secret" g pool-start c > /dev/null
GK_TEST_CHAP="$secret" dt --vol c/unit:0:0:1 cat > "$d/cat"
cmp "$d/cat" "$d/lun4" || fail "CHAP LUN: cat"
echo "ok: a CHAP target"

# Refusals, one line each: LUNs keep no checkpoints; a read-only disk.
refused "p/unit:0:0:1: checkpoints: not supported by this disk's storage (iscsi)" \
  --vol p/unit:0:0:1 snap-create c1
refused "p/unit:0:0:1: checkpoints: not supported by this disk's storage (iscsi)" \
  --vol p/unit:0:0:1 snap-list
refused "not supported by this disk's storage (iscsi)" --vol p/unit:0:0:1 changed c1
refused "p/unit:0:0:1: the disk is open read-only" --vol p/unit:0:0:1 write 0 < "$d/w1"
refused "p/unit:0:0:1: the disk is open read-only" --vol p/unit:0:0:1 zero 0 1
refused "‘unit:0:0:9’" --vol p/unit:0:0:9 size
GK_TEST_CHAP="wrong" refused "authentication failed" --vol c/unit:0:0:1 size
echo "ok: done in $(( $(date +%s) - t0 )) s"
