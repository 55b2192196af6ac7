#!/bin/bash -
# Bad input through the whole native engine: corrupted images (partition
# tables, LVM2 metadata, qcow2 headers and chains, filesystem
# superblocks), each given to virt-df with GUESTKIT_ENGINE=native.  Each
# must give rows or one clear error line and exit 0 or 1 in bounded time
# -- never a crash, a hang or (under make check-sanitize / valgrind) an
# out-of-bounds read.  No appliance is booted: the native engine may say
# it is not sure, which is then an error, not a fallback.
# The filesystem parsers have their own corrupt corpora in
# tests/test-native-fs-*.sh; the qcow2 reader in tests/test-native-qcow2.sh.
# First, every valid test image must give its rows natively (exit 0):
# under make check-valgrind and check-sanitize that runs every parser
# over real filesystems without booting anything (the comparisons with
# the appliance are in test-virt-df-native.sh and tests/test-native-fs-*).
set -e
. "$abs_top_builddir/tests/functions.sh"
require_images

d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT

native_images="$abs_top_builddir/tests/images-native"
valid=0
for img in "$images"/*.img "$images"/*.qcow2 "$native_images"/*.img \
           "$native_images"/*.qcow2; do
  case "${img##*/}" in
    span-*|stripe-*) continue ;;   # half of a VG: "not sure" (tested below)
    gpt-badprimary.img) ;;         # Linux shows no partitions: no rows
  esac
  GUESTKIT_ENGINE=native timeout 120 "$run" ${GUESTKIT_TEST_VALGRIND:-} \
    virt-df -a "$img" > "$d/out" 2> "$d/err" ||
    { cat "$d/err" >&2; fail "${img##*/}: virt-df failed on a valid image"; }
  ! grep -qE 'Sanitizer|runtime error' "$d/err" || { cat "$d/err" >&2; fail "${img##*/}: memory error"; }
  valid=$((valid + 1))
done
GUESTKIT_ENGINE=native "$run" ${GUESTKIT_TEST_VALGRIND:-} virt-df \
  -a "$images/span-a.img" -a "$images/span-b.img" > /dev/null
echo "ok: $valid valid images read natively"

cd "$d"

# Copies of the test images to corrupt (sparse), in place by Python.
cp --sparse=always "$images/lvm.img" lvm.img
cp --sparse=always "$images/xfs-gpt.img" gpt.img
cp --sparse=always "$images/ext4-mbr.img" mbr.img
cp --sparse=always "$images/wholefs.img" ext4.img
cp --sparse=always "$images/fat32-mbr.img" fat.img

python3 - <<'PY'
import struct, zlib, subprocess

def copy(src, dst):
    # Sparse: the images are mostly holes.
    subprocess.run(['cp', '--sparse=always', src, dst], check=True)

def patch(path, off, data):
    with open(path, 'r+b') as f:
        f.seek(off); f.write(data)

def read(path, off, n):
    with open(path, 'rb') as f:
        f.seek(off); return f.read(n)

def lvm_crc(init, buf):
    # lvm2's calc_crc: CRC-32 without the pre/post inversion.
    return (~zlib.crc32(buf, ~init & 0xffffffff)) & 0xffffffff

# --- GPT: edit the primary header, recompute its CRC (so it is trusted).
def gpt(name, **fields):
    copy('gpt.img', name)
    h = bytearray(read(name, 512, 92))
    layout = {'first_usable': (40, '<Q'), 'last_usable': (48, '<Q'),
              'entries_lba': (72, '<Q'), 'nentries': (80, '<I'),
              'esize': (84, '<I'), 'hdr_size': (12, '<I')}
    for k, v in fields.items():
        off, fmt = layout[k]
        struct.pack_into(fmt, h, off, v)
    size = struct.unpack_from('<I', h, 12)[0]
    struct.pack_into('<I', h, 16, 0)
    hb = bytes(h) + read(name, 512 + 92, max(0, min(size, 512) - 92))
    struct.pack_into('<I', h, 16, zlib.crc32(hb[:min(size, 512)]))
    patch(name, 512, bytes(h))

gpt('gpt-nentries-huge.img', nentries=0xffffffff)
gpt('gpt-esize-0.img', esize=0)
gpt('gpt-esize-odd.img', esize=129)
gpt('gpt-esize-huge.img', esize=0x80000000)
gpt('gpt-entries-beyond.img', entries_lba=1 << 60)
gpt('gpt-usable-beyond.img', last_usable=(1 << 63) + 5)
gpt('gpt-hdrsize-huge.img', hdr_size=0xffffffff)
# A partition entry beyond the end of the disk (entry CRC recomputed).
copy('gpt.img', 'gpt-part-beyond.img')
ents = bytearray(read('gpt-part-beyond.img', 1024, 128 * 128))
struct.pack_into('<Q', ents, 40, (1 << 40))
patch('gpt-part-beyond.img', 1024, bytes(ents))
h = bytearray(read('gpt-part-beyond.img', 512, 92))
struct.pack_into('<I', h, 88, zlib.crc32(bytes(ents)))
struct.pack_into('<I', h, 16, 0)
struct.pack_into('<I', h, 16, zlib.crc32(bytes(h)))
patch('gpt-part-beyond.img', 512, bytes(h))

# --- MBR: entries beyond the disk, an EBR loop, a long EBR chain.
def mbr_entry(slot, boot, ptype, start, count):
    return (446 + 16 * slot,
            struct.pack('<B3sB3sII', boot, b'\0\0\0', ptype, b'\0\0\0', start, count))
copy('mbr.img', 'mbr-beyond.img')
patch('mbr-beyond.img', *mbr_entry(0, 0, 0x83, 2048, 0xffffff00))
copy('mbr.img', 'mbr-start-beyond.img')
patch('mbr-start-beyond.img', *mbr_entry(1, 0, 0x83, 0xfffff000, 100))
copy('mbr.img', 'mbr-ebr-loop.img')
patch('mbr-ebr-loop.img', *mbr_entry(1, 0, 0x05, 204800, 40000))
ebr = bytearray(512)
ebr[446:462] = mbr_entry(0, 0, 0x83, 63, 100)[1]
ebr[462:478] = mbr_entry(1, 0, 0x05, 0, 40000)[1]   # points to itself
ebr[510:512] = b'\x55\xaa'
patch('mbr-ebr-loop.img', 204800 * 512, bytes(ebr))
copy('mbr.img', 'mbr-ebr-long.img')
patch('mbr-ebr-long.img', *mbr_entry(1, 0, 0x05, 204800, 50000))
for i in range(2000):
    ebr = bytearray(512)
    ebr[446:462] = mbr_entry(0, 0, 0x83, 1, 1)[1]
    ebr[462:478] = mbr_entry(1, 0, 0x05, 2 * (i + 1), 2)[1]
    ebr[510:512] = b'\x55\xaa'
    patch('mbr-ebr-long.img', (204800 + 2 * i) * 512, bytes(ebr))
copy('mbr.img', 'mbr-boot-bad.img')
patch('mbr-boot-bad.img', *mbr_entry(0, 0x42, 0x83, 2048, 1000))

# --- LVM2: the PV is partition 1 of lvm.img, at 64 KiB.
pv = 65536
lab = next(s * 512 for s in range(4) if read('lvm.img', pv + s * 512, 8) == b'LABELONE')
pvh = lab + struct.unpack('<I', read('lvm.img', pv + lab + 20, 4))[0]
mda = struct.unpack('<Q', read('lvm.img', pv + pvh + 32 + 8 + 16 + 16, 8))[0]
roff, rsize = struct.unpack('<QQ', read('lvm.img', pv + mda + 40, 16))
text = read('lvm.img', pv + mda + roff, rsize).decode()

def lvm(name, new_text=None, raw=None, hdr=None):
    copy('lvm.img', name)
    if new_text is not None:
        t = new_text.encode()
        patch(name, pv + mda + roff, t + b'\0' * 512)
        r = bytearray(read(name, pv + mda + 40, 24))
        struct.pack_into('<QQI', r, 0, roff, len(t), lvm_crc(0xf597a6cf, t))
        patch(name, pv + mda + 40, bytes(r))
    if raw is not None:
        patch(name, pv + mda + 40, struct.pack('<QQ', *raw))
    if hdr is not None:
        patch(name, pv + mda + 20, hdr)
    m = read(name, pv + mda, 512)
    patch(name, pv + mda, struct.pack('<I', lvm_crc(0xf597a6cf, m[4:])))

lvm('lvm-extents-huge.img', text.replace('extent_count = 80', 'extent_count = 999999999999999999'))
lvm('lvm-extents-negative.img', text.replace('extent_count = 44', 'extent_count = -44'))
lvm('lvm-stripe-beyond.img', text.replace('"pv0", 44', '"pv0", 4400000000'))
lvm('lvm-extent-size-0.img', text.replace('extent_size = 8192', 'extent_size = 0'))
lvm('lvm-pe-start-huge.img', text.replace('pe_start = 2048', 'pe_start = 9223372036854775807'))
lvm('lvm-stripes-0.img', text.replace('stripe_count = 1', 'stripe_count = 0', 1))
lvm('lvm-nesting.img', text.replace('physical_volumes {', 'x ' + '{ a ' * 5000 + 'physical_volumes {'))
lvm('lvm-unterminated.img', text[:len(text) // 2])
lvm('lvm-no-pv.img', text.replace('"pv0", 0', '"pv7", 0'))
lvm('lvm-text-beyond.img', raw=(roff, 1 << 40))
lvm('lvm-text-offset-beyond.img', raw=(1 << 50, rsize))
lvm('lvm-mda-size-0.img', hdr=struct.pack('<IQQ', 1, mda, 0))
copy('lvm.img', 'lvm-bad-checksum.img')
patch('lvm-bad-checksum.img', pv + mda + roff + 10, b'X')

# --- Filesystems (more in tests/test-native-fs-*.sh).
copy('ext4.img', 'ext4-blocks-huge.img')
patch('ext4-blocks-huge.img', 1024 + 4, struct.pack('<I', 0xffffffff))
copy('ext4.img', 'ext4-log-block-size.img')
patch('ext4-log-block-size.img', 1024 + 24, struct.pack('<I', 40))
copy('ext4.img', 'ext4-per-group-0.img')
patch('ext4-per-group-0.img', 1024 + 32, struct.pack('<I', 0))
copy('fat.img', 'fat-cluster-0.img')
patch('fat-cluster-0.img', 1048576 + 13, b'\0')
copy('fat.img', 'fat-fats-huge.img')
patch('fat-fats-huge.img', 1048576 + 36, struct.pack('<I', 0xfffffff0))
PY

# qcow2: a backing chain that loops, a truncated image, an absurd size.
qemu-img create -q -f qcow2 loop-a.qcow2 64M
qemu-img create -q -f qcow2 -b loop-a.qcow2 -F qcow2 loop-b.qcow2
qemu-img rebase -q -u -b loop-b.qcow2 -F qcow2 loop-a.qcow2
qemu-img convert -q -f raw -O qcow2 mbr.img trunc.qcow2
truncate -s 300K trunc.qcow2
qemu-img create -q -f qcow2 huge.qcow2 64M
python3 -c "
import struct
with open('huge.qcow2', 'r+b') as f:
    f.seek(24); f.write(struct.pack('>Q', 1 << 62))"
head -c 1000 mbr.img > tiny.img

n=0
for img in gpt-*.img mbr-*.img lvm-*.img ext4-*.img fat-*.img loop-b.qcow2 \
           trunc.qcow2 huge.qcow2 tiny.img; do
  rc=0
  GUESTKIT_ENGINE=native timeout 60 "$run" ${GUESTKIT_TEST_VALGRIND:-} \
    virt-df -a "$img" > out 2> err || rc=$?
  case $rc in
    0|1) ;;
    124) fail "$img: virt-df hung (killed after 60 s)" ;;
    *) cat err >&2; fail "$img: virt-df exited with $rc" ;;
  esac
  if grep -qE 'Sanitizer|runtime error|Invalid read|Invalid write|uninitialised' err; then
    cat err >&2; fail "$img: memory error"
  fi
  if [ $rc = 1 ]; then
    [ "$(grep -vc '^==' err)" = 1 ] || { cat err >&2; fail "$img: not one error line"; }
    grep -q '^virt-df: ' err || { cat err >&2; fail "$img: the error does not name the tool"; }
  fi
  echo "ok: $img: exit $rc: $(grep -v '^==' err | head -1 || true)$( [ $rc = 0 ] && echo "$(($(wc -l < out) - 1)) rows")"
  n=$((n + 1))
done
[ $n -ge 30 ] || fail "only $n corrupt images"
echo "ok: $n corrupt images"
