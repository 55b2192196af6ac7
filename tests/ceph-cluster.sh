# A throw-away single-node Ceph cluster for a test: one monitor and one
# memstore OSD on 127.0.0.1, no mgr (RBD works without one).  Everything
# (conf, keyrings, mon store, OSD data, logs, admin sockets) lives under
# one temporary directory; the daemons are stopped by PID, never by name.
# Source after functions.sh; then:
#   start_ceph_cluster POOL     # sets ceph_dir, ceph_conf, ceph_mon_host,
#                               # ceph_admin_keyring; stops on exit
#   ceph_cmd osd pool ls        # the ceph CLI on this cluster
#   ceph_pyrbd POOL IMAGE w|x OFF:LEN...  # write random bytes (w) or
#                               # discard (x) with librbd from outside
#                               # guestkit ($ceph_pyrbd_cmd: the same as
#                               # one command line)
#   stop_ceph_cluster
# Ports are not Ceph's defaults (mon v2 13300, v1 16789), so a cluster
# that happens to run on this machine cannot be reached by mistake.

ceph_mon_v1_port=${CEPH_TEST_MON_V1_PORT:-16789}
ceph_mon_v2_port=${CEPH_TEST_MON_V2_PORT:-13300}
ceph_mon_host="127.0.0.1:$ceph_mon_v1_port"
# The OSD keeps its data in memory: 1 GiB unless the caller needs more
# (a full memstore OSD blocks writes instead of failing them).
ceph_memstore_bytes=${CEPH_TEST_MEMSTORE_BYTES:-1073741824}
ceph_pids=()

ceph_cmd () { timeout 60 ceph -c "$ceph_conf" --connect-timeout 15 "$@"; }
rbd_cmd () { timeout 60 rbd -c "$ceph_conf" "$@"; }

# Print the daemons' logs on failure: the only way to see why.
ceph_fail () {
  local f
  for f in "$ceph_dir"/log/*.log; do
    [ -f "$f" ] && { echo "--- $f (tail)" >&2; tail -20 "$f" >&2; }
  done
  fail "ceph cluster: $*"
}

start_ceph_cluster () {
  local pool="$1" b fsid i
  for b in ceph-mon ceph-osd ceph ceph-authtool monmaptool rbd uuidgen; do
    command -v "$b" >/dev/null ||
      fail "$b is not installed (scripts/setup.sh installs the Ceph packages)"
  done
  # A busy port means another cluster: say so, rather than time out later.
  for b in "$ceph_mon_v1_port" "$ceph_mon_v2_port"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$b") 2>/dev/null; then
      fail "port $b on 127.0.0.1 is in use (another test cluster?); set CEPH_TEST_MON_V1_PORT/CEPH_TEST_MON_V2_PORT"
    fi
  done
  ceph_dir="$(mktemp -d /tmp/gk-ceph.XXXXXX)"
  ceph_conf="$ceph_dir/ceph.conf"
  ceph_admin_keyring="$ceph_dir/client.admin.keyring"
  mkdir -p "$ceph_dir/mon" "$ceph_dir/osd" "$ceph_dir/log" "$ceph_dir/run"
  trap 'stop_ceph_cluster' EXIT
  fsid="$(uuidgen)"
  # The replication and health settings a one-OSD cluster needs.
  cat > "$ceph_conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$ceph_mon_v2_port,v1:127.0.0.1:$ceph_mon_v1_port]
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $ceph_dir/keyring
run dir = $ceph_dir/run
admin socket = $ceph_dir/run/\$name.asok
log file = $ceph_dir/log/\$name.log
pid file = $ceph_dir/run/\$name.pid
crash dir = $ceph_dir/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
[mon]
mon data = $ceph_dir/mon
[osd]
osd data = $ceph_dir/osd
osd objectstore = memstore
memstore device bytes = $ceph_memstore_bytes
keyring = $ceph_dir/osd/keyring
EOF
  # mon. and client.admin keys; the admin one also in a keyring of its
  # own (what the test pools point at).
  ceph-authtool --create-keyring "$ceph_admin_keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' > /dev/null
  ceph-authtool --create-keyring "$ceph_dir/keyring" --gen-key -n mon. \
    --cap mon 'allow *' > /dev/null
  ceph-authtool "$ceph_dir/keyring" --import-keyring "$ceph_admin_keyring" > /dev/null
  monmaptool --create --fsid "$fsid" --addv a \
    "[v2:127.0.0.1:$ceph_mon_v2_port,v1:127.0.0.1:$ceph_mon_v1_port]" \
    "$ceph_dir/monmap" > /dev/null
  ceph-mon -c "$ceph_conf" --mkfs -i a --monmap "$ceph_dir/monmap" \
    --keyring "$ceph_dir/keyring" > "$ceph_dir/log/mkfs-mon.out" 2>&1 ||
    ceph_fail "ceph-mon --mkfs: $(cat "$ceph_dir/log/mkfs-mon.out")"
  # Foreground daemons in the background: $! is the daemon's own PID.
  ceph-mon -f -c "$ceph_conf" -i a > "$ceph_dir/log/mon.out" 2>&1 &
  ceph_pids+=($!)
  ceph_cmd mon stat > /dev/null 2>&1 || ceph_fail "the monitor does not answer"

  i="$(ceph_cmd osd create)" || ceph_fail "osd create"
  [ "$i" = 0 ] || ceph_fail "unexpected OSD id $i"
  ceph_cmd osd crush add osd.0 1 root=default > /dev/null 2>&1 ||
    ceph_fail "osd crush add"
  # The OSD's key first, so that its mkfs can authenticate.
  ceph-authtool --create-keyring "$ceph_dir/osd/keyring" --gen-key -n osd.0 > /dev/null
  ceph_cmd auth add osd.0 osd 'allow *' mon 'allow profile osd' \
    -i "$ceph_dir/osd/keyring" > /dev/null 2>&1 || ceph_fail "auth add osd.0"
  ceph-osd -c "$ceph_conf" -i 0 --mkfs --no-mon-config \
    > "$ceph_dir/log/mkfs-osd.out" 2>&1 ||
    ceph_fail "ceph-osd --mkfs: $(cat "$ceph_dir/log/mkfs-osd.out")"
  ceph-osd -f -c "$ceph_conf" -i 0 > "$ceph_dir/log/osd.out" 2>&1 &
  ceph_pids+=($!)
  for i in $(seq 1 120); do
    ceph_cmd osd stat 2>/dev/null | grep -q "1 up" && break
    sleep 0.5
  done
  ceph_cmd osd stat 2>/dev/null | grep -q "1 up" || ceph_fail "the OSD did not come up"

  ceph_cmd osd pool create "$pool" 8 8 > /dev/null 2>&1 || ceph_fail "pool create $pool"
  rbd_cmd pool init "$pool" || ceph_fail "rbd pool init $pool"
}

# Stop the daemons by PID; a zombie counts as stopped.
stop_ceph_cluster () {
  local pid
  # SIGTERM to all first, so they stop in parallel.
  for pid in "${ceph_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${ceph_pids[@]}"; do
    stop_pid "$pid"
  done
  ceph_pids=()
  [ -z "${ceph_dir:-}" ] || rm -rf "$ceph_dir"
  ceph_dir=
  [ -z "${cleanup_extra:-}" ] || rm -rf "$cleanup_extra"
}

# librbd's Python binding comes with ceph-common (python3-rbd), for the
# system's python3 (not a pyenv one first on PATH).
ceph_pyrbd_py=/usr/bin/python3
ceph_pyrbd_setup () {
  "$ceph_pyrbd_py" -c 'import rados, rbd' 2>/dev/null ||
    fail "python3-rbd is not installed for $ceph_pyrbd_py (scripts/setup.sh installs the Ceph packages)"
  cat > "$ceph_dir/pyrbd.py" <<'PY'
import os, sys, rados, rbd
conf, pool, img, op = sys.argv[1:5]
with rados.Rados(conffile=conf) as c:
    with c.open_ioctx(pool) as io:
        with rbd.Image(io, img) as im:
            for spec in sys.argv[5:]:
                off, n = (int(x) for x in spec.split(":"))
                if op == "w":
                    im.write(os.urandom(n), off)
                else:
                    im.discard(off, n)
PY
  ceph_pyrbd_cmd="$ceph_pyrbd_py $ceph_dir/pyrbd.py $ceph_conf"
}
ceph_pyrbd () {
  [ -n "${ceph_pyrbd_cmd:-}" ] || ceph_pyrbd_setup
  $ceph_pyrbd_cmd "$@"
}
