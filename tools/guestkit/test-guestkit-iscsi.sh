#!/bin/bash -
# The iscsi backend through the guestkit command, against a private tgtd
# (user-space target) on 127.0.0.1 with a non-default portal and control
# port: pools from options and from XML, LUN listing and exact sizes,
# sparse upload/download round trips, wipe, the refused LUN operations,
# LUN-to-LUN and file-to-LUN clones (sha256 of the bytes),
# CHAP (env and file secrets, a wrong secret), an unreachable portal, and
# that the secret is never written anywhere.
set -e
. "$abs_top_builddir/tests/functions.sh"

port=3261
ctl=7
iqn=iqn.2026-11.org.guestkit.test:open
chap_iqn=iqn.2026-11.org.guestkit.test:chap
user=gkuser
secret="s3cret-$RANDOM-$RANDOM"

tgtd=$(command -v tgtd || true)
[ -x /usr/sbin/tgtd ] && tgtd=/usr/sbin/tgtd
[ -n "$tgtd" ] || fail "tgtd is missing: scripts/setup.sh installs it (package tgt)"
tgtadm=$(command -v tgtadm || echo /usr/sbin/tgtadm)

d="$(mktemp -d)"
tgtd_pid=
stop_tgtd () {
  if [ -n "$tgtd_pid" ]; then
    # tgtd does not exit on SIGTERM once it has served a target: give it
    # a moment, then SIGKILL (it keeps no state worth saving).
    stop_pid "$tgtd_pid" 10
    tgtd_pid=
  fi
}
silent_pid=
trap 'stop_tgtd; [ -z "$silent_pid" ] || kill "$silent_pid" 2>/dev/null; rm -rf "$d"' EXIT
export GUESTKIT_STATE_DIR="$(mktemp -d -p "$d")"
g () { ours guestkit "$@"; }
alloc () { echo $(( $(stat -c %b "$1") * 512 )); }
adm () { "$tgtadm" -C $ctl --lld iscsi "$@"; }

# Backing files: sparse, of different sizes, multiples of 512.
size1=$((64 << 20))
size2=$(( (100 << 20) + 512 ))
size3=$((16 << 20))
truncate -s $size1 "$d/lun1"
truncate -s $size2 "$d/lun2"
truncate -s $size3 "$d/lun3"

"$tgtd" -f -C $ctl --iscsi portal=127.0.0.1:$port > "$d/tgtd.log" 2>&1 &
tgtd_pid=$!
disown "$tgtd_pid"         # no "Killed" message from bash at the end
for i in $(seq 50); do
  adm --mode target --op show > /dev/null 2>&1 && break
  sleep 0.1
done
kill -0 "$tgtd_pid" || fail "tgtd did not start: $(cat "$d/tgtd.log")"
adm --mode target --op new --tid 1 --targetname $iqn
adm --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$d/lun1"
adm --mode logicalunit --op new --tid 1 --lun 2 --backing-store "$d/lun2"
adm --mode target --op bind --tid 1 --initiator-address ALL
adm --mode target --op new --tid 2 --targetname $chap_iqn
adm --mode logicalunit --op new --tid 2 --lun 1 --backing-store "$d/lun3"
adm --mode target --op bind --tid 2 --initiator-address ALL
# The secret goes to tgtadm on its command line: that is the target's
# setup, not guestkit's.
adm --mode account --op new --user $user --password "$secret"
adm --mode account --op bind --tid 2 --user $user
echo "ok: tgtd (pid $tgtd_pid) on 127.0.0.1:$port with two targets"

# A pool from options.
g pool-define-as p1 iscsi --source-host 127.0.0.1:$port --source-path $iqn > /dev/null
g pool-dumpxml p1 > "$d/p1.xml"
grep -q "<pool type=\"iscsi-direct\"" "$d/p1.xml" || fail "pool type: $(cat "$d/p1.xml")"
grep -q "<device path=\"$iqn\"/>" "$d/p1.xml" || fail "device: $(cat "$d/p1.xml")"
grep -q "<iqn name=\"iqn.2026-11.org.guestkit:initiator\"/>" "$d/p1.xml" || fail "default initiator not written (libvirt needs one): $(cat "$d/p1.xml")"
g pool-start p1 > /dev/null
g pool-info p1 --json > "$d/info"
python3 - "$d/info" $((size1 + size2)) <<'PY'
import json, sys
i = json.load(open(sys.argv[1]))
want = int(sys.argv[2])
assert i["state"] == "running" and i["type"] == "iscsi", i
assert i["capacity"] == want and i["allocation"] == want and i["available"] == 0, i
PY
g vol-list p1 --name-only > "$d/list"
[ "$(tr '\n' ' ' < "$d/list")" = "unit:0:0:1 unit:0:0:2 " ] || fail "vol-list: $(cat "$d/list")"
for v in 1:$size1 2:$size2; do
  g vol-info unit:0:0:${v%%:*} --pool p1 --json > "$d/vinfo"
  python3 - "$d/vinfo" ${v#*:} ${v%%:*} $port $iqn <<'PY'
import json, sys
i = json.load(open(sys.argv[1]))
size, lun, port, iqn = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
assert i["capacity"] == size and i["allocation"] == size, (i, size)
assert i["format"] == "raw", i
assert i["path"] == "iscsi://127.0.0.1:%s/%s/%s" % (port, iqn, lun), i
PY
done
echo "ok: pool started, two LUNs of exactly $size1 and $size2 bytes"
# The live pool's XML and a volume's as libvirt's schemas want them.
if command -v virt-xml-validate > /dev/null; then
  g pool-dumpxml p1 > "$d/live-pool.xml"
  g vol-dumpxml unit:0:0:1 --pool p1 > "$d/vol.xml"
  virt-xml-validate "$d/live-pool.xml" storagepool > /dev/null || fail "pool-dumpxml: $(cat "$d/live-pool.xml")"
  virt-xml-validate "$d/vol.xml" storagevol > /dev/null || fail "vol-dumpxml: $(cat "$d/vol.xml")"
  echo "ok: pool-dumpxml and vol-dumpxml validate against libvirt's schemas"
fi

# A file with holes: 1 MiB of data, a hole, 1 MiB of data, a short tail.
head -c 1M /dev/urandom > "$d/data"
truncate -s 40M "$d/data"
head -c 1M /dev/urandom | dd of="$d/data" bs=1M seek=30 conv=notrunc status=none
printf 'tail' >> "$d/data"
# Garbage on the LUN first: the upload must turn it into zeros.
head -c $size2 /dev/urandom > "$d/lun2"
g vol-upload unit:0:0:2 "$d/data" --pool p1
g vol-download unit:0:0:2 "$d/back" --pool p1
[ "$(stat -c %s "$d/back")" = $size2 ] || fail "download size $(stat -c %s "$d/back")"
cmp -n $(stat -c %s "$d/data") "$d/data" "$d/back" || fail "upload/download content"
cmp "$d/back" "$d/lun2" || fail "the LUN's content differs from the download"
cmp -i $(stat -c %s "$d/data") "$d/back" /dev/zero 2>&1 | grep -q EOF || fail "the LUN is not zero after the uploaded file"
[ "$(alloc "$d/back")" -le $((3 << 20)) ] || fail "download is not sparse: $(alloc "$d/back") bytes"
echo "ok: upload then download: same data, download sparse ($(alloc "$d/back") bytes allocated)"

# Across pool types: a LUN cloned into a dir pool (the iscsi backend
# streams it), sparse, and nothing left behind by a refused clone.
g pool-define-as dp dir --target "$d/dp" > /dev/null
g pool-start dp --build > /dev/null
g vol-clone unit:0:0:2 lun2.img --pool p1 --newpool dp > /dev/null
cmp "$d/dp/lun2.img" "$d/back" || fail "iscsi to dir clone content"
[ "$(alloc "$d/dp/lun2.img")" -le $((3 << 20)) ] || fail "iscsi to dir clone is not sparse"
g vol-clone unit:0:0:2 lun2r.img --pool p1 --newpool dp --reflink 2> "$d/err" &&
  fail "a reflink clone of a LUN succeeded"
[ -z "$(ls -A "$d/dp" | grep -v '^lun2.img$')" ] || fail "a refused clone left: $(ls -A "$d/dp")"
echo "ok: a LUN cloned into a dir pool; --reflink refused: $(cat "$d/err")"
g vol-delete lun2.img --pool dp > /dev/null
g pool-stop dp > /dev/null
g pool-undefine dp > /dev/null

head -c $((size1 + 512)) /dev/zero > "$d/big"
g vol-upload unit:0:0:1 "$d/big" --pool p1 2> "$d/err" && fail "uploaded more than the LUN holds"
[ "$(wc -l < "$d/err")" = 1 ] && grep -q "cannot upload $((size1 + 512)) bytes into unit:0:0:1" "$d/err" || fail "too big: $(cat "$d/err")"
echo "ok: too large an upload is refused: $(cat "$d/err")"

g vol-wipe unit:0:0:2 --pool p1 > /dev/null
g vol-download unit:0:0:2 "$d/wiped" --pool p1
cmp -n $size2 "$d/wiped" /dev/zero || fail "not zero after vol-wipe"
[ "$(alloc "$d/wiped")" = 0 ] || fail "a download of zeros is not sparse"
echo "ok: vol-wipe, then the LUN reads as zeros"

for cmd in "vol-create-as p1 new 1M:create" "vol-delete unit:0:0:1 --pool p1:delete" \
           "vol-resize unit:0:0:1 128M --pool p1:resize"; do
  rc=0
  g ${cmd%:*} 2> "$d/err" || rc=$?
  [ $rc = 1 ] || fail "${cmd%:*}: exit $rc"
  [ "$(wc -l < "$d/err")" = 1 ] && grep -q "iscsi pools cannot ${cmd##*:} LUNs: ${cmd##*:} them on the target" "$d/err" || fail "${cmd%:*}: $(cat "$d/err")"
done
[ "$(stat -c %s "$d/lun1")" = $size1 ] || fail "a refused resize changed the LUN"
echo "ok: vol-create-as, vol-delete, vol-resize refused: $(cat "$d/err")"

# LUN to LUN: iscsi cannot create LUNs, so vol-clone copies into one
# that exists, writing every block of it.  A third LUN on the open
# target, as large as the first, full of stale data.
sha () { sha256sum < "$1" | cut -d' ' -f1; }
head -c $size1 /dev/urandom > "$d/lun4"
adm --mode logicalunit --op new --tid 1 --lun 3 --backing-store "$d/lun4"
g vol-upload unit:0:0:1 "$d/data" --pool p1
g vol-clone unit:0:0:1 unit:0:0:3 --pool p1 > /dev/null
g vol-download unit:0:0:1 "$d/src1" --pool p1
g vol-download unit:0:0:3 "$d/dst3" --pool p1
[ "$(sha "$d/src1")" = "$(sha "$d/dst3")" ] || fail "LUN to LUN clone: the bytes differ"
echo "ok: LUN 1 cloned onto LUN 3 of the same target: same sha256"
# Into a larger LUN of stale data: the rest becomes zeros.
head -c $size2 /dev/urandom > "$d/lun2"
g vol-clone unit:0:0:1 unit:0:0:2 --pool p1 > /dev/null
g vol-download unit:0:0:2 "$d/dst2" --pool p1
[ "$( (cat "$d/src1"; head -c $((size2 - size1)) /dev/zero) | sha256sum | cut -d' ' -f1)" = "$(sha "$d/dst2")" ] ||
  fail "clone into a larger LUN: not the source then zeros"
echo "ok: into a larger LUN: the source's bytes, then zeros over the stale data"
# What cannot be done is refused in one line, before anything is written.
for c in "unit:0:0:2 unit:0:0:3|is smaller than ‘unit:0:0:2’" \
         "unit:0:0:1 unit:0:0:9|no volume called ‘unit:0:0:9’ in pool ‘p1’ (iscsi pools copy into an existing volume)" \
         "unit:0:0:1 unit:0:0:1|cannot be copied onto itself" \
         "unit:0:0:1 unit:0:0:3 --linked|iscsi pools have no linked clones" \
         "unit:0:0:1 unit:0:0:3 --reflink|iscsi pools have no reflink copies"; do
  rc=0
  g vol-clone ${c%|*} --pool p1 2> "$d/err" || rc=$?
  [ $rc = 1 ] && [ "$(wc -l < "$d/err")" = 1 ] && grep -qF "${c#*|}" "$d/err" || fail "vol-clone ${c%|*}: $(cat "$d/err")"
  echo "ok: refused: $(cat "$d/err")"
done
g vol-download unit:0:0:3 "$d/dst3" --pool p1
[ "$(sha "$d/src1")" = "$(sha "$d/dst3")" ] || fail "a refused clone changed LUN 3"
# From a dir pool: a raw file is copied (zeros written too), a qcow2
# file refused (its bytes are not its disk).
g pool-define-as dp2 dir --target "$d/dp2" > /dev/null
g pool-start dp2 --build > /dev/null
g vol-create-as dp2 src.img 40M > /dev/null
g vol-upload src.img "$d/data" --pool dp2
g vol-create-as dp2 src.qcow2 1M --format qcow2 > /dev/null
head -c $size1 /dev/urandom > "$d/lun4"
g vol-clone src.img unit:0:0:3 --pool dp2 --newpool p1 > /dev/null
g vol-download unit:0:0:3 "$d/dst3" --pool p1
[ "$( (cat "$d/dp2/src.img"; head -c $((size1 - $(stat -c %s "$d/dp2/src.img"))) /dev/zero) | sha256sum | cut -d' ' -f1)" = "$(sha "$d/dst3")" ] ||
  fail "dir raw file to LUN: the bytes differ"
rc=0
g vol-clone src.qcow2 unit:0:0:3 --pool dp2 --newpool p1 2> "$d/err" || rc=$?
[ $rc = 1 ] && [ "$(wc -l < "$d/err")" = 1 ] && grep -q "only a raw volume can be copied into an iscsi LUN (‘src.qcow2’ is qcow2)" "$d/err" || fail "qcow2 to LUN: $(cat "$d/err")"
for v in src.img src.qcow2; do g vol-delete $v --pool dp2 > /dev/null; done
g pool-stop dp2 > /dev/null
g pool-delete dp2 > /dev/null
g pool-undefine dp2 > /dev/null
echo "ok: a raw dir volume copied onto a LUN; a qcow2 one refused: $(cat "$d/err")"
# LUNs cannot be renamed; an iscsi pool has no leftovers to report.
rc=0
g vol-rename p1 unit:0:0:3 unit:0:0:4 2> "$d/err" || rc=$?
[ $rc = 1 ] && grep -q "iscsi pools cannot rename LUNs" "$d/err" || fail "rename a LUN: $(cat "$d/err")"
echo "ok: vol-rename refused: $(cat "$d/err")"
g pool-refresh p1 > /dev/null 2> "$d/err"
[ ! -s "$d/err" ] || fail "pool-refresh of an iscsi pool: $(cat "$d/err")"

# CHAP, from XML, with the secret in an environment variable.
cat > "$d/chap.xml" <<XML
<pool type='iscsi-direct'>
  <name>chap</name>
  <source>
    <host name='127.0.0.1' port='$port'/>
    <device path='$chap_iqn'/>
    <auth type='chap' username='$user'>
      <secret usage='env:GK_TEST_CHAP'/>
    </auth>
    <initiator><iqn name='iqn.2026-11.org.guestkit.test:client'/></initiator>
  </source>
</pool>
XML
g pool-define "$d/chap.xml" > /dev/null
GK_TEST_CHAP="$secret" g pool-start chap > /dev/null
GK_TEST_CHAP="$secret" g vol-info unit:0:0:1 --pool chap --json | grep -q "\"capacity\": *$size3" || fail "CHAP vol-info"
rc=0
GK_TEST_CHAP="wrong-$secret" g vol-list chap 2> "$d/err" || rc=$?
[ $rc = 1 ] || fail "wrong secret: exit $rc"
[ "$(wc -l < "$d/err")" = 1 ] && grep -q "127.0.0.1:$port $chap_iqn: authentication failed" "$d/err" || fail "wrong secret: $(cat "$d/err")"
echo "ok: CHAP with env:VAR; a wrong secret: $(cat "$d/err")"
rc=0
g vol-list chap 2> "$d/err" || rc=$?
[ $rc = 1 ] && grep -q "GK_TEST_CHAP is not set" "$d/err" || fail "unset variable: $(cat "$d/err")"
# Debug and trace output name the reference, never the secret.
GK_TEST_CHAP="$secret" g -v -x vol-list chap > /dev/null 2> "$d/trace"
grep -q "unit:0:0:1\|connecting" "$d/trace" || fail "no debug output: $(cat "$d/trace")"
grep -qF -- "$secret" "$d/trace" && fail "the secret is in the debug output"
# From a LUN of another target (two sessions), into a larger LUN.
head -c $size3 /dev/urandom > "$d/lun3"
GK_TEST_CHAP="$secret" g vol-clone unit:0:0:1 unit:0:0:3 --pool chap --newpool p1 > /dev/null
GK_TEST_CHAP="$secret" g vol-download unit:0:0:1 "$d/src3" --pool chap
g vol-download unit:0:0:3 "$d/dst3" --pool p1
[ "$( (cat "$d/src3"; head -c $((size1 - size3)) /dev/zero) | sha256sum | cut -d' ' -f1)" = "$(sha "$d/dst3")" ] ||
  fail "LUN of another target to LUN: the bytes differ"
echo "ok: a LUN of the CHAP target cloned onto a LUN of the open one"
GK_TEST_CHAP="$secret" g pool-stop chap > /dev/null

# CHAP with --secret-usage file:PATH (first line, newline stripped).
echo "$secret" > "$d/secret"
chmod 600 "$d/secret"
g pool-define-as chap2 iscsi --source-host 127.0.0.1:$port --source-path $chap_iqn \
  --auth-type chap --auth-username $user --secret-usage "file:$d/secret" > /dev/null
g pool-start chap2 > /dev/null
[ "$(g vol-list chap2 --name-only | tr '\n' ' ')" = "unit:0:0:1 " ] || fail "CHAP file secret"
g pool-stop chap2 > /dev/null
echo "ok: CHAP with file:PATH"

# The secret is nowhere in the state directory; only its reference is.
grep -rqF -- "$secret" "$GUESTKIT_STATE_DIR" && fail "the secret was written to the state directory"
grep -q "<secret usage=\"env:GK_TEST_CHAP\"/>" "$GUESTKIT_STATE_DIR/pools/chap.xml" || fail "chap.xml: $(cat "$GUESTKIT_STATE_DIR/pools/chap.xml")"
grep -q "<secret usage=\"file:$d/secret\"/>" "$GUESTKIT_STATE_DIR/pools/chap2.xml" || fail "chap2.xml"
# A CHAP definition that is not a reference is refused.
rc=0
g pool-define-as chap3 iscsi --source-host 127.0.0.1:$port --source-path $chap_iqn \
  --auth-type chap --auth-username $user --secret-usage "plain" 2> "$d/err" || rc=$?
[ $rc = 1 ] && grep -q "env:NAME or file:/ABSOLUTE/PATH" "$d/err" || fail "bad secret usage: $(cat "$d/err")"
echo "ok: the secret is stored only as a reference"

# Definitions missing their portal or target are refused.
rc=0
g pool-define-as bad iscsi --source-path $iqn 2> "$d/err" || rc=$?
[ $rc = 1 ] && grep -q "exactly one <source><host>" "$d/err" || fail "no host: $(cat "$d/err")"
rc=0
g pool-define-as bad iscsi --source-host 127.0.0.1 2> "$d/err" || rc=$?
[ $rc = 1 ] && grep -q "exactly one <source><device" "$d/err" || fail "no device: $(cat "$d/err")"
echo "ok: incomplete definitions refused"

# An unreachable portal (a closed port) fails fast, in one line.
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
g pool-define-as dead iscsi --source-host 127.0.0.1:$closed --source-path $iqn > /dev/null
start=$(date +%s)
rc=0
timeout 60 env -u LIBGUESTFS_BACKEND_SETTINGS "$run" guestkit pool-start dead 2> "$d/err" || rc=$?
took=$(( $(date +%s) - start ))
[ $rc = 1 ] || fail "unreachable portal: exit $rc"
[ $took -le 15 ] || fail "unreachable portal took $took s"
[ "$(wc -l < "$d/err")" = 1 ] && grep -q "cannot log in to 127.0.0.1:$closed $iqn" "$d/err" || fail "unreachable: $(cat "$d/err")"
g pool-undefine dead > /dev/null
echo "ok: unreachable portal fails in $took s: $(cat "$d/err")"

# A portal that accepts the connection but never answers the login: the
# connection deadline (10 s) ends it.
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
print(s.getsockname()[1], flush=True); time.sleep(120)' > "$d/silent.port" &
silent_pid=$!
for i in $(seq 50); do [ -s "$d/silent.port" ] && break; sleep 0.1; done
silent=$(cat "$d/silent.port")
g pool-define-as silent iscsi --source-host 127.0.0.1:$silent --source-path $iqn > /dev/null
start=$(date +%s)
rc=0
timeout 60 env -u LIBGUESTFS_BACKEND_SETTINGS "$run" guestkit pool-start silent 2> "$d/err" || rc=$?
took=$(( $(date +%s) - start ))
kill "$silent_pid"; silent_pid=
[ $rc = 1 ] || fail "silent portal: exit $rc"
[ $took -le 15 ] || fail "silent portal took $took s"
[ "$(wc -l < "$d/err")" = 1 ] && grep -q "cannot log in to 127.0.0.1:$silent $iqn: no answer within 10 seconds" "$d/err" || fail "silent: $(cat "$d/err")"
g pool-undefine silent > /dev/null
echo "ok: a portal that never answers fails in $took s: $(cat "$d/err")"

# No guestkit process ever had the secret on its command line: the test
# passed it only by environment or file, and tgtd's log has no trace.
g pool-stop p1 > /dev/null
g pool-undefine p1 > /dev/null
g pool-undefine chap > /dev/null
g pool-undefine chap2 > /dev/null
[ -z "$(g pool-list --all --name-only)" ] || fail "pools left: $(g pool-list --all --name-only)"
echo "ok: pools stopped and undefined"
