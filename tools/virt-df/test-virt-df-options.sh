#!/bin/bash -
# Options and exit codes that need no appliance, compared with libguestfs's
# virt-df: the same stdout, stderr and exit code.
set -e
. "$abs_top_builddir/tests/functions.sh"

d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
img="$d/disk.img"
truncate -s 1M "$img"

# Run both; compare exit code, stdout and stderr byte for byte.
both () {
  local rrc=0 orc=0
  (cd "$d" && ref virt-df "$@" > ref.out 2> ref.err) || rrc=$?
  (cd "$d" && ours virt-df "$@" > ours.out 2> ours.err) || orc=$?
  [ "$rrc" = "$orc" ] || fail "virt-df $*: exit $orc, reference $rrc"
  same "$d/ref.out" "$d/ours.out" "stdout of virt-df $*"
  if [ -z "$library_error" ]; then
    same "$d/ref.err" "$d/ours.err" "stderr of virt-df $*"
  else
    # An error from the library, not from option parsing: libguestfs prints
    # "libguestfs: error: MSG" where guestkit's handler prints
    # "virt-df: MSG" (by design: PROGRAM: MESSAGE).  Both must be one line
    # naming the same file.
    [ "$(wc -l < "$d/ours.err")" = 1 ] || fail "virt-df $*: not one line: $(cat "$d/ours.err")"
    grep -q "^virt-df: .*$library_error.*: No such file or directory$" "$d/ours.err" ||
      fail "virt-df $*: $(cat "$d/ours.err")"
    grep -q "$library_error" "$d/ref.err" || fail "reference: $(cat "$d/ref.err")"
  fi
  echo "ok: virt-df $* (exit $orc)"
}
library_error=

both -h --csv -a "$img"
both --csv -h -a "$img"
both -P x -a "$img"
both -P "" -a "$img"
both --format=raw
both -a "$img" --format=qcow2
both --blocksize=512
both -a "$img" --blocksize
both --blocksize=abc -a "$img"
both -a /nonexistent/disk.img
both -a "$img" -a /nonexistent/disk2.img
library_error=/nonexistent/old-style.img both /nonexistent/old-style.img
both -h --csv -a /nonexistent
both -a "$img" extra-argument
both --no-such-option
both -y
both -a
both --short-options

# --long-options: the reference's list plus ours (--appliance, --json),
# in order.
ref virt-df --long-options > "$d/ref.lo"
ours virt-df --long-options > "$d/ours.lo"
grep -vx -e --json -e --appliance "$d/ours.lo" > "$d/ours-nojson.lo"
same "$d/ref.lo" "$d/ours-nojson.lo" "--long-options"
grep -qx -- --json "$d/ours.lo" || fail "--json missing from --long-options"
grep -qx -- --appliance "$d/ours.lo" || fail "--appliance missing from --long-options"

# --help and -V: exit 0 and the usual shape (the texts differ on purpose:
# version numbers and the options we add).
ours virt-df --help > "$d/help" || fail "--help exit code"
grep -q -- "--json" "$d/help" || fail "--help does not mention --json"
grep -q -- "--appliance" "$d/help" || fail "--help does not mention --appliance"
ours virt-df -V | grep -qE '^virt-df [0-9]+\.[0-9]+\.[0-9]+$' || fail "-V format"
ours virt-df --version | grep -qE '^virt-df [0-9]' || fail "--version"

# Ours only: -h with --json is refused like -h with --csv.
rc=0; ours virt-df -h --json -a "$img" 2> "$d/err" || rc=$?
[ "$rc" = 1 ] || fail "-h --json: exit $rc"
grep -qx "virt-df: you cannot use -h and --json options together." "$d/err" || fail "-h --json message"

# Bad environment is one clear line and exit 1, not a crash.
rc=0; GUESTKIT_ACCEL=warp ours virt-df -a "$img" 2> "$d/err" || rc=$?
[ "$rc" = 1 ] && [ "$(wc -l < "$d/err")" = 1 ] || fail "GUESTKIT_ACCEL=warp: exit $rc: $(cat "$d/err")"
grep -q GUESTKIT_ACCEL "$d/err" || fail "GUESTKIT_ACCEL message"
echo "ok: all option cases"
