#!/bin/bash
# guestfish(1) documents every option and every command, --help lists
# every option, and every option of libguestfs's guestfish is accepted
# by ours (drop-in compatibility).  No appliance is launched.
set -euo pipefail
. "${abs_top_builddir:?}/tests/functions.sh"

pod="$abs_srcdir/guestfish.pod"
[ -f "$pod" ] || fail "no man page source $pod"
podchecker "$pod" >/dev/null 2>&1 || fail "podchecker: $pod"

# Options.
ours guestfish --long-options > long.out
[ "$(wc -l < long.out)" -gt 25 ] || fail "--long-options lists too few options"
ours guestfish --help > help.out
while read -r opt; do
  grep -q -- "B<$opt>" "$pod" || fail "option $opt is not in guestfish.pod"
  case "$opt" in
    --long-options|--short-options|--live|--key|--keys-from-stdin) ;;  # hidden, as in the reference
    *) grep -q -- "$opt" help.out || fail "option $opt is not in --help" ;;
  esac
done < long.out
ours guestfish --short-options > short.out
while read -r opt; do
  grep -q -- "B<$opt>" "$pod" || fail "option $opt is not in guestfish.pod"
done < short.out

# Every option of the reference is one of ours.
ref guestfish --long-options > ref-long.out
while read -r opt; do
  grep -qx -- "$opt" long.out || fail "the reference's option $opt is missing"
done < ref-long.out
ref guestfish --short-options > ref-short.out
while read -r opt; do
  grep -qx -- "$opt" short.out || fail "the reference's option $opt is missing"
done < ref-short.out

# Commands: every name and alias in -h is a head2 of the man page, and
# each one is a command of the reference too (same names).
ours guestfish -h > cmds.out
ref guestfish -h > ref-cmds.out
n=0
while read -r name _; do
  grep -qx "=head2 $name" "$pod" || fail "command $name is not in guestfish.pod"
  grep -q "^$name " ref-cmds.out || fail "command $name is not a command of the reference"
  n=$((n + 1))
done < <(sed -n '2,$p' cmds.out | grep -v '^    ')
[ "$n" -gt 100 ] || fail "only $n commands listed by -h"

# Each command's help works.
ours guestfish -h cat | grep -q "cat path" || fail "-h cat"
ours guestfish -h nosuchcommand 2>/dev/null && fail "-h of an unknown command succeeded"
rm -f long.out help.out short.out ref-long.out ref-short.out cmds.out ref-cmds.out
echo "ok: $n commands and every option documented"
