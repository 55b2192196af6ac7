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
# Cost: one launch of each guestfish (at the same time), and one
# appliance per guestmount that needs it (two at a time).
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
wait "$ref_pid" || fail "libguestfs's guestfish tar-out failed: $(cat "$d/ref.log")"
wait "$ours_pid" || fail "our guestfish tar-out failed: $(cat "$d/ours.log")"

# Our guestmount: the native ones one after the other (milliseconds),
# then the appliance ones two at a time.
mount_case () {
  local name="$1" img="$2" dev="$3" engine="$4" force="$5"
  local m="$d/mnt-$name" env=()
  [ "$force" = force ] && env=(GUESTKIT_ENGINE=appliance)
  mkdir "$m"
  env "${env[@]}" "$run" guestmount -v --ro -a "$img" -m "$dev" \
    --pid-file "$d/$name.pid" "$m" 2> "$d/$name.err" ||
    { echo "guestmount $name failed: $(tail -5 "$d/$name.err")"; return 1; }
  grep -q "mounted ($engine engine)" "$d/$name.err" ||
    { echo "$name: not the $engine engine: $(grep mount-local "$d/$name.err")"; return 1; }
  python3 "$listing" dir "$m" > "$d/$name.mount" ||
    { echo "$name: walking the mount failed"; return 1; }
  "$run" guestunmount "$m" || { echo "$name: guestunmount failed"; return 1; }
}

errors=0
check_case () {
  local name="$1"
  python3 "$listing" tar "$d/ref/$name.tar" > "$d/$name.ref"
  python3 "$listing" tar "$d/ours/$name.tar" > "$d/$name.ours"
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

pending=()
for c in "${cases[@]}"; do
  read -r name img dev engine force <<< "$c"
  mounts+=("$d/mnt-$name")
  if [ "$engine" = native ]; then
    mount_case "$name" "$img" "$dev" "$engine" "${force:-}" || fail "$name"
  else
    mount_case "$name" "$img" "$dev" "$engine" "${force:-}" > "$d/$name.result" 2>&1 &
    pending+=("$!:$name")
    if [ "${#pending[@]}" -ge 2 ]; then
      p="${pending[0]}"; pending=("${pending[@]:1}")
      wait "${p%%:*}" || fail "${p#*:}: $(cat "$d/${p#*:}.result")"
    fi
  fi
done
for p in "${pending[@]}"; do
  wait "${p%%:*}" || fail "${p#*:}: $(cat "$d/${p#*:}.result")"
done

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
