#!/bin/bash
# guestfish at a terminal (tmux): the banner and prompt, tab completion
# of a command, a device and a guest path (a directory gets a '/'),
# --no-dest-paths, history in ~/.guestfish across sessions, errors that
# do not end the session, and Ctrl-C on a long upload (it is cancelled,
# the prompt comes back and the appliance still works).
set -euo pipefail
. "${abs_top_builddir:?}/tests/functions.sh"
require_images
command -v tmux >/dev/null || fail "tmux is missing (scripts/setup.sh installs it)"

d="$(mktemp -d)"
sessions=0
cleanup () {
  local s
  for s in "$d"/tmux*.sock; do tmux -S "$s" kill-server 2>/dev/null || true; done
  sleep 0.2
  rm -rf "$d" 2>/dev/null || true
}
trap cleanup EXIT
cp --sparse=always "$images/linux.img" "$d/disk.img"
export HOME="$d/home"
mkdir -p "$HOME"

screen () { tmux -S "$sock" capture-pane -p -N -t gf -S -200; }
keys () { tmux -S "$sock" send-keys -t gf "$@"; }
# Wait until the screen shows a line matching a regexp (default 60 s).
wait_for () {
  local re="$1" t="${2:-600}" i
  for i in $(seq 1 "$t"); do
    screen | grep -qE -- "$re" && return 0
    sleep 0.1
  done
  screen >&2
  fail "timed out waiting for: $re"
}
# Wait until the shell is idle: the last line on the screen is an empty
# prompt (the command before it has finished).
wait_idle () {
  local i
  for i in $(seq 1 1200); do
    [ "$(screen | sed 's/ *$//' | grep -v '^$' | tail -1)" = '><fs>' ] && return 0
    sleep 0.1
  done
  screen >&2
  fail "timed out waiting for the prompt"
}
# Each session has a tmux server of its own: a socket reused right after
# kill-server can meet the old server on its way out.
start () {
  sessions=$((sessions + 1))
  sock="$d/tmux$sessions.sock"
  tmux -S "$sock" new-session -d -s gf -x 200 -y 50 \
    "env HOME=$HOME $(printf '%q ' "$run" guestfish "$@"); echo GUESTFISH-EXITED \$?; sleep 60"
}

# Session 1: history and completion of commands, no appliance.
start
wait_for 'Welcome to guestfish'
wait_idle
keys 'echo first line' Enter
wait_for '^first line$'
keys 'list-fi' Tab
wait_for '^><fs> list-filesystems $'
keys C-u 'nosuchcommand' Enter
wait_for 'nosuchcommand: unknown command'
wait_idle
keys 'quit' Enter
wait_for 'GUESTFISH-EXITED 0'
grep -qx 'echo first line' "$HOME/.guestfish" || fail "history not saved: $(cat "$HOME/.guestfish" 2>&1)"
tmux -S "$sock" kill-server

# Session 2: history comes back; devices and paths complete after run.
start -a "$d/disk.img"
wait_idle
keys Up
wait_for '^><fs> quit$'
keys Up
wait_for '^><fs> nosuchcommand$'
keys C-u 'run' Enter
sleep 0.5
wait_idle
keys 'mount /dev/sda' Tab Tab
wait_for '/dev/sda1 +/dev/sda2'
keys '1 /' Enter
sleep 0.5
wait_idle
keys 'ls /et' Tab
wait_for '^><fs> ls /etc/$'
keys 'host' Tab
wait_for '^><fs> ls /etc/hostname $'
keys C-u 'cat /etc/hostname' Enter
wait_for '^guestkit-test$'
# Ctrl-C on an endless upload: cancelled, and the session goes on.
keys 'upload /dev/zero /zeroes' Enter
sleep 3
keys C-c
sleep 0.5
wait_idle
screen | grep -q 'operation cancelled by user' || { screen >&2; fail "no cancel message"; }
keys 'is-dir /etc' Enter
sleep 0.5
wait_idle
screen | sed 's/ *$//' | grep -v '^$' | tail -2 | grep -qx true || { screen >&2; fail "the appliance does not answer after Ctrl-C"; }
keys 'exit' Enter
wait_for 'GUESTFISH-EXITED 0'
tmux -S "$sock" kill-server

# Session 3: --no-dest-paths completes no guest paths (no launch needed
# for the check: nothing is offered, not even local files).
start --no-dest-paths
wait_idle
keys 'ls /' Tab Tab
sleep 1
screen | grep -q '^bin/\|^etc/\|/etc' && fail "--no-dest-paths completed a path"
keys C-u 'exit' Enter
wait_for 'GUESTFISH-EXITED 0'
echo "ok: interactive session"
