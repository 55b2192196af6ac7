#!/bin/bash -
# make check-fuzz: build every native-engine fuzz target (tests/fuzz-native-*.c)
# with clang's libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer,
# and run each for a bounded time from a seed corpus of small real images.
#
#   check-fuzz.sh SECONDS [TARGET...]      (TARGET: qcow2, parts, ext, ...)
#
# A crash, a leak, a timeout (a hang) or an out-of-bounds read fails it;
# the input that did is kept in tests/fuzz/artifacts/ and can be replayed
# with the target built by make check (tests/fuzz-native-TARGET FILE).
set -euo pipefail
. "$abs_top_builddir/tests/functions.sh"

seconds="${1:?usage: $0 SECONDS [TARGET...]}"
shift
command -v clang > /dev/null || skip "clang is not installed (scripts/setup.sh installs it)"
src="$abs_top_srcdir"
out="$abs_top_builddir/tests/fuzz"
mkdir -p "$out/artifacts"

if [ $# -eq 0 ]; then
  set --
  for f in "$src"/tests/fuzz-native-*.c; do
    t="${f##*/fuzz-native-}"
    set -- "$@" "${t%.c}"
  done
fi

# The library's native engine alone: no appliance, no pools, and the
# filesystems' own parsers (not fs-ext-files.c, which is libext2fs's).
lib=("$src"/lib/native/reader.c "$src"/lib/native/qcow2.c
     "$src"/lib/native/parttable.c "$src"/lib/native/lvm2.c
     "$src"/lib/native/fs.c "$src"/lib/native/fs-ext.c "$src"/lib/native/fs-xfs.c
     "$src"/lib/native/fs-btrfs.c "$src"/lib/native/fs-vfat.c "$src"/lib/native/fs-ntfs.c
     "$src"/lib/errors.c "$src"/lib/handle.c
     "$src"/common/utils/cleanups.c "$src"/common/utils/vector.c
     "$src"/tests/fuzz-stubs.c)
cflags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -DFUZZ_LIBFUZZER -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -I"$abs_top_builddir" -I"$src/lib" -I"$src/lib/native"
        -I"$src/common/utils" $(pkg-config --cflags libxml-2.0))
libs=(-lz -lzstd $(pkg-config --libs libxml-2.0) -lpthread)

# Seeds: the first bytes of the test images (their metadata is at the
# start), and small images made here.
seeds () {
  local t="$1" d="$out/seeds-$t" f
  rm -rf "$d"
  mkdir -p "$d"
  case "$t" in
    qcow2)
      qemu-img create -q -f qcow2 "$d/empty.qcow2" 4M
      qemu-img convert -q -c -f raw -O qcow2 <(head -c 1M "$images/ext4-mbr.img") "$d/zlib.qcow2" 2>/dev/null ||
        head -c 1M "$images/ext4-mbr.img" > "$d/raw" ;;
    parts)
      head -c 2M "$images/lvm.img" > "$d/lvm-mbr"
      head -c 1M "$images/span-a.img" > "$d/pv-whole"
      truncate -s 2M "$d/gpt"
      printf 'label: gpt\nstart=64, size=100, type=linux\nstart=200, size=100\n' | sfdisk -q "$d/gpt"
      truncate -s 2M "$d/ebr"
      printf 'label: dos\nstart=64, size=100\nstart=200, type=5\nstart=264, size=50\nstart=400, size=50\n' | sfdisk -q "$d/ebr" ;;
    *)
      for f in "$images"/*.img "$images"-native/*.img; do
        head -c 1M "$f" > "$d/${f##*/}"
      done ;;
  esac
}

status=0
for t in "$@"; do
  [ -f "$src/tests/fuzz-native-$t.c" ] || fail "no fuzz target $t"
  clang "${cflags[@]}" "$src/tests/fuzz-native-$t.c" "${lib[@]}" \
    -o "$out/fuzz-$t" "${libs[@]}"
  seeds "$t"
  mkdir -p "$out/corpus-$t"
  log="$out/fuzz-$t.log"
  if (cd "$out/artifacts" &&
      timeout $((seconds + 120)) "$out/fuzz-$t" -max_total_time="$seconds" \
        -max_len=1048576 -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/artifacts/$t-" \
        "$out/corpus-$t" "$out/seeds-$t") > "$log" 2>&1; then
    echo "ok: fuzz-$t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs in ${seconds} s"
  else
    tail -40 "$log" >&2
    echo "FAIL: fuzz-$t (log: $log; input: $out/artifacts/$t-*)" >&2
    status=1
  fi
done
exit $status
