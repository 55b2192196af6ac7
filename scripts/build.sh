#!/bin/bash
# Configure and build guestkit out of tree:  scripts/build.sh [DIR [CONFIGURE-ARGS...]]
# (default DIR: build).  Used by quickstart.sh and test.sh.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-build}"; shift || true
cd "$top"
if [ -f config.status ]; then
  echo "build.sh: this source tree was configured in place; run 'make distclean' first" >&2
  exit 1
fi
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi
mkdir -p "$dir"
cd "$dir"
if [ ! -f config.status ] || [ "$top/configure" -nt config.status ]; then
  "$top/configure" -q "$@"
fi
make -j"$(nproc)" -s
