#!/bin/bash -
# guestkit-backup on disk images and dir-pool volumes (no VM, no server):
# full and incremental backups of qcow2 (dirty bitmaps) and raw (block
# checksums) images, restores compared with qemu-img compare, verify on
# damaged backups, file-level ls/cat through the native engine, a backup
# killed mid-way, and bad input.
set -e
. "$abs_top_builddir/tests/functions.sh"
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
export GUESTKIT_STATE_DIR="$d/state"
b () { ours guestkit-backup "$@"; }
bitmaps () {
  qemu-img info --output=json --force-share -f qcow2 "$1" |
    python3 -c 'import json,sys; i=json.load(sys.stdin); print(" ".join(b["name"] for b in i["format-specific"]["data"].get("bitmaps",[])))'
}
same_disk () {   # IMAGE FORMAT RESTORED FORMAT: byte for byte (qemu-img compare)
  qemu-img compare -q -f "$2" -F "$4" "$1" "$3" || fail "$3 differs from $1"
}
cd "$d"

# 1. qcow2: changes come from a persistent dirty bitmap.
qemu-img create -q -f qcow2 src.qcow2 256M
qemu-io -f qcow2 -c 'write -P 0x11 0 9M' -c 'write -P 0x22 100M 3M' \
  -c 'write -z 120M 1M' -c 'write -P 0x33 255M 1M' src.qcow2 > /dev/null
b -q full -a src.qcow2 --format qcow2 bk
[ "$(b list bk | wc -l)" = 1 ] || fail "list after full: $(b list bk)"
full=$(b list bk)
[ "$(bitmaps src.qcow2 | wc -w)" = 1 ] || fail "the full backup made no checkpoint: $(bitmaps src.qcow2)"
cp0=$(bitmaps src.qcow2)
cp --sparse=always src.qcow2 at-full.qcow2
qemu-img info -f qcow2 bk/$full/disk.qcow2 | grep -q "virtual size: 256 MiB" || fail "size of the full backup"
# Sparse: 13 MiB of data, not 256.
[ "$(du -k bk/$full/disk.qcow2 | cut -f1)" -lt 20000 ] || fail "the full backup is not sparse"
b verify bk > "$d/out"
grep -q "matches its checksums" "$d/out" || fail "verify: $(cat "$d/out")"

# Guest writes: data, zeros over data, a discard, a write across blocks.
qemu-io -f qcow2 -c 'write -P 0x44 1M 64k' -c 'write -z 101M 512k' \
  -c 'discard 255M 1M' -c 'write -P 0x55 199M 2M' -c 'write -P 0x66 4097k 3k' src.qcow2 > /dev/null
b -q inc -a src.qcow2 --format qcow2 bk
inc=$(b list bk | tail -1)
[ "$(b list bk | wc -l)" = 2 ] || fail "list after inc"
python3 - bk/$inc/manifest.json <<'EOF' || fail "inc manifest"
import json, sys
m = json.load(open(sys.argv[1]))
d = m["disks"][0]
assert m["type"] == "inc" and m["parent"], m
assert d["changes"] == "checkpoint", d["changes"]
# Only what the guest wrote: 64k + 512k + 1M + 2M + the 64k cluster of 3k.
assert d["written_bytes"] < 4 * 1024 * 1024, d["written_bytes"]
assert d["backing"].startswith("../"), d
EOF
# The point moved: the old checkpoint is gone, a new one is there.
[ "$(bitmaps src.qcow2 | wc -w)" = 1 ] && [ "$(bitmaps src.qcow2)" != "$cp0" ] ||
  fail "checkpoints after inc: $(bitmaps src.qcow2) (before: $cp0)"
[ "$(du -k bk/$inc/disk.qcow2 | cut -f1)" -lt 6000 ] || fail "the incremental backup is too big"
b restore -o r-inc.raw bk
same_disk src.qcow2 qcow2 r-inc.raw raw
b restore --backup "$full" -O qcow2 -o r-full.qcow2 bk
same_disk at-full.qcow2 qcow2 r-full.qcow2 qcow2
b verify --backup "$full" bk > /dev/null
b verify bk > /dev/null
for img in bk/*/disk.qcow2; do
  qemu-img check -q -f qcow2 "$img" || fail "qemu-img check $img"
done
echo "ok: qcow2 full + incremental (dirty bitmap), restores identical"

# 2. raw: no checkpoint; changes from the block checksums.
truncate -s 128M src.raw
dd if=/dev/urandom of=src.raw bs=1M count=5 seek=10 conv=notrunc status=none
b -q full -a src.raw --format raw -O raw bkr
cp --sparse=always src.raw at-full.raw
dd if=/dev/urandom of=src.raw bs=4k count=3 seek=$((12*256+7)) conv=notrunc status=none
dd if=/dev/zero of=src.raw bs=1M count=1 seek=14 conv=notrunc status=none
dd if=/dev/urandom of=src.raw bs=1M count=1 seek=127 conv=notrunc status=none
b -q inc -a src.raw --format raw bkr
inc=$(b list bkr | tail -1)
python3 - bkr/$inc/manifest.json <<'EOF' || fail "raw inc manifest"
import json, sys
d = json.load(open(sys.argv[1]))["disks"][0]
assert d["changes"] == "checksums" and d["checkpoint"] is None, d
assert d["written_bytes"] <= 2 * 1024 * 1024, d["written_bytes"]
EOF
b restore -o r.raw bkr
same_disk src.raw raw r.raw raw
b restore --backup "$(b list bkr | head -1)" -o r0.raw bkr
same_disk at-full.raw raw r0.raw raw
cmp at-full.raw r0.raw || fail "raw restore"
echo "ok: raw full + incremental (checksums), restores identical"

# 3. A dir-pool volume, restored into a new volume of the pool.
ours guestkit pool-define-as p dir --target "$d/p" > /dev/null
ours guestkit pool-start p --build > /dev/null
ours guestkit vol-create-as p v.qcow2 64M --format qcow2 > /dev/null
qemu-io -f qcow2 -c 'write -P 0x77 0 2M' p/v.qcow2 > /dev/null
b -q full --vol p/v.qcow2 bkv
qemu-io -f qcow2 -c 'write -P 0x78 32M 1M' p/v.qcow2 > /dev/null
b -q inc --vol p/v.qcow2 bkv
b -q restore --to-vol p/restored bkv
ours guestkit vol-list p | grep -q restored || fail "restored volume not in the pool"
same_disk p/v.qcow2 qcow2 p/restored raw
b restore --to-vol p/restored bkv 2> "$d/err" && fail "restore replaced a volume"
grep -q "exists already" "$d/err" || fail "restore over a volume: $(cat "$d/err")"
ls p | grep -q gk-tmp && fail "restore left a temporary volume"
echo "ok: dir-pool volume backed up and restored into the pool"

# 4. File-level access to a backup (the native engine: no appliance).
mkdir -p tree/etc tree/data
echo "backup-host" > tree/etc/hostname
ln -s hostname tree/etc/alias
head -c 300000 /dev/urandom > tree/data/blob
truncate -s 64M fs.img
mkfs.ext4 -q -F -d tree fs.img
b -q full -a fs.img --format raw bkf
b ls -m /dev/sda bkf /etc > "$d/out"
printf 'alias\nhostname\n' | cmp - "$d/out" || fail "ls: $(cat "$d/out")"
b cat -m /dev/sda bkf /etc/alias | cmp - tree/etc/hostname || fail "cat through a symlink"
b cat -m /dev/sda bkf /data/blob | cmp - tree/data/blob || fail "cat of a 300 KB file"
b ls -l -m /dev/sda bkf /data | grep -q " 300000 .* blob$" || fail "ls -l"
b cat -m /dev/sda bkf /etc/nope 2> "$d/err" && fail "cat of a missing file"
grep -q "/etc/nope: No such file or directory" "$d/err" || fail "missing file: $(cat "$d/err")"
b -v ls -m /dev/sda bkf / 2>&1 | grep -q "on /: native" || fail "ls did not use the native engine"
echo "ok: ls and cat read a backup natively"

# A filesystem the native engine does not read: the appliance.
truncate -s 300M xfs.img
mkfs.xfs -q xfs.img
b -q full -a xfs.img --format raw bkx
b -v ls -m /dev/sda bkx / > "$d/out" 2> "$d/err" || fail "ls of an xfs backup: $(tail -3 "$d/err")"
grep -q "on /: the appliance" "$d/err" || fail "ls of xfs did not say it used the appliance"
[ ! -s "$d/out" ] || fail "ls of an empty xfs: $(cat "$d/out")"
echo "ok: ls of a backup the native engine cannot read goes through the appliance"

# 5. Damage is found by verify (and by restore).
cp -a bk bk-bad
img=bk-bad/$full/disk.qcow2
host=$(qemu-img map --output=json -f qcow2 "$img" | python3 -c 'import json,sys; print([e for e in json.load(sys.stdin) if e["data"]][1]["offset"])')
printf 'XXXX' | dd of="$img" bs=1 seek=$((host + 4096)) conv=notrunc status=none
b verify --backup "$full" bk-bad 2> "$d/err" && fail "verify missed a damaged block"
grep -q "does not match its checksum: the backup is damaged" "$d/err" || fail "verify message: $(cat "$d/err")"
[ "$(wc -l < "$d/err")" = 1 ] || fail "more than one line: $(cat "$d/err")"
b verify bk-bad 2> /dev/null && fail "verify of the inc missed damage below it"
b restore --backup "$full" -o bad.raw bk-bad 2> /dev/null && fail "restore of a damaged backup"
[ -e bad.raw ] && fail "a failed restore left its file"
ls | grep -q gk-tmp && fail "a failed restore left a temporary file"
cp -a bk bk-bad2
echo '{ "format": "guestkit' > bk-bad2/$(b list bk | tail -1)/manifest.json
b verify bk-bad2 2> "$d/err" && fail "verify of a damaged manifest"
grep -q "manifest" "$d/err" || fail "damaged manifest: $(cat "$d/err")"
cp -a bkr bkr-bad
printf 'Z' | dd of=bkr-bad/$(b list bkr | head -1)/disk.sums bs=1 seek=100 conv=notrunc status=none
b verify --backup "$(b list bkr | head -1)" bkr-bad 2> "$d/err" && fail "damaged sums"
grep -q "checksums file is damaged" "$d/err" || fail "damaged sums: $(cat "$d/err")"
echo "ok: damaged images, manifests and checksums are reported"

# 6. A backup killed mid-way leaves the chain as it was.
qemu-img create -q -f qcow2 big.qcow2 2G
qemu-io -f qcow2 -c 'write -P 0x99 0 600M' big.qcow2 > /dev/null
b -q full -a big.qcow2 --format qcow2 bkk
qemu-io -f qcow2 -c 'write -P 0x9a 0 500M' big.qcow2 > /dev/null
before=$(bitmaps big.qcow2)
"$run" guestkit-backup -q inc -a big.qcow2 --format qcow2 bkk &
pid=$!
for i in $(seq 1 500); do ls -A bkk | grep -q gk-tmp && break; sleep 0.01; done
sleep 0.3
ls -A bkk | grep -q gk-tmp || fail "no backup in progress to kill"
kill -9 $pid || fail "the backup finished before it could be killed"
wait $pid 2>/dev/null || true
[ "$(b list bkk | wc -l)" = 1 ] || fail "a killed backup was committed"
b verify bkk > /dev/null || fail "the chain is damaged after a kill"
echo "$(bitmaps big.qcow2)" | grep -qw "$before" || fail "the kill lost the chain's checkpoint"
b inc -a big.qcow2 --format qcow2 bkk > /dev/null 2> "$d/err"
grep -q "removing .gk-tmp-" "$d/err" || fail "the leftover was not removed: $(cat "$d/err")"
ls -a bkk | grep -q gk-tmp && fail "leftover still there"
b restore -o rk.raw bkk
same_disk big.qcow2 qcow2 rk.raw raw
[ "$(bitmaps big.qcow2 | wc -w)" = 1 ] || fail "stray checkpoints: $(bitmaps big.qcow2)"
rm -f rk.raw
echo "ok: a killed backup leaves the chain valid; the next run cleans up"

# SIGINT (Ctrl-C) and SIGTERM stop a run and undo it: no new backup, no
# files, the new checkpoint deleted, the previous one kept.
qemu-io -f qcow2 -c 'write -P 0x9b 0 500M' big.qcow2 > /dev/null
for sig in INT TERM; do
  before=$(bitmaps big.qcow2)
  n=$(b list bkk | wc -l)
  "$run" guestkit-backup -q inc -a big.qcow2 --format qcow2 bkk 2> sig.err &
  pid=$!
  for i in $(seq 1 500); do ls -A bkk | grep -q gk-tmp && break; sleep 0.01; done
  sleep 0.2
  kill -$sig $pid || fail "the backup finished before SIG$sig"
  rc=0; wait $pid || rc=$?
  [ "$rc" = 1 ] || fail "SIG$sig: exit status $rc ($(cat sig.err))"
  grep -q "cancelled" sig.err || fail "SIG$sig: $(cat sig.err)"
  [ "$(b list bkk | wc -l)" = "$n" ] || fail "SIG$sig: a cancelled backup was committed"
  ls -A bkk | grep -q gk-tmp && fail "SIG$sig: a cancelled backup left its files"
  [ "$(bitmaps big.qcow2)" = "$before" ] || fail "SIG$sig: checkpoints $(bitmaps big.qcow2), before $before"
done
echo "ok: SIGINT and SIGTERM cancel a run and undo it"

# 7. Bad input: one line, exit 1, nothing changed.
err () {   # EXPECTED-TEXT COMMAND...
  local want="$1"; shift
  "$@" > "$d/out" 2> "$d/err" && fail "succeeded: $*"
  grep -q -- "$want" "$d/err" || fail "$*: wanted \"$want\", got: $(cat "$d/err")"
  [ "$(wc -l < "$d/err")" -le 2 ] || fail "$*: too much: $(cat "$d/err")"
}
err "take a full backup first" b inc -a src.raw --format raw empty
err "another source" b inc -a src.raw --format raw bk
err "No such file" b full -a /nonexistent.img --format raw nb
err "bad format" b full -a src.raw --format 'raw,x' nb
err "exists already" b restore -o r.raw bkr
err "no backup \"nope\"" b restore --backup nope -o x.raw bkr
err "unknown command" b frobnicate bk
err "the backup has no disk" b restore --disk vdz -o x.raw bkr
err "expecting POOL/VOLUME" b full --vol novolume nb
err "give either -o FILE or --to-vol" b restore bkr
truncate -s 1M junk.qcow2
err "junk.qcow2" b full -a junk.qcow2 --format qcow2 nb
[ -e x.raw ] && fail "a failed restore made a file"
echo "ok: bad input"
