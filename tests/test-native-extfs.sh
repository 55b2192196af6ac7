#!/bin/bash -
# The native engine's ext2/3/4 file reader (lib/native/fs-ext-files.c)
# against the host kernel: each image is filled by mkfs -d (holes, fast
# and slow symlinks, a 2000-entry htree directory, odd names, hard links,
# a fifo, a socket, devices, setuid/sticky modes, 32-bit ids, xattrs in
# the inode and in a block) and then by the kernel itself through a
# read-write loop mount (nanosecond times before 1970 and after 2038,
# preallocated extents, POSIX ACLs, a kernel-made htree directory with
# holes); then native-extfs-tree's walk of the image must equal the same
# walk of the image mounted read-only by the host kernel: every name,
# inode number, mode, owner, size, st_blocks, link count, device number,
# time, symlink target, content checksum and xattr.  Then lookups that
# fail (ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, ...), filesystems that must
# be "unsure" (a journal to replay, encryption, casefolding), and
# garbage and corrupted images, which must never crash.
set -euo pipefail
. "$abs_top_builddir/tests/functions.sh"

[ "$(id -u)" = 0 ] || skip "needs root (loop mounts)"
for p in mkfs.ext4 debugfs setfattr setfacl python3 mountpoint fallocate; do
  command -v $p >/dev/null || skip "$p is not installed"
done

tree="$abs_top_builddir/tests/native-extfs-tree"
d="$(mktemp -d)"
mnt="$d/mnt"
mkdir "$mnt"
cleanup () {
  if mountpoint -q "$mnt"; then umount "$mnt" || umount -l "$mnt"; fi
  rm -rf "$d"
}
trap cleanup EXIT
cd "$d"

# Ours, under valgrind for make check-valgrind, with a time limit.
native () { timeout 600 "$run" ${GUESTKIT_TEST_VALGRIND:-} "$tree" "$@"; }

truncate -s 16M probe.img
mkfs.ext4 -q -F probe.img
mount -o ro,loop probe.img "$mnt" 2>/dev/null ||
  skip "cannot loop-mount an ext4 image here"
umount "$mnt"

# --- the kernel's view: the same walk, the same format as the driver
cat > walk.py <<'EOF'
import os, sys, stat, zlib
lines = []
def ts(ns):
    s, n = divmod(ns, 10**9)
    return b"%d.%09d" % (s, n)
def describe(rel, full):
    st = os.lstat(full)
    s = b"%s ino=%d mode=%o uid=%d gid=%d size=%d nlink=%d blocks=%d blksize=%d rdev=%d:%d atime=%s mtime=%s ctime=%s" % (
        rel, st.st_ino, st.st_mode, st.st_uid, st.st_gid, st.st_size,
        st.st_nlink, st.st_blocks, st.st_blksize, os.major(st.st_rdev),
        os.minor(st.st_rdev), ts(st.st_atime_ns), ts(st.st_mtime_ns),
        ts(st.st_ctime_ns))
    if stat.S_ISLNK(st.st_mode):
        s += b" target=" + os.readlink(full).hex().encode()
    elif stat.S_ISREG(st.st_mode):
        crc, adler, left = 0, 1, 64 << 20
        with open(full, "rb") as f:
            while left > 0:
                b = f.read(min(1 << 20, left))
                if not b:
                    break
                left -= len(b)
                crc = zlib.crc32(b, crc)
                adler = zlib.adler32(b, adler)
        s += b" data=%08x%08x" % (crc, adler)
    for n in sorted(os.fsencode(n) for n in os.listxattr(full, follow_symlinks=False)):
        s += b" xattr " + n + b"=" + os.getxattr(full, n, follow_symlinks=False).hex().encode()
    lines.append(s)
    if stat.S_ISDIR(st.st_mode):
        for name in os.listdir(full):
            describe((b"" if rel == b"/" else rel) + b"/" + name, full + b"/" + name)
describe(b"/", os.fsencode(sys.argv[1]))
lines.sort()
sys.stdout.buffer.write(b"".join(l + b"\n" for l in lines))
EOF
# -p: what lookups give (readdir never follows a final symlink: ENOTDIR).
cat > probe.py <<'EOF'
import os, sys, stat, errno
mnt = sys.argv[1]
def name(e):
    return errno.errorcode[e.errno]
for p in sys.argv[2:]:
    full = mnt + p
    out = p
    try:
        st = os.lstat(full)
        out += " lstat=OK:%d" % st.st_ino
    except OSError as e:
        st = None
        out += " lstat=" + name(e)
    try:
        out += " readlink=OK:" + os.readlink(full)
    except OSError as e:
        out += " readlink=" + name(e)
    try:
        if st is not None and stat.S_ISLNK(st.st_mode):
            raise OSError(errno.ENOTDIR, "")
        out += " readdir=OK:%d" % len(os.listdir(full))
    except OSError as e:
        out += " readdir=" + name(e)
    try:
        os.getxattr(full, "user.none", follow_symlinks=False)
        out += " getxattr=OK"
    except OSError as e:
        out += " getxattr=" + name(e)
    print(out)
EOF

# --- content for mkfs -d
mkdir -p src/nested/a/b/c src/big-dir src/sticky
printf 'hello\n' > src/small
: > src/empty
head -c 3000001 /dev/urandom > src/random
truncate -s 8M src/holes
dd if=/dev/urandom of=src/holes bs=1k seek=1000 count=10 conv=notrunc status=none
dd if=/dev/urandom of=src/holes bs=1k seek=5003 count=7 conv=notrunc status=none
truncate -s 3M src/tail
printf 'the end' >> src/tail
seq 1 50000 > src/nested/a/b/c/numbers
# Data in every other 4 KiB: hundreds of extents (an extent tree with
# index blocks).
python3 - src/fragmented <<'EOF'
import os, sys
with open(sys.argv[1], "wb") as f:
    for i in range(0, 600, 2):
        f.seek(i * 4096)
        f.write(os.urandom(4096))
    f.truncate(600 * 4096 + 123)
EOF
for i in $(seq -w 0 1999); do
  if [ $((10#$i % 100)) = 0 ]; then echo "$i" > "src/big-dir/entry-$i"
  else : > "src/big-dir/entry-$i"; fi
done
ln -s small src/fast
ln -s "nested/$(printf 'x%.0s' $(seq 1 120))/dangling" src/slow
ln -s nested/a src/dirlink
ln -s loop2 src/loop1
ln -s loop1 src/loop2
echo spaces > "src/name with spaces"
echo unicode > "src/ünïcødé-名前-ελληνικά"
echo dot > src/.hidden
ln src/random src/hardlink
ln src/random src/nested/hardlink2
mkfifo src/fifo
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' src/socket
mknod src/null c 1 3
mknod src/bigdev b 300 70000
echo s > src/setuid;  chmod 4755 src/setuid
echo g > src/setgid;  chmod 2710 src/setgid
echo n > src/nomode;  chmod 0 src/nomode
chmod 1777 src/sticky
echo id > src/highid; chown 100000:200000 src/highid
setfattr -n user.foo -v bar src/small
setfattr -n user.empty src/small
setfattr -n user.bin -v 0x00ff10 src/small
setfattr -n trusted.t -v trusted src/random
setfattr -n security.s -v sec src/random
# Too big for the inode: an xattr block.
setfattr -n user.big -v "$(printf 'v%.0s' $(seq 1 900))" src/empty
setfattr -n user.dir -v d src/nested

# Filled by the kernel (read-write loop mount) after mkfs.
kernel_fill () {
  local img="$1"
  mount -o loop "$img" "$mnt"
  mkdir "$mnt/k"
  echo tiny > "$mnt/k/tiny"
  head -c 200000 /dev/urandom > "$mnt/k/written"
  touch -d '1960-01-01 00:00:00.123456789' "$mnt/k/old"
  touch -d '2100-01-01 00:00:00.5' "$mnt/k/future"
  touch -d '2040-06-01 12:00:00.999999999' "$mnt/k"
  ln -s "$(printf 'k%.0s' $(seq 1 80))" "$mnt/k/kslow"
  ln -s tiny "$mnt/k/kfast"
  touch -h -d '1901-12-14 00:00:00' "$mnt/k/kfast"
  ln "$mnt/k/tiny" "$mnt/k/tiny-link"
  # Unwritten extents with written data in between (ext4 with extents).
  if fallocate -l 3M "$mnt/k/prealloc" 2>/dev/null; then
    dd if=/dev/urandom of="$mnt/k/prealloc" bs=4k seek=100 count=3 \
      conv=notrunc status=none
    fallocate -n -o 8M -l 1M "$mnt/k/prealloc"
  fi
  mknod "$mnt/k/maxdev" c 4095 1048575
  echo huge > "$mnt/k/hugeid"; chown 4000000000:3000000000 "$mnt/k/hugeid"
  setfacl -m u:1234:rwx,g:42:r "$mnt/k/tiny"
  setfacl -d -m u:99:rx "$mnt/k"
  setfattr -n user.k -v kernel "$mnt/k/written"
  setfattr -n security.selinux -v "system_u:object_r:etc_t:s0" "$mnt/k/written"
  python3 - "$mnt/k/many" <<'EOF'
import os, sys
d = sys.argv[1]
os.mkdir(d)
for i in range(3000):
    with open("%s/file-%d-%s" % (d, i, "y" * (i % 50)), "w") as f:
        f.write(str(i) if i % 3 == 0 else "")
for i in range(0, 3000, 7):
    os.unlink("%s/file-%d-%s" % (d, i, "y" * (i % 50)))
EOF
  umount "$mnt"
}

# mk NAME SIZE MKFS-ARGS...
names=()
mk () {
  local name="$1" size="$2"; shift 2
  truncate -s "$size" "$name.img"
  mke2fs -q -F -E nodiscard "$@" -d src "$name.img"
  kernel_fill "$name.img"
  names+=("$name")
}
# (mke2fs picks 1 KiB blocks for small filesystems: -b 4096 where 4 KiB
# blocks are wanted.)
mk ext4          256M -t ext4 -b 4096
mk ext4-1k       256M -t ext4 -b 1024
mk ext4-2k       256M -t ext4 -b 2048 -O inline_data
mk ext4-inline   256M -t ext4 -b 4096 -O inline_data
mk ext4-i128     256M -t ext4 -b 4096 -I 128
mk ext4-noextent 256M -t ext4 -b 4096 -O ^extent,^64bit
mk ext4-bigalloc 512M -t ext4 -b 4096 -O bigalloc -C 65536
mk ext3          256M -t ext3 -b 4096
mk ext3-1k       256M -t ext3 -b 1024
mk ext2          256M -t ext2 -b 4096

# --- the walks
reference () {
  mount -o ro,loop "$1" "$mnt"
  python3 walk.py "$mnt" > "$2"
  umount "$mnt"
}
# Under valgrind (make check-valgrind): four of the variants, every
# code path (extents, 1 KiB blocks, inline data, block maps), and fewer
# corrupted images, to keep the suite's time.
walk_names=("${names[@]}")
ncorrupt=40
if [ -n "${GUESTKIT_TEST_VALGRIND:-}" ]; then
  walk_names=(ext4 ext4-1k ext4-inline ext2)
  ncorrupt=10
fi
for name in "${walk_names[@]}"; do
  reference "$name.img" "$name.ref"
  native "$name.img" > "$name.out" || fail "$name: native-extfs-tree failed"
  same "$name.ref" "$name.out" "$name"
  echo "ok: $name: $(wc -l < "$name.out") inodes equal to the kernel's"
done
# Odd request sizes (reads across blocks and extents).
for name in ext4 ext4-1k ext4-inline ext4-bigalloc ext2; do
  [ -f "$name.ref" ] || continue
  native -c 4097 "$name.img" > "$name.out4097" ||
    fail "$name: native-extfs-tree -c 4097 failed"
  same "$name.ref" "$name.out4097" "$name (4097-byte reads)"
done
# At an offset (a partition).
truncate -s 1M offset.img
cat ext4-1k.img >> offset.img
native offset.img 1048576 > offset.out || fail "offset: native-extfs-tree failed"
same ext4-1k.ref offset.out "ext4-1k at an offset"
echo "ok: 4097-byte reads, and at an offset"

# --- lookups: errors and symlinks in the middle of paths
paths=(/ /small /nonexistent /small/x /nested/a/b/c/numbers /nested/../small
       /nested/./a/../a/b /dirlink /dirlink/b/c/numbers /dirlink/b/../b/c
       /loop1 /loop1/x /slow /slow/x /fast /fast/ /small/ /dirlink/ /dirlink/.
       /k/ /fast/. /loop1/ /big-dir/entry-1999
       /big-dir/entry-2000 /k/many /k/many/file-1-y /k/many/file-7-yyyyyyy
       "/name with spaces" "/$(printf 'n%.0s' $(seq 1 256))" /fifo /null)
for name in ext4 ext4-1k ext4-inline ext2; do
  mount -o ro,loop "$name.img" "$mnt"
  python3 probe.py "$mnt" "${paths[@]}" > "$name.pref"
  umount "$mnt"
  args=()
  for p in "${paths[@]}"; do args+=(-p "$p"); done
  native "${args[@]}" "$name.img" > "$name.pout" ||
    fail "$name: native-extfs-tree -p failed"
  same "$name.pref" "$name.pout" "$name: lookups"
done
echo "ok: ${#paths[@]} lookups equal to the kernel's"

# --- unsure: exit status 2 and the reason
expect_unsure () {
  local name="$1" pattern="$2" rc=0
  native "$name.img" > "$name.out" 2> "$name.err" || rc=$?
  [ $rc -eq 2 ] || { cat "$name.err" >&2; fail "$name: exit status $rc, expected 2 (unsure)"; }
  grep -q -- "$pattern" "$name.err" ||
    { cat "$name.err" >&2; fail "$name: message does not match '$pattern'"; }
  echo "ok: $name: $(cat "$name.err")"
}
cp ext4-1k.img recover.img
debugfs -w -R "feature needs_recovery" recover.img >/dev/null 2>&1
expect_unsure recover "needs recovery"
truncate -s 64M encrypt.img
mkfs.ext4 -q -F -O encrypt -d src encrypt.img
expect_unsure encrypt "encryption"
truncate -s 64M casefold.img
mkfs.ext4 -q -F -O casefold -d src casefold.img
expect_unsure casefold "case"
cp ext4-1k.img orphan.img
debugfs -w -R "ssv last_orphan 12" orphan.img >/dev/null 2>&1
expect_unsure orphan "orphan"
head -c 8M /dev/urandom > garbage.img
expect_unsure garbage "no superblock"
truncate -s 8M zeros.img
expect_unsure zeros "no superblock"

# --- corrupt images: any exit status but a crash (or a valgrind error).
# Random bytes in the metadata of small images: the inode table's used
# part, the directories, the extent tree blocks, the descriptors.
mkdir -p small
cp -a src/small src/holes src/fast src/slow src/nested src/empty \
  src/fragmented src/random src/dirlink small/
for i in $(seq 1 40); do : > small/nested/f$i; done
# meta IMAGE: "offset length" of the metadata worth corrupting.  (awk, not
# head: head's early exit would SIGPIPE the writers, and pipefail makes
# that the script's failure.)
meta () {
  local bs
  bs=$(dumpe2fs -h "$1" 2>/dev/null | awk '/^Block size:/ { print $3 }')
  dumpe2fs "$1" 2>/dev/null |
    awk -v bs=$bs '/Inode table at/ { split($4, r, "-"); if (!done++) print r[1] * bs, 16384 }
                   /Primary superblock at/ { sub(",", "", $4); print ($4 + 1) * bs, bs }'
  for p in / /nested /nested/a /nested/a/b/c /fragmented /random; do
    debugfs -R "blocks $p" "$1" 2>/dev/null | tr ' ' '\n' | { grep . || :; } |
      awk 'NR <= 2' | while read b; do echo $((b * bs)) $bs; done
  done
  # the first index or leaf block of the extent tree
  debugfs -R "stat /fragmented" "$1" 2>/dev/null | { grep -o 'ETB0):[0-9]*' || :; } |
    awk 'NR == 1' | cut -d: -f2 | while read b; do echo $((b * bs)) $bs; done
}
n=0
for opts in "-t ext4 -b 1024 -O inline_data" "-t ext4 -b 4096" "-t ext2 -b 1024"; do
  n=$((n + 1))
  truncate -s 16M small$n.img
  mke2fs -q -F $opts -d small small$n.img
  meta small$n.img > small$n.meta
  python3 - small$n.img small$n.meta $n $ncorrupt <<'EOF'
import random, shutil, sys
img, meta, n, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
regions = [tuple(map(int, l.split())) for l in open(meta) if l.strip()]
random.seed(1234 + n)
for k in range(count):
    out = "corrupt-%d-%02d.img" % (n, k)
    shutil.copyfile(img, out)
    with open(out, "r+b") as f:
        for j in range(1 + k % 4):
            start, length = random.choice(regions)
            f.seek(start + random.randrange(length))
            f.write(bytes(random.randrange(256) for _ in range(random.choice([1, 2, 4, 16]))))
EOF
done
declare -A status
for f in corrupt-*.img; do
  rc=0
  native "$f" > "$f.out" 2> "$f.err" || rc=$?
  [ $rc -le 2 ] || { cat "$f.err" >&2; fail "$f: exit status $rc (crash?)"; }
  status[$rc]=$((${status[$rc]:-0} + 1))
done
echo "ok: $(ls corrupt-*.img | wc -l) corrupt images, no crash" \
  "(exit status 0: ${status[0]:-0}, 1: ${status[1]:-0}, 2: ${status[2]:-0})"

echo "$0: PASS"
