#!/bin/bash -
# guestkit-backup of an rbd pool volume, against a one-node Ceph cluster
# started for the test (tests/ceph-cluster.sh): the full backup reads a
# snapshot (the checkpoint), the incremental one only what rbd diff
# reports since it, the checkpoint moves; restores into a file and into
# a new rbd volume equal `rbd export` of the image at each point.
set -e
. "$abs_top_builddir/tests/functions.sh"
# Ports of their own: other rbd tests may run at once.
export CEPH_TEST_MON_V1_PORT=${CEPH_TEST_MON_V1_PORT_BACKUP:-16891}
export CEPH_TEST_MON_V2_PORT=${CEPH_TEST_MON_V2_PORT_BACKUP:-13402}
. "$abs_top_srcdir/tests/ceph-cluster.sh"

d="$(mktemp -d)"
cleanup_extra="$d"
export GUESTKIT_STATE_DIR="$d/state"
b () { ours guestkit-backup "$@"; }
g () { ours guestkit "$@"; }
export_to () { rm -f "$2"; rbd_cmd export --no-progress "gkbk/$1" "$2" > /dev/null || fail "rbd export $1"; }
snaps () { rbd_cmd snap ls --format json "gkbk/$1" | python3 -c 'import json,sys; print(" ".join(s["name"] for s in json.load(sys.stdin)))'; }
pyrbd () { ceph_pyrbd gkbk "$@"; }
cd "$d"

t0=$(date +%s)
start_ceph_cluster gkbk
ceph_pyrbd_setup
echo "ok: ceph cluster up in $(( $(date +%s) - t0 )) s"
g pool-define-as r rbd --source-host "$ceph_mon_host" --source-name gkbk \
  --auth-type ceph --auth-username admin \
  --secret-usage "file:$ceph_admin_keyring" > /dev/null
g pool-start r > /dev/null
g vol-create-as r v 96M > /dev/null
pyrbd v w 0:1048576 $((10<<20)):3000000 $((95<<20)):1048576

b -q full --vol r/v bk
full=$(b list bk)
[ "$(snaps v | wc -w)" = 1 ] || fail "no snapshot as the checkpoint: $(snaps v)"
s0=$(snaps v)
export_to v at-full.raw
python3 -c "import json,sys; d=json.load(open('bk/$full/manifest.json'))['disks'][0]; assert d['checkpoint']=='$s0' and d['written_bytes']<6<<20, d"

pyrbd v w $((4<<20)):65536 $((50<<20)):2097152
pyrbd v x $((95<<20)):1048576
b -q inc --vol r/v bk
inc=$(b list bk | tail -1)
python3 - bk/$inc/manifest.json <<'PY' || fail "inc manifest"
import json, sys
d = json.load(open(sys.argv[1]))["disks"][0]
assert d["changes"] == "checkpoint", d
assert d["written_bytes"] <= (2 << 20) + 65536, d["written_bytes"]
PY
[ "$(snaps v | wc -w)" = 1 ] && [ "$(snaps v)" != "$s0" ] || fail "the checkpoint did not move: $(snaps v)"
export_to v now.raw
b -q restore -o r.raw bk
cmp r.raw now.raw || fail "restore of the chain differs from rbd export"
b -q restore --backup "$full" -o r0.raw bk
cmp r0.raw at-full.raw || fail "restore of the full backup differs"
b -q restore --to-vol r/restored bk
export_to restored restored.raw
cmp restored.raw now.raw || fail "restore into a new rbd volume differs"
g vol-list r | grep -q gk-tmp && fail "a temporary volume was left"
b -q verify bk
echo "ok: rbd volume: full (snapshot) + incremental (rbd diff), restores identical"
