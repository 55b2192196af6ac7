#!/bin/bash -
# Every option and command of guestkit-backup is documented in
# guestkit-backup(1) and in --help.
set -e
. "$abs_top_builddir/tests/functions.sh"
pod="$abs_srcdir/guestkit-backup.pod"
ours guestkit-backup --help > help.out
for opt in $(ours guestkit-backup --long-options) $(ours guestkit-backup --short-options); do
  grep -q "^=item .*B<$opt>" "$pod" || fail "$opt is not documented in guestkit-backup.pod"
  grep -qe "$opt\b" help.out || fail "$opt is not in --help"
done
for cmd in full inc restore verify list show ls cat; do
  grep -q "^=item B<$cmd>" "$pod" || fail "command $cmd is not documented"
  grep -q "guestkit-backup $cmd " help.out || fail "command $cmd is not in --help"
done
ours guestkit-backup frobnicate 2> err.out && fail "an unknown command succeeded"
grep -q 'unknown command "frobnicate"' err.out || fail "unknown command: $(cat err.out)"
podchecker -warnings "$pod" 2>&1 | grep -q "pod syntax OK" || fail "podchecker: $pod"
rm -f help.out err.out
echo "ok: $(ours guestkit-backup --long-options | wc -l) options and 8 commands documented"
