#!/bin/bash
# The whole test suite: install what it needs, build, run every test
# (make check), the unit and tool tests under valgrind, and a build with
# AddressSanitizer + UndefinedBehaviorSanitizer.  Exits non-zero if any
# test fails.  CI runs exactly this (.ci/run).
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top"
start=$(date +%s)

bash scripts/setup.sh
bash scripts/build.sh build

# Test logs are printed when a test fails, so CI shows why.
show_failures () {
  local d="$1"
  find "$d" -name 'test-*.log' -newer "$d/config.status" | while read -r log; do
    if grep -qE '^:test-result: (FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null; then
      echo "======== $log"; tail -50 "$log"
    fi
  done
}

echo "==> make check"
make -C build -j2 check || { show_failures build; exit 1; }

echo "==> make check-valgrind"
make -C build -j2 check-valgrind || { show_failures build; exit 1; }

echo "==> fuzz smoke (libFuzzer + ASan + UBSan, 10 s per parser)"
make -C build check-fuzz FUZZ_SECONDS=10

echo "==> sanitizers (ASan + UBSan)"
bash scripts/build.sh build-sanitize --enable-sanitizers
mkdir -p build-sanitize/tests
# The test images are the same: reuse them rather than build them again.
for i in images images-native; do
  [ -e build-sanitize/tests/$i ] || ln -s "$top/build/tests/$i" build-sanitize/tests/$i
done
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
make -C build-sanitize -j2 check-sanitize || { show_failures build-sanitize; exit 1; }

echo "==> all tests passed in $(( $(date +%s) - start )) s"
