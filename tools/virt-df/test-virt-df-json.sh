#!/bin/bash -
# --json (ours only): valid JSON, and the same numbers as the CSV rows.
set -e
. "$abs_top_builddir/tests/functions.sh"
require_images
d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT

ours virt-df --json -a "$images/lvm.img" > "$d/json"
ours virt-df --csv -a "$images/lvm.img" > "$d/csv"
python3 - "$d/json" "$d/csv" <<'PY'
import csv, json, sys
rows = json.load(open(sys.argv[1]))
table = list(csv.reader(open(sys.argv[2])))[1:]
assert len(rows) == len(table) and rows, (rows, table)
for r, c in zip(rows, table):
    assert r["guest"] == c[0] == "lvm.img", (r, c)
    assert r["device"] == c[1], (r, c)
    assert r["fstype"] in ("ext4", "xfs"), r
    assert r["size"] // 1024 == int(c[2]), (r, c)
    assert r["used"] // 1024 == int(c[3]), (r, c)
    assert r["available"] // 1024 == int(c[4]), (r, c)
    assert "%.1f" % r["use_percent"] == c[5], (r, c)
    assert r["inodes"] >= r["inodes_used"] + 0 and r["inodes_free"] >= 0, r
print("ok: %d JSON rows match the CSV rows" % len(rows))
PY
