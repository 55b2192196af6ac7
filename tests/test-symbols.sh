#!/bin/bash -
# libguestkit exports only gk_* symbols, all in a versioned node, and each
# one is documented in guestkit(3) and declared in guestkit.h.
set -e
. "$abs_top_builddir/tests/functions.sh"

so="$abs_top_builddir/lib/.libs/libguestkit.so"
[ -f "$so" ] || fail "$so is not built"
syms=$(nm -D --defined-only "$so" | awk '{print $3}')
bad=$(echo "$syms" | grep -vE '^gk_[a-z0-9_]+@@GUESTKIT_[0-9.]+$|^GUESTKIT_[0-9.]+$' || true)
[ -z "$bad" ] || fail "exported symbols that are not versioned gk_*: $bad"
n=0
for s in $(echo "$syms" | grep '^gk_' | sed 's/@.*//'); do
  grep -q "^=head2 $s\$" "$abs_top_srcdir/lib/guestkit.pod" || fail "$s is not documented in guestkit.pod"
  grep -qw "$s" "$abs_top_srcdir/lib/guestkit.h" || fail "$s is not declared in guestkit.h"
  n=$((n+1))
done
[ "$n" -gt 20 ] || fail "only $n gk_* symbols exported"
# And nothing declared in the header is missing from the library.
for s in $(grep -oE '\bgk_[a-z0-9_]+ \(' "$abs_top_srcdir/lib/guestkit.h" | sed 's/ (//' | sort -u); do
  echo "$syms" | grep -q "^$s@@" || fail "$s is declared in guestkit.h but not exported"
done
echo "ok: $n gk_* symbols, all versioned, documented and declared"
