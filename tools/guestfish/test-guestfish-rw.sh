#!/bin/bash
# Read-write round trip: ours writes (write, upload, tar-in, copy-in,
# edit, mkdir-p, ln-s, chmod, mv, rm, touch, write-append) into a copy
# of a test image; then libguestfs's guestfish and a fresh read-only
# session of ours both see exactly those changes, the filesystem is
# clean (e2fsck -fn), and --ro sessions never change the image (its
# checksum before and after, even when they try to write).
set -euo pipefail
. "${abs_top_builddir:?}/tests/functions.sh"
require_images

d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
# The disk is a volume of a guestkit dir pool: the writes go through
# --vol POOL/VOLUME; the checks open the file itself.
export GUESTKIT_STATE_DIR="$d/state"
ours guestkit pool-define-as gfpool dir --target "$d/pool" > /dev/null
ours guestkit pool-start gfpool --build > /dev/null
cp --sparse=always "$images/linux.img" "$d/pool/rw.img"
ours guestkit pool-refresh gfpool > /dev/null
img="$d/pool/rw.img"

# --vol errors, before any launch.
ours guestfish --vol gfpool/nosuch.img echo x 2> "$d/err" && fail "--vol of a missing volume"
grep -q 'nosuch.img' "$d/err" || fail "--vol missing volume: $(cat "$d/err")"
[ "$(wc -l < "$d/err")" = 1 ] || fail "--vol missing volume: not one line: $(cat "$d/err")"
ours guestfish --vol noslash echo x 2> "$d/err" && fail "--vol without a pool"
grep -qx "guestfish: --vol: ‘noslash’ is not POOL/VOLUME" "$d/err" || fail "--vol noslash: $(cat "$d/err")"
ours guestfish --vol ../etc/passwd echo x 2> "$d/err" && fail "--vol with a path trick"

# What goes in.
head -c 1048576 /dev/urandom > "$d/up.bin"
mkdir -p "$d/tree/sub" "$d/copy/deep/er"
echo "in a tarball" > "$d/tree/sub/file"
ln -s sub/file "$d/tree/link"
tar -C "$d/tree" -cf "$d/tree.tar" .
echo "copied in" > "$d/copy/deep/er/leaf"
up_md5="$(md5sum < "$d/up.bin" | cut -d' ' -f1)"

# The writes, through ours.  EDITOR edits /etc/hostname in place.
EDITOR="sed -i s/guestkit-test/edited-host/" \
ours guestfish --rw --vol gfpool/rw.img -m /dev/sda1 <<EOF2
write /new.txt "written by guestkit\n"
write-append /new.txt "and appended\n"
mkdir-p /a/b/c
upload $d/up.bin /a/b/up.bin
mkdir /t
tar-in $d/tree.tar /t
copy-in $d/copy /
ln-s ../new.txt /a/link
chmod 0600 /a/b/up.bin
touch /empty
write /gone "to be removed"
rm /gone
write /old-name "moved"
mv /old-name /new-name
edit /etc/hostname
upload -<<END /heredoc.txt
line one
line two
END
mkdir-p /tmpdir/deep
write /tmpdir/deep/f "f"
cp-a /tmpdir /tmpcopy
rm-rf /tmpdir
mkdir /emptydir
rmdir /emptydir
rm-f /never-existed
sync
df-h | grep -q /dev/sda1
EOF2

# The checks, run by libguestfs's guestfish and by a fresh read-only
# session of ours: same output, and the expected one.
cat > "$d/check.gf" <<'EOF2'
cat /new.txt
checksum md5 /a/b/up.bin
find /t
cat /t/sub/file
readlink /t/link
find /copy
cat /copy/deep/er/leaf
readlink /a/link
is-file /empty
filesize /empty
exists /gone
cat /new-name
exists /old-name
cat /etc/hostname
cat /heredoc.txt
exists /tmpdir
cat /tmpcopy/deep/f
exists /emptydir
EOF2
# The mode separately: stat prints times that differ per run.
echo 'stat /a/b/up.bin | grep mode' >> "$d/check.gf"

md5_before="$(md5sum < "$img")"
ref guestfish --ro -a "$img" -m /dev/sda1 < "$d/check.gf" > "$d/ref.out"
cat > "$d/expected" <<EOF2
written by guestkit
and appended

$up_md5
/link
/sub
/sub/file
in a tarball

sub/file
/deep
/deep/er
/deep/er/leaf
copied in

../new.txt
true
0
false
moved
false
edited-host

line one
line two

false
f
false
mode: 33152
EOF2
same "$d/expected" "$d/ref.out" "the reference reading ours' writes"

# Ours, read-only: the same output, and writes fail without changing
# the image.
mkdir "$d/out"
{ cat "$d/check.gf"; echo '-write /x "no"'; echo '-mkdir /nope';
  echo '-rm /new.txt'; echo 'exists /x';
  echo "copy-out /t /new.txt $d/out"
  echo "tar-out /copy $d/copy.tgz compress:gzip"
  echo "download /a/b/up.bin $d/down.bin"
  echo "download /etc/hostname -"; } > "$d/check-ro.gf"
ours guestfish --ro -a "$img" -m /dev/sda1 < "$d/check-ro.gf" > "$d/ours.out" 2> "$d/ours.err"
{ cat "$d/expected"; echo false; echo edited-host; } > "$d/expected-ro"
cmp -s "$d/expected-ro" "$d/ours.out" || cat "$d/ours.err" >&2
same "$d/expected-ro" "$d/ours.out" "ours reading its own writes"
grep -q 'internal_write: open: /x: Read-only file system' "$d/ours.err" ||
  fail "write under --ro: $(cat "$d/ours.err")"
[ "$(md5sum < "$img")" = "$md5_before" ] || fail "a --ro session changed the image"
# What copy-out, tar-out and download wrote.
cmp "$d/up.bin" "$d/down.bin" || fail "download: not the uploaded bytes"
[ "$(cat "$d/out/t/sub/file")" = "in a tarball" ] || fail "copy-out of a directory"
[ "$(readlink "$d/out/t/link")" = sub/file ] || fail "copy-out: the symlink"
[ "$(cat "$d/out/new.txt")" = "$(printf 'written by guestkit\nand appended')" ] ||
  fail "copy-out of a file"
[ "$(tar -xzOf "$d/copy.tgz" ./deep/er/leaf)" = "copied in" ] || fail "tar-out"

# The filesystem is clean after ours wrote it.
# /dev/sda1 of linux.img is sectors 2048-327679 (tests/make-images.sh).
dd if="$img" of="$d/part.img" bs=512 skip=2048 count=$(( 327679 - 2048 + 1 )) status=none
e2fsck -fn "$d/part.img" > "$d/fsck.out" 2>&1 || { cat "$d/fsck.out" >&2; fail "e2fsck found errors"; }
echo "ok: read-write round trip"
