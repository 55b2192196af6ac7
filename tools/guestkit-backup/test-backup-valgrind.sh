#!/bin/bash -
# guestkit-backup on small images: full, incremental (qcow2 dirty bitmap
# and raw checksums), restore, verify (also of a damaged backup), ls and
# cat through the native engine.  Run plainly by make check, under
# valgrind by make check-valgrind and under ASan/UBSan by make
# check-sanitize, with leaks and memory errors fatal.
set -e
. "$abs_top_builddir/tests/functions.sh"
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
b () { "$run" ${GUESTKIT_TEST_VALGRIND:-} guestkit-backup "$@"; }
cd "$d"

qemu-img create -q -f qcow2 q.qcow2 16M
qemu-io -f qcow2 -c 'write -P 0x11 0 1M' -c 'write -z 4M 1M' q.qcow2 > /dev/null
b -q full -a q.qcow2 --format qcow2 bq
qemu-io -f qcow2 -c 'write -P 0x12 2M 64k' -c 'write -z 0 64k' q.qcow2 > /dev/null
b -q inc -a q.qcow2 --format qcow2 bq
b -q restore -o q.raw bq
qemu-img compare -q -f qcow2 -F raw q.qcow2 q.raw || fail "qcow2 restore"
b -q verify bq
b show bq > /dev/null

mkdir -p tree/etc; echo hi > tree/etc/motd; ln -s motd tree/etc/l
truncate -s 16M r.img; mkfs.ext4 -q -F -d tree r.img
b -q full -a r.img --format raw -O raw br
echo changed > tree/etc/motd
mkfs.ext4 -q -F -d tree r.img
b -q inc -a r.img --format raw br
b -q restore -O qcow2 -o r.qcow2 br
qemu-img compare -q -f raw -F qcow2 r.img r.qcow2 || fail "raw restore"
[ "$(b cat -m /dev/sda br /etc/l)" = changed ] || fail "cat"
[ "$(b ls -l -m /dev/sda br /etc | wc -l)" = 2 ] || fail "ls"
b cat -m /dev/sda br /etc/none 2> /dev/null && fail "cat of a missing file"
printf 'XX' | dd of=br/$(b list br | head -1)/disk.raw bs=1 seek=$((1024*1024+5)) conv=notrunc status=none
b verify --backup "$(b list br | head -1)" br 2> err && fail "damage not found"
grep -q "does not match its checksum" err || fail "verify: $(cat err)"
echo "ok: backups of small images${GUESTKIT_TEST_VALGRIND:+ under valgrind}"
