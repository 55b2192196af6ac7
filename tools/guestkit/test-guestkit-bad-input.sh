#!/bin/bash -
# Bad input: one clear line and exit 1, never a crash or a change.
set -e
. "$abs_top_builddir/tests/functions.sh"
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
export GUESTKIT_STATE_DIR="$d/state"
g () { ours guestkit "$@"; }

# expect_error MESSAGE-REGEX CMD...: exit 1, one line on stderr matching.
expect_error () {
  local re="$1"; shift
  local rc=0
  g "$@" > "$d/out" 2> "$d/err" || rc=$?
  [ "$rc" = 1 ] || fail "guestkit $*: exit $rc (want 1): $(cat "$d/err")"
  grep -qE -- "$re" "$d/err" || fail "guestkit $*: message: $(cat "$d/err")"
  echo "ok: guestkit $* -> $(head -1 "$d/err")"
}

g pool-define-as good dir --target "$d/good" > /dev/null
g pool-start good --build > /dev/null
snapshot () { (ls -A "$d/good"; cat "$d"/state/pools/*.xml) | md5sum; }
before=$(snapshot)

long=$(printf 'x%.0s' $(seq 1 256))
expect_error "contains ‘/’" pool-define-as a/b dir --target /tmp
expect_error "contains ‘\.\.’" pool-define-as .. dir --target /tmp
expect_error "starts with ‘-’" pool-define-as --target /tmp -- -bad dir
expect_error "control character" pool-define-as "$(printf 'a\tb')" dir --target /tmp
expect_error "longer than 255" pool-define-as "$long" dir --target /tmp
expect_error "contains ‘\.\.’" vol-create-as good ../escape.img 1M
expect_error "contains ‘/’" vol-create-as good sub/escape.img 1M
expect_error "starts with ‘-’" vol-create-as good -- -rf 1M
expect_error "contains ‘\.\.’" vol-delete .. --pool good
expect_error "longer than 255" vol-create-as good "$long" 1M
expect_error "unknown pool type" pool-define-as t1 zfs --target /tmp
expect_error "already exists" pool-define-as good dir --target /tmp
expect_error "absolute directory" pool-define-as rel dir --target relative/dir
expect_error "no storage pool called ‘nope’" pool-info nope
expect_error "no volume called ‘nope’" vol-info nope --pool good
expect_error "not a size" vol-create-as good x.img 12Q
expect_error "needs --backing-vol-format" vol-create-as good o.qcow2 1G --format qcow2 --backing-vol /etc/hostname
expect_error "--pool POOL is required" vol-info x.img
expect_error "unknown verb" pool-explode good

# Malformed XML names the problem.
printf '<pool type="dir"><name>x</name><target><path>/tmp</path></target>' > "$d/bad1.xml"
expect_error "pool XML: .*line" pool-define "$d/bad1.xml"
printf '<pool><name>x</name></pool>' > "$d/bad2.xml"
expect_error "<pool> has no type" pool-define "$d/bad2.xml"
printf '<pool type="dir"><target><path>/tmp</path></target></pool>' > "$d/bad3.xml"
expect_error "missing <name>" pool-define "$d/bad3.xml"
printf '<volume><name>v</name></volume>' > "$d/bad4.xml"
expect_error "missing <capacity>" vol-create good "$d/bad4.xml"
printf '<volume><name>v</name><capacity unit="parsecs">1</capacity></volume>' > "$d/bad5.xml"
expect_error "unknown size unit" vol-create good "$d/bad5.xml"
printf '<domain/>' > "$d/bad6.xml"
expect_error "root element must be <pool>" pool-define "$d/bad6.xml"
printf '<pool type="dir"><name>../../etc</name></pool>' > "$d/bad7.xml"
expect_error "contains" pool-define "$d/bad7.xml"

[ "$(snapshot)" = "$before" ] || fail "a refused command changed the pool or the state directory"
[ ! -e "$d/escape.img" ] && [ ! -e /tmp/escape.img ] || fail "a path trick escaped the pool"
echo "ok: nothing changed"
