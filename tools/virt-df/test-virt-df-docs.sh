#!/bin/bash -
# Every long option of virt-df is documented in virt-df(1).
set -e
. "$abs_top_builddir/tests/functions.sh"

pod="$abs_srcdir/virt-df.pod"
missing=0
for opt in $(ours virt-df --long-options); do
  if ! grep -q "^=item B<$opt>" "$pod"; then
    echo "$0: $opt is not documented in virt-df.pod" >&2
    missing=1
  fi
done
[ "$missing" = 0 ] || fail "undocumented options"
if command -v podchecker >/dev/null; then
  podchecker -warnings "$pod" 2>&1 | grep -q "pod syntax OK" || fail "podchecker: $pod"
fi
echo "ok: $(ours virt-df --long-options | wc -l) long options documented"
