#!/bin/bash -
# Read-write mounts: changes made through our guestmount (create, write,
# append, truncate, rename, delete, mkdir, rmdir, chmod, chown, symlink,
# hard link, utimens, xattrs, fsync) are seen at once through the mount
# (the cache is invalidated by our own changes, even with a long
# timeout), and after guestunmount a fresh read-only session (our
# guestmount, and libguestfs's guestfish) sees exactly the tree the
# mount showed; the filesystem passes its own check (e2fsck -fn,
# xfs_repair -n).  SIGTERM to guestmount unmounts and keeps the writes.
set -euo pipefail
. "${abs_top_builddir:?}/tests/functions.sh"
require_images

d="$(mktemp -d)"
cleanup () {
  local m f
  for m in "$d"/mnt-*; do
    if mountpoint -q "$m" 2>/dev/null; then
      fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null || true
    fi
  done
  for f in "$d"/*.pid; do
    [ -f "$f" ] && stop_pid "$(cat "$f")" 2>/dev/null || true
  done
  for f in "$d"/loop-*; do
    [ -f "$f" ] && losetup -d "$(cat "$f")" 2>/dev/null || true
  done
  rm -rf "$d"
}
trap cleanup EXIT
listing="$abs_srcdir/tree-listing.py"

cp --sparse=always "$images/linux.img" "$d/ext4.img"
cp --sparse=always "$images/xfs-gpt.img" "$d/xfs.img"
cp --sparse=always "$images/wholefs.img" "$d/term.img"
head -c 5000000 /dev/urandom > "$d/random.bin"
sha256sum < "$d/random.bin" | cut -d' ' -f1 > "$d/kept.sha"
mkdir "$d/mnt-ext4" "$d/mnt-xfs" "$d/mnt-term" "$d/mnt-check" "$d/mnt-xcheck"

# Three appliances at once: the two read-write mounts and the SIGTERM
# one (guestmount forks when the mount is ready).
"$run" guestmount -a "$d/ext4.img" -m /dev/sda1 --dir-cache-timeout 3600 \
  --pid-file "$d/ext4.pid" "$d/mnt-ext4" 2> "$d/ext4.err" &
p1=$!
"$run" guestmount --rw -a "$d/xfs.img" -m /dev/sda1 \
  --pid-file "$d/xfs.pid" "$d/mnt-xfs" 2> "$d/xfs.err" &
p2=$!
"$run" guestmount -a "$d/term.img" -m /dev/sda \
  --pid-file "$d/term.pid" "$d/mnt-term" 2> "$d/term.err" &
p3=$!
wait "$p1" || fail "guestmount ext4: $(cat "$d/ext4.err")"
wait "$p2" || fail "guestmount xfs: $(cat "$d/xfs.err")"
wait "$p3" || fail "guestmount term: $(cat "$d/term.err")"

# --- SIGTERM: write, then kill; the write must be on the disk. ---
m="$d/mnt-term"
cp "$d/random.bin" "$m/kept.bin"
mkdir "$m/kept-dir"
term_pid="$(cat "$d/term.pid")"
kill -TERM "$term_pid"
for i in $(seq 1 600); do
  kill -0 "$term_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$term_pid" 2>/dev/null && fail "guestmount did not exit after SIGTERM"
grep -q " $m " /proc/self/mountinfo && fail "SIGTERM left $m mounted"
[ ! -e "$d/term.pid" ] || fail "SIGTERM: the pid file is still there"

# --- ext4: every kind of change, checked through the mount at once. ---
m="$d/mnt-ext4"
echo "new file" > "$m/new.txt"
[ "$(cat "$m/new.txt")" = "new file" ] || fail "read back new.txt"
echo "more" >> "$m/new.txt"
[ "$(cat "$m/new.txt")" = "$(printf 'new file\nmore')" ] || fail "append"
cp "$d/random.bin" "$m/random.bin"
cmp "$d/random.bin" "$m/random.bin" || fail "random.bin read back differs"
# Overwrite in the middle, then read at odd offsets.
printf 'PATCHED' | dd of="$m/random.bin" bs=1 seek=1234567 conv=notrunc status=none
printf 'PATCHED' | dd of="$d/random.bin" bs=1 seek=1234567 conv=notrunc status=none
cmp "$d/random.bin" "$m/random.bin" || fail "random.bin after a patch differs"
dd if="$m/random.bin" bs=7777 skip=333 count=3 status=none | \
  cmp - <(dd if="$d/random.bin" bs=7777 skip=333 count=3 status=none) ||
  fail "a read at an odd offset differs"
mkdir -p "$m/newdir/sub"
[ -d "$m/newdir/sub" ] || fail "mkdir -p"
mkdir -m 0700 "$m/private"
[ "$(stat -c %a "$m/private")" = 700 ] || fail "mkdir mode: $(stat -c %a "$m/private")"
mv "$m/new.txt" "$m/newdir/renamed.txt"
[ ! -e "$m/new.txt" ] && [ -f "$m/newdir/renamed.txt" ] || fail "rename of a file"
mv "$m/newdir/sub" "$m/moved-sub"
[ -d "$m/moved-sub" ] && [ ! -e "$m/newdir/sub" ] || fail "rename of a directory"
chmod 0640 "$m/newdir/renamed.txt"
[ "$(stat -c %a "$m/newdir/renamed.txt")" = 640 ] || fail "chmod not seen at once"
chown 1234:5678 "$m/newdir/renamed.txt"
[ "$(stat -c %u:%g "$m/newdir/renamed.txt")" = 1234:5678 ] || fail "chown not seen at once"
ln -s newdir/renamed.txt "$m/symlink"
[ "$(readlink "$m/symlink")" = newdir/renamed.txt ] || fail "symlink"
ln "$m/random.bin" "$m/hardlink.bin"
[ "$(stat -c %h "$m/hardlink.bin")" = 2 ] || fail "hard link count: $(stat -c %h "$m/hardlink.bin")"
truncate -s 100 "$m/hardlink.bin"
[ "$(stat -c %s "$m/hardlink.bin")" = 100 ] || fail "truncate not seen at once"
# The file's other name: the kernel's own attribute cache of that entry
# lasts one second on a read-write mount (guestmount(1), CACHING).
sleep 1.2
[ "$(stat -c %h:%s "$m/random.bin")" = 2:100 ] || fail "the other link: $(stat -c %h:%s "$m/random.bin")"
touch -d '2010-05-06 07:08:09.123456789' "$m/newdir/renamed.txt"
[ "$(stat -c %y "$m/newdir/renamed.txt")" = "2010-05-06 07:08:09.123456789 +0000" ] ||
  fail "utimens: $(stat -c %y "$m/newdir/renamed.txt")"
setfattr -n user.colour -v blue "$m/newdir/renamed.txt"
setfattr -n user.gone -v x "$m/newdir/renamed.txt"
setfattr -x user.gone "$m/newdir/renamed.txt"
[ "$(getfattr --absolute-names --only-values -n user.colour "$m/newdir/renamed.txt")" = blue ] || fail "getxattr"
xattrs="$(getfattr --absolute-names -d "$m/newdir/renamed.txt")"
grep -q user.gone <<< "$xattrs" && fail "removexattr not seen at once"
grep -q user.colour <<< "$xattrs" || fail "listxattr: $xattrs"
setfattr -n user.colour -v red "$m/newdir/renamed.txt"
[ "$(getfattr --absolute-names --only-values -n user.colour "$m/newdir/renamed.txt")" = red ] || fail "setxattr not seen at once"
echo "short-lived" > "$m/delete-me"
rm "$m/delete-me"
[ ! -e "$m/delete-me" ] || fail "unlink"
listed="$(ls "$m")"
grep -qx delete-me <<< "$listed" && fail "unlink: still listed"
grep -qx random.bin <<< "$listed" || fail "readdir after unlink: $listed"
rmdir "$m/private"
[ ! -e "$m/private" ] || fail "rmdir"
rm "$m/etc/hostname"
python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644); os.write(fd, b"synced\n"); os.fsync(fd); os.close(fd)' "$m/fsynced"
df "$m" > /dev/null || fail "statfs"
# The tree as the mount shows it now: what every later session must see.
python3 "$listing" dir "$m" > "$d/ext4.expected"
grep -q '^/random.bin f 0644 0 0 [0-9]* 100 ' "$d/ext4.expected" || fail "random.bin in the listing"

# --- xfs: the common changes. ---
m="$d/mnt-xfs"
cp "$d/random.bin" "$m/r.bin"
mkdir "$m/xdir"
echo "xfs file" > "$m/xdir/f"
mv "$m/xdir/f" "$m/xdir/g"
chmod 0600 "$m/xdir/g"
rm "$m/file"
python3 "$listing" dir "$m" > "$d/xfs.expected"

# Unmount both: guestunmount returns when the images are released.
"$run" guestunmount "$d/mnt-ext4" || fail "guestunmount ext4"
"$run" guestunmount "$d/mnt-xfs" || fail "guestunmount xfs"
for f in ext4 xfs; do
  [ ! -e "$d/$f.pid" ] || fail "$f: the pid file outlived guestunmount"
done

# The filesystems' own checks, on loop devices over the partitions.
part_loop () {
  local img="$1" name="$2" start size
  read -r start size < <(sfdisk -d "$img" | sed -n 's/.*start= *\([0-9]*\), size= *\([0-9]*\).*/\1 \2/p' | head -1)
  losetup -r -f --show -o $((start * 512)) --sizelimit $((size * 512)) "$img" > "$d/loop-$name"
  cat "$d/loop-$name"
}
dev="$(part_loop "$d/ext4.img" ext4)"
e2fsck -fn "$dev" > "$d/fsck.log" 2>&1 || fail "e2fsck -fn: $(cat "$d/fsck.log")"
dev="$(part_loop "$d/xfs.img" xfs)"
xfs_repair -n "$dev" > "$d/repair.log" 2>&1 || fail "xfs_repair -n: $(cat "$d/repair.log")"
for f in "$d"/loop-*; do losetup -d "$(cat "$f")"; rm -f "$f"; done

# Fresh read-only sessions: libguestfs's guestfish (both images), our
# guestmount on ext4 (native) and on xfs (the appliance), at once.
ref guestfish --ro -a "$d/ext4.img" -a "$d/xfs.img" -a "$d/term.img" > "$d/ref.log" 2>&1 <<EOF &
run
mount-ro /dev/sda1 /
tar-out / $d/ext4.tar numericowner:true
umount-all
mount-ro /dev/sdb1 /
tar-out / $d/xfs.tar numericowner:true
umount-all
mount-ro /dev/sdc /
checksum sha256 /kept.bin
is-dir /kept-dir
EOF
ref_pid=$!
"$run" guestmount --ro -a "$d/xfs.img" -m /dev/sda1 "$d/mnt-xcheck" 2> "$d/xcheck.err" &
x_pid=$!
"$run" guestmount --ro -a "$d/ext4.img" -m /dev/sda1 "$d/mnt-check" ||
  fail "read-only guestmount of ext4 after the changes"
python3 "$listing" dir "$d/mnt-check" > "$d/ext4.after"
"$run" guestunmount "$d/mnt-check"
wait "$x_pid" || fail "read-only guestmount of xfs: $(cat "$d/xcheck.err")"
python3 "$listing" dir "$d/mnt-xcheck" > "$d/xfs.after"
"$run" guestunmount "$d/mnt-xcheck"
wait "$ref_pid" || fail "libguestfs's guestfish: $(cat "$d/ref.log")"

diff -u "$d/ext4.expected" "$d/ext4.after" || fail "ext4: a fresh guestmount sees another tree"
diff -u "$d/xfs.expected" "$d/xfs.after" || fail "xfs: a fresh guestmount sees another tree"
python3 "$listing" tar "$d/ext4.tar" > "$d/ext4.ref"
python3 "$listing" tar "$d/xfs.tar" > "$d/xfs.ref"
diff -u "$d/ext4.expected" "$d/ext4.ref" || fail "ext4: libguestfs's guestfish sees another tree"
diff -u "$d/xfs.expected" "$d/xfs.ref" || fail "xfs: libguestfs's guestfish sees another tree"
# The SIGTERM session's writes (kept.bin is random.bin before its patch).
grep -qx true "$d/ref.log" || fail "SIGTERM: kept-dir is missing: $(cat "$d/ref.log")"
[ "$(grep -c '^[0-9a-f]\{64\}$' "$d/ref.log")" = 1 ] || fail "SIGTERM: no checksum: $(cat "$d/ref.log")"
[ "$(grep '^[0-9a-f]\{64\}$' "$d/ref.log")" = "$(cat "$d/kept.sha")" ] ||
  fail "SIGTERM: kept.bin differs on the disk"
echo "ok: ext4 ($(wc -l < "$d/ext4.expected") entries), xfs ($(wc -l < "$d/xfs.expected") entries), SIGTERM"
