#!/bin/bash -
# Every long option of virt-clone is documented in virt-clone(1) and shown
# by --help; every option of virt-manager's virt-clone is one of ours.
set -e
. "$abs_top_builddir/tests/functions.sh"

pod="$abs_srcdir/virt-clone.pod"
missing=0
ours virt-clone --help > help.out.$$
trap 'rm -f help.out.$$' EXIT
for opt in $(ours virt-clone --long-options); do
  if ! grep -q "^=item .*B<$opt>" "$pod"; then
    echo "$0: $opt is not documented in virt-clone.pod" >&2
    missing=1
  fi
  grep -q -- "$opt\b" help.out.$$ || { echo "$0: $opt is not in --help" >&2; missing=1; }
done
[ "$missing" = 0 ] || fail "undocumented options"
# The reference's options (from its --help), all accepted by ours.
[ -x /usr/bin/virt-clone ] ||
  fail "virt-manager's virt-clone is not installed (scripts/setup.sh installs virtinst)"
for opt in $(/usr/bin/virt-clone --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  ours virt-clone --long-options | grep -qx -- "$opt" ||
    fail "virt-manager's $opt is missing"
done
if command -v podchecker >/dev/null; then
  podchecker -warnings "$pod" 2>&1 | grep -q "pod syntax OK" || fail "podchecker: $pod"
fi
echo "ok: $(ours virt-clone --long-options | wc -l) long options documented"
