#!/usr/bin/env bash
# Connect-to-first-byte through openbsd-inetd + tcpd: Debian's tcpd vs
# ours, on the seed tables and on the 100,000-line hosts.deny, in the same
# run. Measures only; prints one line per (tables, tcpd) and the ratios.
#
# usage: benches/tcpd/run.sh [COUNT]      (default 200 connections each)
# needs: root (namespaces), openbsd-inetd, tcpd, python3, cargo.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
count=${1:-200}
cd "$root"
cargo build --release -q -p tcpwrap-tools --bin tcpd
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
data=$root/benches/data/out
[ -f "$data/big/hosts.deny" ] || python3 benches/data/gen.py "$data" >/dev/null
work=$(mktemp -d /tmp/tcpwrap-tcpd-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
out=$work/results
tests/golden/ns-run -- bash benches/tcpd/inner.sh "$data" "$target/release/tcpd" "$count" "$work" | tee "$out"
python3 - "$out" <<'PY'
import json, sys
r = {}
for line in open(sys.argv[1]):
    t, side, j = line.split(" ", 2)
    r[(t, side)] = json.loads(j)
for t in ("seed", "big"):
    d, o = r[(t, "debian")]["median_us"], r[(t, "tcpwrap")]["median_us"]
    print(f"{t}: Debian {d} us, tcpwrap {o} us, ratio {d / o:.2f}x")
PY
