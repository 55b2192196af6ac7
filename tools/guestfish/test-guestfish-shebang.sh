#!/bin/bash
# guestfish scripts run as programs ("#!/usr/bin/guestfish -f" on their
# first line): the first line is a comment to guestfish, an error names
# the script and its line, and the exit code is guestfish's.  Run with
# both guestfishes (no appliance) and compared.
set -euo pipefail
. "${abs_top_builddir:?}/tests/functions.sh"

d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
cd "$d"

# A shebang line takes one argument: env -S splits "RUNNER guestfish -f".
write_script () {
  local name="$1" interpreter="$2"
  { echo "#!/usr/bin/env -S $interpreter -f"
    echo '# a comment'
    echo 'echo "running as a program"'
    echo '-nosuchcommand'
    echo 'echo still running'
    echo 'ls /'
    echo 'echo not reached'; } > "$name"
  chmod +x "$name"
}
write_script script.gf "/usr/bin/guestfish"
rrc=0; ref ./script.gf > ref.out 2> ref.err || rrc=$?
write_script script.gf "$run ${GUESTKIT_TEST_VALGRIND:-} guestfish"
orc=0; env -u LIBGUESTFS_BACKEND_SETTINGS ./script.gf > ours.out 2> ours.err || orc=$?
same ref.out ours.out "stdout of a #! script"
same ref.err ours.err "stderr of a #! script"
[ "$rrc" = "$orc" ] || fail "exit code $orc, reference $rrc"
[ "$orc" = 1 ] || fail "the script's error did not give exit code 1"
grep -q '^./script.gf:6: libguestfs: error: ls0: call launch' ours.err ||
  fail "the error does not name the script and line: $(cat ours.err)"
echo "ok: #! scripts (exit $orc)"
