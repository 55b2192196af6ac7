#!/bin/bash -
# Every option and verb of guestkit is documented in guestkit(1).
set -e
. "$abs_top_builddir/tests/functions.sh"
pod="$abs_srcdir/guestkit.pod"
for opt in $(ours guestkit --long-options); do
  grep -q "^=item B<$opt>" "$pod" || fail "$opt is not documented in guestkit.pod"
done
for verb in $(ours guestkit --verbs); do
  grep -q "^=item B<$verb>" "$pod" || grep -q "(also B<$verb>)" "$pod" ||
    fail "verb $verb is not documented in guestkit.pod"
done
podchecker -warnings "$pod" 2>&1 | grep -q "pod syntax OK" || fail "podchecker: $pod"
echo "ok: $(ours guestkit --long-options | wc -l) options and $(ours guestkit --verbs | wc -l) verbs documented"
