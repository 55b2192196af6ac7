#!/bin/bash
# guestfish --listen / --remote: one server keeps its appliance across
# the commands of a script, as eval "$(guestfish --listen)" scripts use
# it.  Output and errors appear on the client's side; a failing command
# stops the server (the reference's rule: commands on the command line
# exit on error) unless it is prefixed with '-'; exit stops it after the
# appliance is shut down and removes the socket.
set -euo pipefail
. "${abs_top_builddir:?}/tests/functions.sh"
require_images

d="$(mktemp -d)"
server=
cleanup () {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$d"
}
trap cleanup EXIT

# Options that make no sense together.
ours guestfish --listen --remote=1 2> "$d/err" && fail "--listen --remote succeeded"
grep -q "cannot use --listen and --remote options at the same time" "$d/err" ||
  fail "--listen --remote: $(cat "$d/err")"
( unset GUESTFISH_PID; ours guestfish --remote echo hi 2> "$d/err" ) &&
  fail "--remote without GUESTFISH_PID succeeded"
grep -q 'GUESTFISH_PID must be set' "$d/err" || fail "no GUESTFISH_PID: $(cat "$d/err")"
ours guestfish --remote=999999 echo hi 2> "$d/err" && fail "--remote to no server succeeded"
grep -q 'looks like the server is not running' "$d/err" || fail "no server: $(cat "$d/err")"

# The server, on a libvirt domain (-d): libvirt's test driver reads a
# node description whose domain's disk is the test image, no libvirtd.
cat > "$d/node.xml" <<EOF2
<node>
  <domain type='test'>
    <name>gktest-fish</name>
    <memory>1048576</memory>
    <os><type>hvm</type></os>
    <devices>
      <disk type='file' device='disk'>
        <driver name='qemu' type='raw'/>
        <source file='$images/linux.img'/>
        <target dev='vda' bus='virtio'/>
      </disk>
    </devices>
  </domain>
</node>
EOF2
# The test driver's domains run: -d without --ro is refused.
ours guestfish -c "test://$d/node.xml" -d gktest-fish echo x 2> "$d/err" &&
  fail "-d of a running domain read-write succeeded"
grep -q 'domain is a live virtual machine' "$d/err" || fail "-d live: $(cat "$d/err")"
# The servers run under valgrind too in make check-valgrind; nobody
# waits for them, so valgrind reports to files, read at the end.
listen () {
  VALGRIND_OPTS="--log-file=$d/valgrind.%p" \
    timeout 60 "$run" ${GUESTKIT_TEST_VALGRIND:-} guestfish --listen "$@"
}
# eval must not block: the server closes its stdout.
out="$(listen --ro -c "test://$d/node.xml" -d gktest-fish)"
echo "$out" | grep -qE '^GUESTFISH_PID=[0-9]+; export GUESTFISH_PID$' ||
  fail "--listen printed: $out"
eval "$out"
server="$GUESTFISH_PID"
[ -S "/tmp/.guestfish-$(id -u)/socket-$server" ] || fail "no socket for $server"
[ "$(stat -c %a "/tmp/.guestfish-$(id -u)")" = 700 ] || fail "socket directory is not private"

ours guestfish --remote run
ours guestfish --remote mount-ro /dev/sda1 /
[ "$(ours guestfish --remote cat /etc/hostname)" = "guestkit-test" ] ||
  fail "remote cat"
ours guestfish --remote ls /etc > "$d/ls"
printf '%s\n' debian_version fstab hostname os-release > "$d/ls.expected"
same "$d/ls.expected" "$d/ls" "remote ls"
# Pipes and a script on stdin go through the same server.
printf 'echo one\nis-dir /etc\n' | ours guestfish --remote > "$d/script"
printf 'one\ntrue\n' > "$d/script.expected"
same "$d/script.expected" "$d/script" "remote script"

# '-' lets a command fail without stopping the server; the error is the
# client's (and the client exits 0, as for any '-' command).
ours guestfish --remote -- -cat /nonexistent 2> "$d/err"
grep -q 'download: /nonexistent: No such file or directory' "$d/err" ||
  fail "remote error: $(cat "$d/err")"
kill -0 "$server" || fail "the server stopped after a '-' command failed"
ours guestfish --remote exists /etc | grep -qx true || fail "remote after error"

# exit: the appliance is gone when the client returns.
qemu="$(pgrep -P "$server" -f qemu || true)"
[ -n "$qemu" ] || fail "no qemu under the server"
ours guestfish --remote exit
for p in $qemu; do
  kill -0 "$p" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null &&
    fail "qemu $p still runs after exit returned"
done
for i in $(seq 1 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
kill -0 "$server" 2>/dev/null && fail "the server did not exit"
[ -e "/tmp/.guestfish-$(id -u)/socket-$server" ] && fail "socket left behind by exit"

# An error without '-' stops the server, as in the reference (a server
# that never launches: the error is the unknown command).
eval "$(listen)"
server="$GUESTFISH_PID"
ours guestfish --remote echo alive | grep -qx alive || fail "second server"
ours guestfish --remote nosuchcommand 2> "$d/err" && fail "remote unknown command succeeded"
grep -q 'nosuchcommand: unknown command' "$d/err" || fail "remote unknown: $(cat "$d/err")"
for i in $(seq 1 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
kill -0 "$server" 2>/dev/null && fail "the server is still running after an error"
[ -e "/tmp/.guestfish-$(id -u)/socket-$server" ] && fail "socket left behind"
server=
if [ -n "${GUESTKIT_TEST_VALGRIND:-}" ]; then
  # run --valgrind is --quiet: a report says something only on errors.
  ls "$d"/valgrind.* > /dev/null || fail "no valgrind report of the servers"
  if [ -n "$(cat "$d"/valgrind.*)" ]; then
    cat "$d"/valgrind.* >&2
    fail "valgrind found errors in a --listen server"
  fi
fi
echo "ok: --listen/--remote"
