#!/bin/bash -
# libguestkit exports only gk_* symbols, all in a versioned node, and each
# one is documented in guestkit(3) and declared in guestkit.h.  The
# GUESTKIT_PRIVATE node (gk_int_*) is exempt from both: it is no API, only
# the helpers guestkit's own loadable modules call (lib/modules.h).
# And the library does not link the libraries those modules exist for.
set -e
. "$abs_top_builddir/tests/functions.sh"

so="$abs_top_builddir/lib/.libs/libguestkit.so"
[ -f "$so" ] || fail "$so is not built"
all=$(nm -D --defined-only "$so" | awk '{print $3}')
syms=$(echo "$all" | grep -vE '^gk_int_[a-z0-9_]+@@GUESTKIT_PRIVATE$|^GUESTKIT_PRIVATE$' || true)
bad=$(echo "$syms" | grep -vE '^gk_[a-z0-9_]+@@GUESTKIT_[0-9.]+$|^GUESTKIT_[0-9.]+$' || true)
[ -z "$bad" ] || fail "exported symbols that are not versioned gk_*: $bad"
bad=$(echo "$syms" | grep -E '^gk_int_' || true)
[ -z "$bad" ] || fail "internal symbols exported outside GUESTKIT_PRIVATE: $bad"

# virt-df with the native engine must start fast: libguestfs, libvirt,
# librbd, librados and libiscsi (~60 libraries between them) are loaded
# only by the modules that need them, never by libguestkit itself.
needed=$(readelf -d "$so" | awk '/NEEDED/ {print $NF}')
[ -n "$needed" ] || fail "readelf -d $so shows no NEEDED entries"
heavy=$(echo "$needed" | grep -E 'libguestfs|libvirt|librbd|librados|libiscsi' || true)
[ -z "$heavy" ] || fail "libguestkit.so links $heavy (only modules/ may)"
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
