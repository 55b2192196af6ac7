#!/bin/bash -
# Every dir-pool verb once, on small volumes, for make check-valgrind
# (test-guestkit-dir.sh moves tens of MiB: too slow under valgrind).
set -e
. "$abs_top_builddir/tests/functions.sh"
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
export GUESTKIT_STATE_DIR="$d/state"
g () { ours guestkit "$@" > /dev/null; }

g pool-define-as vg dir --target "$d/p"
g pool-start vg --build
g pool-list --all --json
g pool-info vg --json
g pool-dumpxml vg
g pool-autostart vg
g vol-create-as vg a.img 1M
g vol-create-as vg b.qcow2 4M --format qcow2
printf '<volume><name>c.img</name><capacity>65536</capacity></volume>' > "$d/v.xml"
g vol-create vg "$d/v.xml"
head -c 256K /dev/urandom > "$d/data"
g vol-upload a.img "$d/data" --pool vg
g vol-download a.img "$d/back" --pool vg
cmp "$d/data" <(head -c 256K "$d/back") || fail "round trip"
g vol-clone a.img a2.img --pool vg
g vol-clone b.qcow2 b2.qcow2 --pool vg --linked
g vol-resize a2.img 2M --pool vg
g vol-resize b.qcow2 8M --pool vg
g vol-wipe a2.img --pool vg
g vol-wipe b.qcow2 --pool vg
g vol-list vg --details
g vol-info b2.qcow2 --pool vg --json
g vol-dumpxml b2.qcow2 --pool vg
g vol-path a.img --pool vg
g vol-rename vg a2.img a3.img
g vol-rename a3.img a2.img --pool vg
: > "$d/p/.gk-tmp-left"
g pool-refresh vg 2> /dev/null
g pool-clean vg
for v in a.img a2.img b2.qcow2 b.qcow2 c.img; do g vol-delete "$v" --pool vg; done
g pool-stop vg
g pool-delete vg
g pool-undefine vg
echo "ok: every dir verb ran clean"
