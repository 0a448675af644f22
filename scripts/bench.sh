#!/usr/bin/env bash
# Debian libwrap vs tcpwrap: runs both benchmark harnesses in one go on the
# same generated tables and requests (benches/data), then prints one table
# with the ratios and whether the performance targets were met.
# Measures only: a missed target is reported, never an error.
#
# usage: scripts/bench.sh
#        scripts/bench.sh tcpwrapd   the super-server benchmark instead:
#                                    benches/tcpwrapd/run.sh (root; about 4-5
#                                    minutes, BENCH_QUICK=1 about 1.5 minutes)
# env:
#   BENCH_QUICK=1   shorter runs (about 1 minute instead of about 2-3)
#   REPEATS=n       Debian runs per case (default 3, quick 1; median taken)
#   WARMUP=s        criterion warm-up seconds per benchmark (default 1, quick 0.5)
#   MEASURE=s       criterion measurement seconds per benchmark (default 3, quick 1)
#   CPU=k           pin both harnesses to CPU k (taskset)
#   DATA=dir        where gen.py writes the tables (default benches/data/out)
#   REPORT=file     also write the final table there
#                   (default: <target dir>/tcpwrap-bench/report.txt)
# needs: cc and libwrap0-dev (Debian side), python3, cargo.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ "${1:-}" = tcpwrapd ]; then
    # tcpwrapd vs openbsd-inetd -l, openbsd-inetd + tcpd and xinetd (issue 7):
    # connections per second and the one-source flood, see docs/benchmarks.md.
    if [ -n "${BENCH_QUICK:-}" ] && [ "${BENCH_QUICK}" != 0 ]; then
        export REPEATS=${REPEATS:-1} SECONDS_PER=${SECONDS_PER:-1}
        export FLOOD_SECONDS=${FLOOD_SECONDS:-10} CONTROL_SECONDS=${CONTROL_SECONDS:-5}
    fi
    exec benches/tcpwrapd/run.sh
fi

if [ -n "${BENCH_QUICK:-}" ] && [ "${BENCH_QUICK}" != 0 ]; then
    REPEATS=${REPEATS:-1}; WARMUP=${WARMUP:-0.5}; MEASURE=${MEASURE:-1}
else
    REPEATS=${REPEATS:-3}; WARMUP=${WARMUP:-1}; MEASURE=${MEASURE:-3}
fi
DATA=${DATA:-$root/benches/data/out}
pin=()
if [ -n "${CPU:-}" ]; then pin=(taskset -c "$CPU"); fi

target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work="$target_dir/tcpwrap-bench"
REPORT=${REPORT:-$work/report.txt}
mkdir -p "$work"

start=$(date +%s)
echo "load average at start: $(cut -d" " -f1-3 /proc/loadavg)"
stat0=$(head -1 /proc/stat)
python3 benches/data/gen.py "$DATA"

echo "== Debian libwrap (benches/debian/run.sh, REPEATS=$REPEATS)"
REPEATS=$REPEATS CPU=${CPU:-} N=0 benches/debian/run.sh "$DATA" | tee "$work/debian.txt"

echo
echo "== tcpwrap (cargo bench -p tcpwrap-bench, warm-up ${WARMUP}s, measurement ${MEASURE}s)"
# Stale results must not be mistaken for this run's.
for g in warm cold warm-breakdown cold-breakdown; do rm -rf "$target_dir/criterion/$g"; done
cargo bench -p tcpwrap-bench --bench checks --no-run
TCPWRAP_BENCH_DATA=$DATA "${pin[@]}" cargo bench -q -p tcpwrap-bench --bench checks -- \
    --warm-up-time "$WARMUP" --measurement-time "$MEASURE" --noplot 2>&1 |
    tee "$work/criterion.txt" | grep -E '^[a-z-]+/.*time:|^ +time:|^[a-z-]+/[^ ]*$' || true

echo
python3 - "$work/debian.txt" "$target_dir/criterion" "$(( $(date +%s) - start ))" \
    "$stat0" "$(head -1 /proc/stat)" <<'EOF' | tee "$REPORT"
import json, os, platform, subprocess, sys

debian_txt, crit, elapsed = sys.argv[1], sys.argv[2], sys.argv[3]
# CPU use of the whole machine over the run (/proc/stat "cpu" lines): both
# harnesses are single-threaded, so anything well above one CPU's share
# means other work ran at the same time and the numbers are noisier.
s0, s1 = ([int(x) for x in a.split()[1:9]] for a in sys.argv[4:6])
d = [b - a for a, b in zip(s0, s1)]
busy = 100 * (1 - (d[3] + d[4]) / max(1, sum(d)))

# Debian: run.sh table lines "case daemon addr verdict median min checks"
deb = {}
for line in open(debian_txt):
    f = line.split()
    if len(f) == 7 and f[0] in ("seed-deny", "seed-grant", "big"):
        deb[f[0]] = float(f[4])

# criterion: <group>/<sanitized id>/new/{benchmark,estimates}.json
medians = {}
for dirpath, _, files in os.walk(crit):
    if os.path.basename(dirpath) == "new" and "benchmark.json" in files:
        with open(os.path.join(dirpath, "benchmark.json")) as fh:
            full_id = json.load(fh)["full_id"]
        with open(os.path.join(dirpath, "estimates.json")) as fh:
            medians[full_id] = json.load(fh)["median"]["point_estimate"]

def ours(bench_id):
    """criterion's median time per iteration (ns), or None."""
    return medians.get(bench_id)

def fmt(ns):
    if ns is None:
        return "n/a"
    if ns >= 1e6:
        return f"{ns / 1e6:,.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:,.2f} µs"
    return f"{ns:,.0f} ns"

def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for l in out.splitlines():
            if l.startswith("Model name:"):
                return l.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"

def sources_digest():
    """sha256 over crates/**/*.rs, Cargo.toml and Cargo.lock: which code was measured."""
    import hashlib
    h = hashlib.sha256()
    paths = ["Cargo.toml", "Cargo.lock"]
    for d, _, files in os.walk("crates"):
        paths += [os.path.join(d, f) for f in files if f.endswith((".rs", ".toml"))]
    for p in sorted(paths):
        if os.path.exists(p):
            h.update(p.encode() + b"\0")
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()[:16]

rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}, Linux {platform.release()}, {rustc}")
print(f"machine busy during the run: {busy:.0f}% of {os.cpu_count()} CPUs "
      f"(one single-threaded harness alone: about {100 / os.cpu_count():.0f}%)")
print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}   "
      f"sources: {sources_digest()} (sha256 prefix of crates/, Cargo.toml, Cargo.lock)")
print("Debian = libwrap hosts_ctl (re-reads both files on every call: cold == warm), median of runs;")
print("tcpwrap = criterion median per check.  ratio = Debian / tcpwrap (higher is better).")
print()

# (label, Debian case, our bench id, target ratio or None)
rows = [
    ("seed-deny  warm", "seed-deny", "warm/seed-deny", 5),
    ("seed-grant warm", "seed-grant", "warm/seed-grant", 5),
    ("big        warm", "big", "warm/big", 1000),
    ("big        cold (fresh Checker)", "big", "cold/big/fresh-checker", 20),
    ("big        cold (file touched)", "big", "cold/big/touched", 20),
    ("big        cold (file changed)", "big", "cold/big/changed", 20),
    ("seed-deny  cold (fresh Checker)", "seed-deny", "cold/seed-deny/fresh-checker", None),
    ("seed-grant cold (fresh Checker)", "seed-grant", "cold/seed-grant/fresh-checker", None),
]
hdr = ("case", "Debian/check", "tcpwrap/check", "ratio", "target", "met")
w = (32, 14, 14, 9, 8, 4)
line = lambda cells: "  ".join(str(c).ljust(n) if i == 0 else str(c).rjust(n)
                              for i, (c, n) in enumerate(zip(cells, w)))
print(line(hdr))
print(line(["-" * n for n in w]))
missed = 0
for label, dcase, bid, target in rows:
    d, o = deb.get(dcase), ours(bid)
    ratio = d / o if d and o else None
    if target is None:
        met, tgt = "", "-"
    else:
        tgt = f">= {target}x"
        met = "n/a" if ratio is None else ("yes" if ratio >= target else "NO")
        missed += met == "NO"
    print(line([label, fmt(d), fmt(o), "n/a" if ratio is None else f"{ratio:,.2f}x", tgt, met]))

print()
print("where the time goes (tcpwrap):")
parts = [
    ("warm: cache hit, both files (TableCache::load x2)", ["warm-breakdown/seed-deny/load", "warm-breakdown/big/load"]),
    ("warm: one file: open+fstat+close / stat(path) alone", ["warm-breakdown/syscalls/open-fstat-close", "warm-breakdown/syscalls/stat"]),
    ("warm: decision on compiled tables (no I/O)", ["warm-breakdown/seed-deny/check-compiled", "warm-breakdown/seed-grant/check-compiled", "warm-breakdown/big/check-compiled"]),
    ("cold big: read 1.97 MB hosts.deny", ["cold-breakdown/big/read"]),
    ("cold big: line assembly alone (LineReader)", ["cold-breakdown/big/lines"]),
    ("cold big: Table::compile (borrowed text)", ["cold-breakdown/big/compile"]),
    ("cold big: Table::compile_owned (what the cache runs)", ["cold-breakdown/big/compile-owned"]),
    ("cold big: first check on a newly compiled table", ["cold-breakdown/big/first-check"]),
    ("cold big: drop a compiled 100k-rule table", ["cold-breakdown/big/drop"]),
]
for label, ids in parts:
    vals = ", ".join(f"{i.split('/')[-2 if 'syscalls' not in i else -1]} {fmt(ours(i))}" if len(ids) > 1 else fmt(ours(i))
                     for i in ids)
    print(f"  {label:<55} {vals}")
print()
print(f"targets missed: {missed}   (total run time {elapsed} s)")
EOF
echo "(report written to $REPORT)"
