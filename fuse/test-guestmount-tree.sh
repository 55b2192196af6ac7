#!/bin/bash -
# Read-only trees: each test filesystem mounted by our guestmount shows
# exactly the tree (names, types, modes, owners, mtimes, sizes, symbolic
# link targets, file contents' sha256) that guestfish's tar-out gives of
# the same filesystem, both libguestfs's guestfish and ours.
#
# The filesystems: a rich ext4 made here (every file type, hard links,
# holes, an htree directory, odd names, setuid and sticky modes, large
# uids), served by the native engine and again by the appliance
# (GUESTKIT_ENGINE=appliance); the test images' ext4 on MBR, in qcow2,
# and a Linux root (native); xfs on GPT, btrfs, an ext4 LV and FAT32
# (the appliance: guestmount falls back to it by itself).
#
# Cost: three appliances, at the same time: each guestfish's, and one
# guestmount that serves every appliance case at once (the rich ext4 on
# /, the others on directories of it made for them).
set -euo pipefail
. "${abs_top_builddir:?}/tests/functions.sh"
require_images

d="$(mktemp -d)"
mounts=()
cleanup () {
  local m
  for m in "${mounts[@]}"; do
    if mountpoint -q "$m" 2>/dev/null; then
      fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null || true
    fi
  done
  # Wait for our guestmount processes (and their appliances) to go.
  for f in "$d"/*.pid; do
    [ -f "$f" ] && stop_pid "$(cat "$f")" 2>/dev/null || true
  done
  rm -rf "$d"
}
trap cleanup EXIT
listing="$abs_srcdir/tree-listing.py"

# The rich ext4: whole disk, no partition table.
t="$d/tree"
mkdir -p "$t/dir/sub/deep" "$t/htree" "$t/names"
# Where the appliance case mounts the other filesystems.
mkdir "$t/mnt-xfs" "$t/mnt-btrfs" "$t/mnt-lvm" "$t/mnt-fat32"
printf 'hello\n' > "$t/dir/hello.txt"
: > "$t/empty"
head -c 4095 /dev/urandom > "$t/dir/odd-size"
head -c 4097 /dev/urandom > "$t/dir/sub/just-over"
head -c 3145728 /dev/urandom > "$t/big"
# A file with a hole in the middle.
dd if=/dev/urandom of="$t/holey" bs=64k count=1 status=none
dd if=/dev/urandom of="$t/holey" bs=64k count=1 seek=100 conv=notrunc status=none
ln "$t/dir/hello.txt" "$t/hardlink"
ln -s dir/hello.txt "$t/fastlink"
ln -s "$(printf 'x%.0s' $(seq 1 100))/a/target/longer/than/sixty/characters" "$t/slowlink"
ln -s /nonexistent "$t/dangling"
mkfifo "$t/fifo"
mknod "$t/chardev" c 1 3
for i in $(seq 1 1500); do : > "$t/htree/entry-$i"; done
: > "$t/names/with space"
: > "$t/names/ünïcødé"
: > "$t/names/-dash"
chmod 4755 "$t/dir/hello.txt"
chmod 1777 "$t/dir/sub"
chmod 0600 "$t/big"
chmod 0000 "$t/empty"
chown 70000:1234 "$t/dir/odd-size"
chown 1001:70001 "$t/dir/sub/deep"
touch -h -d '2001-02-03 04:05:06.789' "$t/fastlink"
touch -d '1999-12-31 23:59:59.5' "$t/dir/sub/just-over"
truncate -s 200M "$d/rich.img"
mkfs.ext4 -q -F -L rich -d "$t" "$d/rich.img"

# name  image  device  engine(native|appliance)  [force]
cases=(
  "rich-native $d/rich.img /dev/sda native"
  "rich-appliance $d/rich.img /dev/sda appliance force"
  "ext4-mbr $images/ext4-mbr.img /dev/sda1 native"
  "ext4-qcow2 $images/ext4.qcow2 /dev/sda1 native"
  "linux $images/linux.img /dev/sda1 native"
  "xfs $images/xfs-gpt.img /dev/sda1 appliance"
  "btrfs $images/btrfs.img /dev/sda1 appliance"
  "lvm $images/lvm.img /dev/vg_test/root appliance"
  "fat32 $images/fat32-mbr.img /dev/sda1 appliance"
)

# guestfish (both): every filesystem's tar-out, one launch each.  The
# drives are added in the order of the cases (rich.img once), so their
# devices are sda, sdb, ...
gf_script="$d/gf-script"
gf_args=()
letters=(a b c d e f g h i j)
{
  echo run
  i=0
  for c in "${cases[@]}"; do
    read -r name img dev engine force <<< "$c"
    [ "$name" = rich-appliance ] && continue
    gf_args+=(-a "$img")
    case "$dev" in
      /dev/sda*) gdev="/dev/sd${letters[$i]}${dev#/dev/sda}" ;;
      *) gdev="$dev" ;;
    esac
    echo "mount-ro $gdev /"
    echo "tar-out / @DIR@/$name.tar numericowner:true"
    echo "umount-all"
    i=$((i + 1))
  done
} > "$gf_script"
mkdir "$d/ref" "$d/ours"
sed "s|@DIR@|$d/ref|" "$gf_script" > "$d/ref.gf"
sed "s|@DIR@|$d/ours|" "$gf_script" > "$d/ours.gf"
ref guestfish --ro "${gf_args[@]}" -f "$d/ref.gf" > "$d/ref.log" 2>&1 &
ref_pid=$!
ours guestfish --ro "${gf_args[@]}" -f "$d/ours.gf" > "$d/ours.log" 2>&1 &
ours_pid=$!

# Our guestmount.  The native cases one after the other (milliseconds
# each); each must be served by the native engine.
mount_case () {
  local name="$1" img="$2" dev="$3"
  local m="$d/mnt-$name"
  mkdir "$m"
  "$run" guestmount -v --ro -a "$img" -m "$dev" --pid-file "$d/$name.pid" \
    "$m" 2> "$d/$name.err" ||
    fail "guestmount $name failed: $(tail -5 "$d/$name.err")"
  grep -q "mounted (native engine)" "$d/$name.err" ||
    fail "$name: not the native engine: $(grep mount-local "$d/$name.err")"
  python3 "$listing" dir "$m" > "$d/$name.mount" || fail "$name: walking the mount failed"
  "$run" guestunmount "$m" || fail "$name: guestunmount failed"
}
# The appliance cases: one guestmount, the rich ext4 on / (the appliance
# engine forced: it would be native), the others on its mnt-* directories
# (drives sda, sdb, ...: the device names shift).
app_args=() app_names=()
letter=a
for c in "${cases[@]}"; do
  read -r name img dev engine force <<< "$c"
  mounts+=("$d/mnt-$name")
  [ "$engine" = appliance ] || continue
  if [ "$name" = rich-appliance ]; then
    app_args=(-a "$img" -m /dev/sda "${app_args[@]}")
    continue
  fi
  letter=$(echo "$letter" | tr a-y b-z)
  case "$dev" in
    /dev/sda*) gdev="/dev/sd$letter${dev#/dev/sda}" ;;
    *) gdev="$dev" ;;
  esac
  app_args+=(-a "$img" -m "$gdev:/mnt-$name")
  app_names+=("$name")
done
mkdir "$d/mnt-appliance"
mounts+=("$d/mnt-appliance")
GUESTKIT_ENGINE=appliance "$run" guestmount -v --ro "${app_args[@]}" \
  --pid-file "$d/appliance.pid" "$d/mnt-appliance" 2> "$d/appliance.err" &
app_pid=$!

for c in "${cases[@]}"; do
  read -r name img dev engine force <<< "$c"
  if [ "$engine" = native ]; then mount_case "$name" "$img" "$dev"; fi
done

wait "$ref_pid" || fail "libguestfs's guestfish tar-out failed: $(cat "$d/ref.log")"
wait "$ours_pid" || fail "our guestfish tar-out failed: $(cat "$d/ours.log")"
wait "$app_pid" || fail "guestmount (appliance cases) failed: $(tail -5 "$d/appliance.err")"
grep -q "mounted (appliance engine)" "$d/appliance.err" ||
  fail "appliance cases: not the appliance engine: $(grep mount-local "$d/appliance.err")"
m="$d/mnt-appliance"
python3 "$listing" dir "$m" > "$d/rich-appliance.mount" ||
  fail "walking the appliance mount failed"
for name in "${app_names[@]}"; do
  python3 "$listing" dir "$m/mnt-$name" > "$d/$name.mount" ||
    fail "$name: walking the mount failed"
done
"$run" guestunmount "$m" || fail "guestunmount of the appliance cases failed"

errors=0
check_case () {
  local name="$1"
  # (The rich tree's mnt-* directories are mountpoints in the appliance
  # case: left out of the comparisons.)
  python3 "$listing" tar "$d/ref/$name.tar" > "$d/$name.ref.all" ||
    fail "$name: reading libguestfs's tar-out failed"
  python3 "$listing" tar "$d/ours/$name.tar" > "$d/$name.ours.all" ||
    fail "$name: reading our tar-out failed"
  for f in ref ours mount; do
    [ -f "$d/$name.$f.all" ] || mv "$d/$name.$f" "$d/$name.$f.all"
    grep -v '^/mnt-' "$d/$name.$f.all" > "$d/$name.$f" || true
  done
  if ! diff -u "$d/$name.ref" "$d/$name.ours"; then
    echo "FAIL: $name: our guestfish's tar-out differs from libguestfs's"
    errors=$((errors + 1))
  fi
  if ! diff -u --label "$name (guestfish tar-out)" --label "$name (guestmount)" \
         "$d/$name.ref" "$d/$name.mount"; then
    echo "FAIL: $name: the guestmount tree differs from guestfish's"
    errors=$((errors + 1))
  else
    echo "ok: $name ($(wc -l < "$d/$name.mount") entries)"
  fi
}

for c in "${cases[@]}"; do
  read -r name img dev engine force <<< "$c"
  if [ "$name" = rich-appliance ]; then
    # The same filesystem as rich-native: the same listing.
    cp "$d/ref/rich-native.tar" "$d/ref/$name.tar"
    cp "$d/ours/rich-native.tar" "$d/ours/$name.tar"
  fi
  check_case "$name"
done
[ "$errors" -eq 0 ] || fail "$errors comparisons differ"
echo "all trees equal"
