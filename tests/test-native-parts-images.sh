#!/bin/bash -
# The native engine's partition tables and LVM2 against the host's tools:
# partitions made with sfdisk/sgdisk (MBR with logicals, GPT with 512 and
# 4096-byte sectors, GPT with its primary header zeroed) and listed by
# sfdisk --json; LVs of tests/images listed by the host's lvm2 over
# read-only loop devices, their bytes read at lvm2's offsets; corrupt
# images generated here must give an error or "unsure", never a crash.
set -e
. "$abs_top_builddir/tests/functions.sh"
for p in sfdisk sgdisk losetup python3 lvs; do
  command -v $p > /dev/null || skip "$p is not installed (scripts/setup.sh installs it)"
done
[ "$(id -u)" -eq 0 ] || skip "loop devices need root"
images="$abs_top_builddir/tests/images"
[ -f "$images/stamp" ] || skip "no test images (make check builds them)"

nl="$abs_top_builddir/tests/native-list"
d="$(mktemp -d)"
loops=()
cleanup () {
  for l in "${loops[@]}"; do losetup -d "$l" || :; done
  rm -rf "$d"
}
trap cleanup EXIT
export LVM_SUPPRESS_FD_WARNINGS=1
fail () { echo "$0: FAIL: $*" >&2; exit 1; }

# sfdisk --json of a disk as native-list -l prints it (bytes, sda).
expect () {
  sfdisk --json "$1" | python3 -c '
import json, sys
t = json.load(sys.stdin)["partitiontable"]
ss = t.get("sectorsize", 512)
for p in t.get("partitions", []):
    n = p["node"][len(t["device"]):].lstrip("p")
    if t["label"] == "gpt":
        print("/dev/sda%s %d %d %s %s" % (n, p["start"] * ss, p["size"] * ss,
              p["type"], p.get("name", "")))
    else:
        print("/dev/sda%s %d %d %s" % (n, p["start"] * ss, p["size"] * ss,
              p["type"]))
' | sort -V
}

compare () {                    # compare WHAT EXPECTED-FILE ACTUAL-FILE
  diff -u "$2" "$3" || fail "$1 differs from the reference"
}

# MBR: primaries, an extended partition with three logicals.
truncate -s 64M "$d/mbr.img"
sfdisk -q "$d/mbr.img" <<'EOF'
label: dos
start=2048, size=20480, type=83
start=22528, size=81920, type=5
start=104448, size=20480, type=7
start=24576, size=16384, type=83
start=43008, size=16384, type=82
start=61440, size=16384, type=8e
EOF
expect "$d/mbr.img" > "$d/mbr.exp"
"$nl" -l "$d/mbr.img" > "$d/mbr.out"
compare "MBR with logicals" "$d/mbr.exp" "$d/mbr.out"
# The logical partition's bytes.
head -c 65536 /dev/urandom > "$d/rand"
dd if="$d/rand" of="$d/mbr.img" bs=512 seek=43008 conv=notrunc status=none
"$nl" -r /dev/sda6 0 65536 "$d/mbr.img" > "$d/p6"
cmp "$d/rand" "$d/p6" || fail "the bytes of /dev/sda6"

# GPT, 512-byte sectors (sgdisk writes it, sfdisk reads it).
truncate -s 64M "$d/gpt.img"
sgdisk -n 1:2048:+8M -t 1:8300 -c 1:root -n 2:0:+16M -t 2:8200 -c 2:swap \
  -n 4:0:+4M -t 4:0700 -c 4:data "$d/gpt.img" > /dev/null
expect "$d/gpt.img" > "$d/gpt.exp"
"$nl" -l "$d/gpt.img" > "$d/gpt.out"
compare "GPT (512)" "$d/gpt.exp" "$d/gpt.out"
"$nl" -l -s 512 "$d/gpt.img" > "$d/gpt.out"
compare "GPT (512, -s 512)" "$d/gpt.exp" "$d/gpt.out"
# The primary header zeroed: the backup gives the same partitions.
cp "$d/gpt.img" "$d/gpt-nop.img"
dd if=/dev/zero of="$d/gpt-nop.img" bs=512 seek=1 count=1 conv=notrunc status=none
"$nl" -l "$d/gpt-nop.img" > "$d/gpt.out"
compare "GPT with its primary header zeroed" "$d/gpt.exp" "$d/gpt.out"

# GPT, 4096-byte sectors: sfdisk on a loop device with 4 KiB sectors.
truncate -s 64M "$d/gpt4k.img"
l="$(losetup --sector-size 4096 -f --show "$d/gpt4k.img")"
loops+=("$l")
sfdisk -q --no-reread --no-tell-kernel "$l" <<'EOF'
label: gpt
start=256, size=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=one
size=4096, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, name=two
EOF
expect "$l" > "$d/gpt4k.exp"
losetup -d "$l"
loops=()
grep -q ' 1048576 8388608 ' "$d/gpt4k.exp" || fail "sfdisk did not use 4 KiB sectors"
"$nl" -l "$d/gpt4k.img" > "$d/gpt4k.out"
compare "GPT (4096)" "$d/gpt4k.exp" "$d/gpt4k.out"
"$nl" -l -s 4096 "$d/gpt4k.img" > "$d/gpt4k.out"
compare "GPT (4096, -s 4096)" "$d/gpt4k.exp" "$d/gpt4k.out"

# The test images' tables.
for img in ext4-mbr xfs-gpt lvm linux fat32-mbr; do
  expect "$images/$img.img" > "$d/$img.exp"
  "$nl" -l "$images/$img.img" | grep "^/dev/sd" > "$d/$img.out"
  compare "$img.img" "$d/$img.exp" "$d/$img.out"
done
[ -z "$("$nl" "$images/wholefs.img")" ] || fail "partitions on wholefs.img"

# LVM: names, sizes and bytes against the host's lvm2.  $1: the PV
# devices (comma-separated); then the images.
check_lvm () {
  local devs="$1"; shift
  lvs --devices "$devs" --config 'devices/obtain_device_list_from_udev=0' \
    --reportformat json --units b --nosuffix \
    -o vg_name,lv_name,lv_size,segtype,seg_start,seg_pe_ranges,vg_extent_size \
    > "$d/lvs.json"
  pvs --devices "$devs" --config 'devices/obtain_device_list_from_udev=0' \
    --reportformat json --units b --nosuffix -o pv_name,pe_start \
    > "$d/pvs.json"
  "$nl" -l "$@" | grep -v "^/dev/sd[a-z][0-9]* " > "$d/lv.out" || :
  # Expected list, and "LV OFFSET COUNT PVDEV PVOFFSET" reads to check:
  # the LV's first MiB and 1 MiB across each segment boundary.
  python3 - "$d/lvs.json" "$d/pvs.json" "$d/lv.exp" "$d/reads" <<'EOF'
import json, sys
lvs = json.load(open(sys.argv[1]))["report"][0]["lv"]
pe_start = {p["pv_name"]: int(p["pe_start"])
            for p in json.load(open(sys.argv[2]))["report"][0]["pv"]}
names = {}
reads = []
prev = {}                       # LV: (PV, byte after its last segment)
for s in lvs:
    name = "/dev/%s/%s" % (s["vg_name"], s["lv_name"])
    names[name] = int(s["lv_size"])
    assert s["segtype"] == "linear", s
    ext = int(s["vg_extent_size"])
    dev, rng = s["seg_pe_ranges"].rsplit(":", 1)
    first, last = (int(x) for x in rng.split("-"))
    start = int(s["seg_start"])
    if start:
        pdev, pend = prev[name]
        reads.append((name, start - 524288, 524288, pdev, pend - 524288))
    reads.append((name, start, 1048576, dev, pe_start[dev] + first * ext))
    prev[name] = (dev, pe_start[dev] + (last + 1) * ext)
with open(sys.argv[3], "w") as f:
    for n in sorted(names):
        print(n, names[n], file=f)
with open(sys.argv[4], "w") as f:
    for r in reads:
        print(*r, file=f)
EOF
  compare "LVs of $*" "$d/lv.exp" "$d/lv.out"
  while read -r lv off count dev pvoff; do
    "$nl" -r "$lv" "$off" "$count" "$@" > "$d/got"
    dd if="$dev" iflag=skip_bytes,count_bytes skip="$pvoff" count="$count" \
      status=none > "$d/want"
    cmp -s "$d/want" "$d/got" || fail "$lv: $count bytes at $off"
    echo "ok: $lv: $count bytes at $off"
  done < "$d/reads"
}

# lvm.img: the PV is partition 1 (offset from sfdisk).
off="$(sfdisk --json "$images/lvm.img" | python3 -c \
  'import json,sys; print(json.load(sys.stdin)["partitiontable"]["partitions"][0]["start"] * 512)')"
l="$(losetup -r -f --show -o "$off" "$images/lvm.img")"
loops+=("$l")
check_lvm "$l" "$images/lvm.img"
# span-a.img + span-b.img: one VG, the LV spans both disks.
la="$(losetup -r -f --show "$images/span-a.img")"
loops+=("$la")
lb="$(losetup -r -f --show "$images/span-b.img")"
loops+=("$lb")
check_lvm "$la,$lb" "$images/span-a.img" "$images/span-b.img"
# Only one of the two disks: the LV is unsure (a PV is missing).
"$nl" -l "$images/span-a.img" | grep -q '^/dev/vg_span/lv_span unsure: .*missing' ||
  fail "lv_span without span-b.img is not unsure"

# Corrupt inputs: an error (1) or unsure (2), never a crash.
corrupt () {                    # corrupt NAME IMG...
  local name="$1" r=0; shift
  "$nl" -l "$@" > /dev/null 2> "$d/err" || r=$?
  case $r in
    1|2) echo "ok: $name: $(head -1 "$d/err")" ;;
    *) cat "$d/err"; fail "$name: exit status $r" ;;
  esac
}
flip () {                       # flip FILE OFFSET: xor one byte with 0x5a
  python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2])); b = f.read(1)
f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0x5a]))' "$1" "$2"
}
cp "$d/gpt.img" "$d/c1.img"; truncate -s 1M "$d/c1.img"
corrupt "truncated GPT" "$d/c1.img"
cp "$d/gpt.img" "$d/c2.img"; flip "$d/c2.img" 520; flip "$d/c2.img" $((64*1048576 - 500))
corrupt "both GPT headers bit-flipped" "$d/c2.img"
cp "$d/gpt.img" "$d/c3.img"; flip "$d/c3.img" 1024; flip "$d/c3.img" $((64*1048576 - 512 - 16384))
corrupt "both GPT entry arrays bit-flipped" "$d/c3.img"
cp "$d/mbr.img" "$d/c4.img"
# EBR loop: the second EBR links back to the first.
python3 -c 'import struct, sys
f = open(sys.argv[1], "r+b"); f.seek(40960 * 512 + 446 + 16)
f.write(bytes([0, 0, 0, 0, 5, 0, 0, 0]) + struct.pack("<II", 0, 16384))' "$d/c4.img"
corrupt "EBR loop" "$d/c4.img"
cp "$d/mbr.img" "$d/c5.img"
python3 -c 'import struct, sys
f = open(sys.argv[1], "r+b"); f.seek(446 + 8); f.write(struct.pack("<I", 0xfffff000))' "$d/c5.img"
corrupt "MBR partition past the end" "$d/c5.img"
# LVM: the PV label's metadata area moved past the end of the disk,
# then the metadata text rewritten with absurd extents (checksums fixed,
# so that the parser and the mapping see them).
head -c 4M "$images/span-a.img" > "$d/pv.img"
python3 - "$d/pv.img" <<'EOF'
import struct, sys, zlib
def lvcrc(b): return (~zlib.crc32(b, ~0xf597a6cf & 0xffffffff)) & 0xffffffff
f = open(sys.argv[1], "r+b"); data = bytearray(f.read())
lab = data.find(b"LABELONE"); assert lab >= 0
hdr = lab + struct.unpack_from("<I", data, lab + 20)[0]
# data area list, zero entry, metadata area list
p = hdr + 40
while struct.unpack_from("<Q", data, p)[0]: p += 16
mda_entry = p + 16
mda = struct.unpack_from("<Q", data, mda_entry)[0]
mh = mda
toff, tsize = struct.unpack_from("<QQ", data, mh + 40)
text = bytes(data[mh + toff: mh + toff + tsize])
text = text.replace(b"extent_count = ", b"extent_count = 999999999999")
struct.pack_into("<QI", data, mh + 48, len(text), lvcrc(text))
data[mh + toff: mh + toff + len(text)] = text
struct.pack_into("<I", data, mh, lvcrc(bytes(data[mh + 4: mh + 512])))
open(sys.argv[1] + ".absurd", "wb").write(data)
bad = bytearray(data)
struct.pack_into("<Q", bad, mda_entry, 1 << 40)
struct.pack_into("<I", bad, lab + 16, lvcrc(bytes(bad[lab + 20: lab + 512])))
open(sys.argv[1] + ".pasteof", "wb").write(bad)
EOF
"$nl" -l "$d/pv.img.absurd" > "$d/out"
grep -q '^/dev/vg_span/lv_span unsure: .*absurd' "$d/out" || { cat "$d/out"; fail "absurd extents"; }
echo "ok: absurd extents: $(cat "$d/out")"
"$nl" -l "$d/pv.img.pasteof" > "$d/out"
[ ! -s "$d/out" ] || fail "a PV whose metadata is past the end gave LVs"
echo "ok: metadata area past EOF: no VG"
for i in 1 2 3 4 5 6 7 8; do    # random bit flips in the label and mda
  cp "$d/pv.img" "$d/c.img"
  for j in 1 2 3; do flip "$d/c.img" $(( (RANDOM % 16) * 512 + RANDOM % 512 )); done
  "$nl" -l "$d/c.img" > /dev/null 2>&1 || [ $? -le 2 ] || fail "flipped PV $i crashed"
done
echo "ok: flipped PV labels"
