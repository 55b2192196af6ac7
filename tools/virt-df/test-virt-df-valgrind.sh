#!/bin/bash -
# virt-df end to end under valgrind (run by make check-valgrind): no
# invalid access and no definite leak in guestkit, on a real image.
set -e
. "$abs_top_builddir/tests/functions.sh"
require_images
command -v valgrind >/dev/null || fail "valgrind is not installed (scripts/setup.sh installs it)"
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT

rc=0
env -u LIBGUESTFS_BACKEND_SETTINGS "$run" --valgrind virt-df --format=raw -a "$images/wholefs.img" > "$d/out" 2> "$d/err" || rc=$?
cat "$d/err" >&2
[ "$rc" = 0 ] || fail "virt-df under valgrind: exit $rc (119 = valgrind found errors)"
grep -q "^wholefs.img:/dev/sda " "$d/out" || fail "no row: $(cat "$d/out")"
rc=0
env -u LIBGUESTFS_BACKEND_SETTINGS "$run" --valgrind virt-df --csv -h -a "$images/wholefs.img" > "$d/out" 2> "$d/err" || rc=$?
[ "$rc" = 1 ] || fail "option error under valgrind: exit $rc"
echo "ok: virt-df under valgrind"
