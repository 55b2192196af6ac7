#!/bin/bash -
# virt-df with libvirt: all-guests mode (sorted by name, -P, --uuid, --csv)
# and -d by name and UUID, against libguestfs's virt-df, with a libvirtd
# this test starts and stops.  Domains are defined, never started.
set -e
. "$abs_top_builddir/tests/functions.sh"
. "$abs_top_srcdir/tests/libvirtd.sh"
require_images

d="$(mktemp -d)"
cleanup_extra="$d"
start_libvirtd

domain_xml () {     # name uuid disk...
  local name="$1" uuid="$2"; shift 2
  local letters=(a b c d) i=0 disk
  echo "<domain type='qemu'><name>$name</name><uuid>$uuid</uuid>"
  echo "<memory unit='MiB'>256</memory><os><type arch='x86_64'>hvm</type></os><devices>"
  for disk in "$@"; do
    echo "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
    echo "<source file='$disk'/><target dev='vd${letters[$i]}' bus='virtio'/></disk>"
    i=$((i+1))
  done
  # A cdrom with no media: skipped.
  echo "<disk type='file' device='cdrom'><target dev='sda' bus='sata'/><readonly/></disk>"
  echo "</devices></domain>"
}

# Names out of alphabetical order, so sorting is tested.
domain_xml gktest-zeta 6b3c8a8e-0000-4000-8000-00000000000a "$images/fat32-mbr.img" > "$d/zeta.xml"
domain_xml gktest-alpha 6b3c8a8e-0000-4000-8000-00000000000b "$images/span-a.img" "$images/span-b.img" > "$d/alpha.xml"
domain_xml gktest-mid 6b3c8a8e-0000-4000-8000-00000000000c "$images/wholefs.img" > "$d/mid.xml"
# A guest whose disk is missing: both tools skip it and exit 0.
domain_xml gktest-missing 6b3c8a8e-0000-4000-8000-00000000000d "$d/no-such-disk.img" > "$d/missing.xml"
define_domain "$d/zeta.xml" gktest-zeta
define_domain "$d/alpha.xml" gktest-alpha
define_domain "$d/mid.xml" gktest-mid
define_domain "$d/missing.xml" gktest-missing

others=$(virsh -q -c "$libvirt_uri" list --all --name | grep -v '^gktest-' | grep -c . || true)
[ "$others" = 0 ] || echo "note: $others other domains are defined; they are compared too"

compare_virt_df "all guests" -c "$libvirt_uri"
compare_virt_df "all guests, --csv --uuid, one thread" --csv --uuid -P 1 -c "$libvirt_uri"
compare_virt_df "-d by name" -d gktest-alpha -c "$libvirt_uri"
compare_virt_df "-d by UUID" -d 6b3c8a8e-0000-4000-8000-00000000000c -c "$libvirt_uri"

# Errors: an unknown domain, and a guest whose disk is missing, are one
# line and exit 1 (the message shapes differ: PROGRAM: MESSAGE).
for dom in no-such-domain gktest-missing; do
  rrc=0; orc=0
  ref virt-df -d "$dom" -c "$libvirt_uri" > "$d/ref.out" 2> "$d/ref.err" || rrc=$?
  ours virt-df -d "$dom" -c "$libvirt_uri" > "$d/ours.out" 2> "$d/ours.err" || orc=$?
  [ "$rrc" = 1 ] && [ "$orc" = 1 ] || fail "-d $dom: exit $orc, reference $rrc"
  [ ! -s "$d/ours.out" ] || fail "-d $dom printed a title"
  [ "$(wc -l < "$d/ours.err")" = 1 ] || fail "-d $dom: not one line: $(cat "$d/ours.err")"
  echo "ok: -d $dom: $(cat "$d/ours.err")"
done
grep -q "^virt-df: no libvirt domain called ‘no-such-domain’" "$d/ours.err" ||
  grep -q "no-such-disk.img" "$d/ours.err" || fail "error messages"

# -v says why the guest with the missing disk was skipped (virt-df is silent).
ours virt-df -v -P 2 -c "$libvirt_uri" > /dev/null 2> "$d/err" || true
grep -q "^virt-df: gktest-missing: skipped: .*no-such-disk.img: No such file or directory" "$d/err" || fail "-v: no skip reason"
echo "ok: -v gives the reason a guest was skipped"
