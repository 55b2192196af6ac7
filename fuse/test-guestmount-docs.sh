#!/bin/bash
# guestmount(1) and guestunmount(1) document every option, --help lists
# every option, and every option of libguestfs's guestmount and
# guestunmount is accepted by ours (drop-in compatibility).  No
# appliance is launched.
set -euo pipefail
. "${abs_top_builddir:?}/tests/functions.sh"

srcdir="${abs_srcdir:-$abs_top_srcdir/fuse}"
d="$(mktemp -d "$abs_top_builddir/fuse/test-guestmount-docs.XXXXXX")"
trap 'rm -rf "$d"' EXIT

version="$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$abs_top_builddir/config.h")"
[ -n "$version" ] || fail "no PACKAGE_VERSION in config.h"

# "check_tool TOOL HIDDEN": TOOL's man page and --help against its
# --long-options and --short-options, then the reference's options
# against ours.  HIDDEN: long options left out of --help on purpose.
check_tool () {
  local tool="$1" hidden="$2" pod="$srcdir/$1.pod" opt n=0
  [ -f "$pod" ] || fail "no man page source $pod"
  podchecker "$pod" > /dev/null 2>&1 || fail "podchecker: $pod"

  ours "$tool" --help > "$d/help.out" || fail "$tool --help failed"
  ours "$tool" --long-options > "$d/long.out"
  ours "$tool" --short-options > "$d/short.out"
  [ "$(wc -l < "$d/long.out")" -ge 5 ] || fail "$tool --long-options lists too few options"
  [ -s "$d/short.out" ] || fail "$tool --short-options lists nothing"

  # In --help an option is a word of its own: "-a|--add image",
  # "--format[=raw|..]", "--fd=FD".
  while read -r opt; do
    grep -q -- "B<$opt>" "$pod" || fail "option $opt is not in $tool.pod"
    case " $hidden " in
      *" $opt "*) ;;
      *) grep -qE -- "(^|[ |])$opt([][ =|]|$)" "$d/help.out" ||
           fail "option $opt is not in $tool --help" ;;
    esac
    n=$((n + 1))
  done < <(cat "$d/long.out" "$d/short.out")

  # Every option of the reference is one of ours.
  if [ -x "/usr/bin/$tool" ]; then
    for o in --long-options --short-options; do
      "/usr/bin/$tool" "$o" > "$d/ref.out"
      [ -s "$d/ref.out" ] || fail "/usr/bin/$tool $o printed nothing"
      while read -r opt; do
        grep -qx -- "$opt" "$d/long.out" "$d/short.out" ||
          fail "the reference's $tool option $opt is missing"
      done < "$d/ref.out"
    done
  else
    fail "/usr/bin/$tool is not installed (scripts/setup.sh installs it)"
  fi

  echo "ok: $tool: $n options documented and in --help"
}

# guestmount: --live is refused (libguestfs removed live support) and
# left out of --help, as in the reference.
check_tool guestmount "--live"
[ "$(ours guestmount -V)" = "guestmount $version" ] ||
  fail "guestmount -V printed ‘$(ours guestmount -V)’, expected ‘guestmount $version’"
[ "$(ours guestmount --version)" = "guestmount $version" ] || fail "guestmount --version"
# The cache's true default (libguestfs's --help says 5 s, wrongly).
grep -q "default 60 sec" "$d/help.out" || fail "--help: --dir-cache-timeout default"
grep -q "dir-cache-timeout" "$srcdir/guestmount.pod" || fail "guestmount.pod: no cache timeout"
rc=0
ours guestmount --fuse-help > "$d/fuse-help.out" || rc=$?
[ "$rc" = 0 ] && grep -q allow_other "$d/fuse-help.out" || fail "--fuse-help: exit $rc"

# guestunmount has --long-options and --short-options, as the
# reference's has (bash completion uses them).
check_tool guestunmount ""
[ "$(ours guestunmount -V)" = "guestunmount guestkit $version" ] ||
  fail "guestunmount -V printed ‘$(ours guestunmount -V)’"
echo "ok: guestmount and guestunmount documented"
