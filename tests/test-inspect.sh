#!/bin/bash -
# OS inspection through the library equals libguestfs's guestfish
# inspect-* on the fake Linux root.
set -e
. "$abs_top_builddir/tests/functions.sh"
require_images
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT

env -u LIBGUESTFS_BACKEND_SETTINGS "$abs_top_builddir/tests/inspect-print" "$images/linux.img" raw > "$d/ours"

# The same facts from the reference, in the same "key: value" form, in one
# appliance launch: the test image has exactly one root, /dev/sda1, which
# the reference's own inspect-os must confirm.
root=/dev/sda1
ref guestfish --ro --format=raw -a "$images/linux.img" > "$d/facts" <<GF
run
inspect-os
inspect-get-type $root
inspect-get-distro $root
inspect-get-product-name $root
inspect-get-major-version $root
inspect-get-minor-version $root
inspect-get-hostname $root
inspect-get-arch $root
inspect-get-package-format $root
inspect-get-mountpoints $root
GF
[ "$(sed -n 1p "$d/facts")" = "$root" ] || fail "reference roots: $(cat "$d/facts")"
{
  echo "root: $root"
  sed -n 2p "$d/facts" | sed 's/^/type: /'
  sed -n 3p "$d/facts" | sed 's/^/distro: /'
  sed -n 4p "$d/facts" | sed 's/^/product-name: /'
  sed -n 5p "$d/facts" | sed 's/^/major-version: /'
  sed -n 6p "$d/facts" | sed 's/^/minor-version: /'
  sed -n 7p "$d/facts" | sed 's/^/hostname: /'
  sed -n 8p "$d/facts" | sed 's/^/arch: /'
  sed -n 9p "$d/facts" | sed 's/^/package-format: /'
  sed -n '10,$p' "$d/facts" | sed 's/^\(.*\): \(.*\)$/mountpoint: \1 \2/'
} > "$d/ref"
cat "$d/ours"
same "$d/ref" "$d/ours" "inspection of linux.img"
grep -qx "type: linux" "$d/ours" || fail "not detected as linux"
grep -qx "hostname: guestkit-test" "$d/ours" || fail "hostname"
echo "ok: inspection matches libguestfs"
