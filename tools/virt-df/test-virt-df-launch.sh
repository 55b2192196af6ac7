#!/bin/bash -
# The appliance decides KVM or TCG by itself, and a launch that does not
# come up fails within its time limit with one clear line (never a hang,
# never a qemu left behind).
set -e
. "$abs_top_builddir/tests/functions.sh"
require_images
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
# The native engine reads these images without any launch: this test is
# about the appliance's.
export GUESTKIT_ENGINE=appliance

kvm_usable=no
if grep -qwE 'vmx|svm' /proc/cpuinfo && { : <> /dev/kvm; } 2>/dev/null; then
  kvm_usable=yes
fi

# -v says what was decided and why; the run itself must work with no
# LIBGUESTFS_BACKEND_SETTINGS hint (ours() removes it).
ours virt-df -v --format=raw -a "$images/wholefs.img" > "$d/out" 2> "$d/err"
grep -q "^wholefs.img:/dev/sda " "$d/out" || fail "no row: $(cat "$d/out")"
if [ "$kvm_usable" = no ]; then
  grep -q "KVM is not usable (.*): the appliance will use TCG" "$d/err" || fail "-v does not say TCG"
else
  grep -q "KVM is usable" "$d/err" || fail "-v does not say KVM"
fi
echo "ok: accelerator chosen automatically ($(grep -o 'will use [A-Z]*' "$d/err" | head -1))"

# Launch timeout: 2 seconds cannot be enough under TCG or KVM.
start=$(date +%s)
rc=0
GUESTKIT_LAUNCH_TIMEOUT=2 ours virt-df --format=raw -a "$images/wholefs.img" > "$d/out" 2> "$d/err" || rc=$?
elapsed=$(( $(date +%s) - start ))
[ "$rc" = 1 ] || fail "timeout: exit $rc"
[ "$(wc -l < "$d/err")" = 1 ] || fail "timeout: not one line: $(cat "$d/err")"
grep -q "^virt-df: launch: the appliance did not come up within 2 seconds" "$d/err" || fail "timeout message: $(cat "$d/err")"
[ ! -s "$d/out" ] || fail "timeout: a title was printed"
[ "$elapsed" -lt 30 ] || fail "timeout took $elapsed s"
if pgrep -f "guestkit.launch=" > /dev/null; then fail "a qemu of ours is still running"; fi
echo "ok: a 2 s launch limit fails cleanly in $elapsed s"

# Forcing KVM where it is not usable hangs libguestfs's default; ours is
# bounded by the timeout and says so.
if [ "$kvm_usable" = no ] && [ -e /dev/kvm ]; then
  rc=0
  GUESTKIT_ACCEL=kvm GUESTKIT_LAUNCH_TIMEOUT=40 ours virt-df --format=raw -a "$images/wholefs.img" > "$d/out" 2> "$d/err" || rc=$?
  [ "$rc" = 1 ] || fail "forced KVM: exit $rc"
  [ "$(wc -l < "$d/err")" = 1 ] || fail "forced KVM: not one line: $(cat "$d/err")"
  if pgrep -f "guestkit.launch=" > /dev/null; then fail "forced KVM: qemu left running"; fi
  echo "ok: forced KVM on a host without usable KVM: $(cat "$d/err")"
fi
