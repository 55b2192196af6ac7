#!/bin/bash -
# Differential tests of guestfish: every case in diff-cases/ runs through
# libguestfs's guestfish (the reference, /usr/bin/guestfish) and ours; the
# stdout, the stderr and the exit code must be the same, byte for byte.
#
# A case is diff-cases/NAME.gf:
#
#   line 1      "#! ARGS": guestfish's command-line arguments.  They are
#               split as the shell would ('…' and "…" quoting) after the
#               image variables below are replaced; nothing else may be
#               expanded (a "$" or "`" left over is an error in the case).
#   "#@" lines  directives, right after line 1 (any number, any order):
#                 #@ stdin=none      no stdin script: stdin is /dev/null
#                                    (the commands are in ARGS)
#                 #@ script=NAME     the body is written to NAME in the
#                                    case's working directory (for -f
#                                    NAME); stdin is /dev/null
#                 #@ filter=elapsed  "elapsed time: N.NN seconds" (the
#                                    'time' command) reads "elapsed time:
#                                    N seconds" in both outputs before they
#                                    are compared: the only thing that
#                                    legitimately changes from run to run
#                 #@ launch          the case boots the appliance (at most
#                                    7 such cases: each costs ~30 s per
#                                    tool under TCG); it gets a longer
#                                    timeout, the others 120 s
#   the body    everything after: fed to guestfish on stdin verbatim (so
#               its "#" comment lines, which say what the case tests, count
#               in the "*stdin*:N:" line numbers of error messages).
#
# Image variables (in ARGS and in the body): $IMG_LINUX, $IMG_EXT4,
# $IMG_LVM, $IMG_XFS, $IMG_BTRFS, $IMG_QCOW2, $IMG_OVERLAY
# (tests/make-images.sh says what they hold).  Every case uses them
# read-only (--ro, or "add IMG readonly:true").
#
# Both tools run in the same fresh working directory (emptied between the
# two runs) with HOME an empty directory, LC_ALL=C.UTF-8 and no
# GUESTFISH_* or LIBGUESTFS_DEBUG/TRACE variables, so that "!pwd", "lcd",
# files made by 'sparse', and "-f NAME" print the same for both.
#
# Environment:
#   GF_DIFF_ONLY=REGEX   run only the cases whose name matches (grep -E)
#   GF_DIFF_REF_ONLY=1   run only the reference and print its outputs (to
#                        write and check cases before ours is built)
#   GF_DIFF_NO_LAUNCH=1  skip the cases that launch the appliance (make
#                        check-valgrind and check-sanitize: the shell's
#                        own code under the checkers, cheaply)
#
# A launching case runs both tools at once (each boots its own appliance:
# two cores, half the wall time) in two working directories; the others
# run one after the other in the same one.
#
# By hand, from the top of the source tree with a build in build/:
#   abs_top_builddir=$PWD/build abs_top_srcdir=$PWD \
#   abs_srcdir=$PWD/tools/guestfish bash tools/guestfish/test-guestfish-diff.sh
set -euo pipefail
. "$abs_top_builddir/tests/functions.sh"

cases_dir="${abs_srcdir:?}/diff-cases"
only="${GF_DIFF_ONLY:-}"
ref_only="${GF_DIFF_REF_ONLY:-}"
no_launch="${GF_DIFF_NO_LAUNCH:-}"
max_launch=7

# scripts/setup.sh installs the reference: its absence is a failure.
[ -x /usr/bin/guestfish ] || fail "libguestfs's guestfish (/usr/bin/guestfish) is not installed"
if [ -z "$ref_only" ] && [ ! -x "$abs_top_builddir/tools/guestfish/guestfish" ]; then
  fail "our guestfish is not built ($abs_top_builddir/tools/guestfish/guestfish)"
fi
require_images

IMG_LINUX="$images/linux.img"
IMG_EXT4="$images/ext4-mbr.img"
IMG_LVM="$images/lvm.img"
IMG_XFS="$images/xfs-gpt.img"
IMG_BTRFS="$images/btrfs.img"
IMG_QCOW2="$images/ext4.qcow2"
IMG_OVERLAY="$images/overlay.qcow2"
img_vars=(IMG_LINUX IMG_EXT4 IMG_LVM IMG_XFS IMG_BTRFS IMG_QCOW2 IMG_OVERLAY)

tmp="$(mktemp -d /tmp/gf-diff.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/home"

# A hermetic environment, the same for both tools.
export HOME="$tmp/home" LC_ALL=C.UTF-8
unset XDG_CONFIG_HOME GUESTFISH_PID GUESTFISH_PS1 GUESTFISH_OUTPUT \
      GUESTFISH_INIT GUESTFISH_RESTORE LIBGUESTFS_DEBUG LIBGUESTFS_TRACE \
      GUESTKIT_DEBUG GUESTKIT_TRACE

# Copy stdin to stdout with $IMG_X and ${IMG_X} replaced by the image
# paths; with the argument "quote", the paths are quoted for the shell
# (for ARGS).
subst_images () {
  local text v val
  text="$(cat; echo x)"; text="${text%x}"
  for v in "${img_vars[@]}"; do
    val="${!v}"
    [ "${1:-}" = quote ] && val="$(printf '%q' "$val")"
    text="${text//\$\{$v\}/$val}"
    text="${text//\$$v/$val}"
  done
  printf '%s' "$text"
}

# Parse a case file into: args (array), stdin_mode (script, none, file),
# script_name, filter, launch, body (file $tmp/body).
parse_case () {
  local file="$1" first line
  stdin_mode=script script_name= filter= launch=
  IFS= read -r first < "$file" || true
  case "$first" in
    '#! '*|'#!') ;;
    *) echo "bad first line (want \"#! ARGS\"): $first"; return 1 ;;
  esac
  first="${first#\#!}"
  first="$(printf '%s' "$first" | subst_images quote)"
  case "$first" in
    *'$'*|*'`'*) echo "ARGS may only use the image variables: $first"; return 1 ;;
  esac
  eval "args=($first)" || { echo "ARGS do not parse: $first"; return 1; }
  while IFS= read -r line; do
    case "$line" in
      '#@ stdin=none') stdin_mode=none ;;
      '#@ script='?*) stdin_mode=file; script_name="${line#\#@ script=}"
                      case "$script_name" in */*|.*) echo "bad script name: $script_name"; return 1 ;; esac ;;
      '#@ filter=elapsed') filter=elapsed ;;
      '#@ launch') launch=1 ;;
      '#@'*) echo "unknown directive: $line"; return 1 ;;
      *) break ;;
    esac
  done < <(tail -n +2 "$file")
  # The body: everything after line 1 and the directives.
  tail -n +2 "$file" | awk 'body || !/^#@/ { body = 1; print }' |
    subst_images > "$tmp/body"
  grep -q '^#' "$tmp/body" || { echo "no comment saying what the case tests"; return 1; }
}

# Run one tool (ref or ours) on the parsed case; its outputs go to
# $tmp/TOOL.{out,err,rc}.
run_tool () {
  local tool="$1" cwd="${2:-$tmp/cwd}" rc=0 limit=120 input=/dev/null
  [ -z "$launch" ] || limit=1200
  rm -rf "$cwd"; mkdir "$cwd"
  case "$stdin_mode" in
    script) input="$tmp/body" ;;
    file) cp "$tmp/body" "$cwd/$script_name" ;;
  esac
  if [ "$tool" = ref ]; then
    # /usr/bin/guestfish named "guestfish" (getopt prints argv[0]).
    (cd "$cwd" && ref timeout -k 10 "$limit" \
       bash -c 'exec -a guestfish /usr/bin/guestfish "$@"' guestfish "${args[@]}" \
       < "$input" > "$tmp/ref.out" 2> "$tmp/ref.err") || rc=$?
  else
    (cd "$cwd" && timeout -k 10 "$limit" \
       env -u LIBGUESTFS_BACKEND_SETTINGS "$run" ${GUESTKIT_TEST_VALGRIND:-} guestfish "${args[@]}" \
       < "$input" > "$tmp/ours.out" 2> "$tmp/ours.err") || rc=$?
  fi
  echo "$rc" > "$tmp/$tool.rc"
  case "$rc" in
    124|137) echo "note: $name: $tool timed out after $limit s" ;;
  esac
  if [ "$filter" = elapsed ]; then
    sed -i -E 's/^elapsed time: [0-9]+\.[0-9]{2} seconds$/elapsed time: N seconds/' \
      "$tmp/$tool.out"
  fi
}

compare_stream () {
  local name="$1" what="$2"
  if cmp -s "$tmp/ref.$what" "$tmp/ours.$what"; then return 0; fi
  echo "FAIL: $name: $what differs"
  diff -u --label "$name.$what (reference)" --label "$name.$what (guestkit)" \
    "$tmp/ref.$what" "$tmp/ours.$what" || true
  return 1
}

shopt -s nullglob
files=("$cases_dir"/*.gf)
[ "${#files[@]}" -gt 0 ] || fail "no cases in $cases_dir"

# The launch budget, over all cases (not just the selected ones).
nlaunch="$(cat "${files[@]}" | grep -cx '#@ launch' || true)"
[ "$nlaunch" -le "$max_launch" ] ||
  fail "$nlaunch cases launch the appliance; at most $max_launch may"

passed=0 failed=0 failed_names=()
start_all="$(date +%s.%N)"
for f in "${files[@]}"; do
  name="$(basename "$f" .gf)"
  if [ -n "$only" ] && ! grep -qE -- "$only" <<< "$name"; then continue; fi
  if ! parse_case "$f" > "$tmp/msg"; then
    echo "FAIL: $name: $(cat "$tmp/msg")"; failed=$((failed + 1)); failed_names+=("$name"); continue
  fi
  if [ -n "$launch" ] && [ -n "$no_launch" ]; then continue; fi
  if [ -n "$launch" ] && [ -z "$ref_only" ]; then
    # Both at once, each in its own directory.
    t0="$(date +%s.%N)"
    run_tool ref "$tmp/cwd-ref" &
    refpid=$!
    run_tool ours "$tmp/cwd-ours"
    wait "$refpid" || true
    t1="$(date +%s.%N)"
    secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
    osecs="$secs"
  else
    t0="$(date +%s.%N)"
    run_tool ref
    t1="$(date +%s.%N)"
    secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
    if [ -z "$launch" ] && awk -v s="$secs" 'BEGIN { exit !(s > 10) }'; then
      echo "warning: $name: the reference took $secs s; does it launch without '#@ launch'?"
    fi
    if [ -n "$ref_only" ]; then
      echo "=== $name (rc $(cat "$tmp/ref.rc"), $secs s): guestfish ${args[*]}"
      sed 's/^/  out| /' "$tmp/ref.out"
      sed 's/^/  err| /' "$tmp/ref.err"
      continue
    fi
    t2="$(date +%s.%N)"
    run_tool ours
    t3="$(date +%s.%N)"
    osecs="$(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.1f", b - a }')"
  fi
  if [ -z "$launch" ] && [ -z "${GUESTKIT_TEST_VALGRIND:-}" ] &&
     awk -v s="$osecs" 'BEGIN { exit !(s > 10) }'; then
    echo "warning: $name: ours took $osecs s; does it launch the appliance?"
  fi
  ok=1
  compare_stream "$name" out > "$tmp/cmp" || ok=
  compare_stream "$name" err >> "$tmp/cmp" || ok=
  rrc="$(cat "$tmp/ref.rc")" orc="$(cat "$tmp/ours.rc")"
  if [ "$rrc" != "$orc" ]; then
    echo "FAIL: $name: exit code $orc, reference $rrc" >> "$tmp/cmp"; ok=
  fi
  cat "$tmp/cmp"
  if [ -n "$ok" ]; then
    echo "ok: $name (rc $rrc)"; passed=$((passed + 1))
  else
    failed=$((failed + 1)); failed_names+=("$name")
    cat "$tmp/cmp" >> "$tmp/failures"
  fi
done
end_all="$(date +%s.%N)"
total="$(awk -v a="$start_all" -v b="$end_all" 'BEGIN { printf "%.1f", b - a }')"

if [ -n "$ref_only" ]; then
  echo "reference only: ${total} s"
  [ "$failed" = 0 ] || exit 1
  exit 0
fi
echo "$passed passed, $failed failed (${total} s)"
if [ "$failed" != 0 ]; then
  # Again at the end: a CI log may show only its last lines.
  if [ -s "$tmp/failures" ]; then
    echo "=== the differences, again:"
    cat "$tmp/failures"
  fi
  echo "failed: ${failed_names[*]}"
  exit 1
fi
