#!/usr/bin/env bash
# Where the time of a cold check of the 100,000-line hosts.deny goes:
# samples the `cold/big/changed` benchmark (benches/rust) with perf and
# splits the samples taken inside `Checker::check` by step, then the
# `Table::compile` samples by leaf function. (`cold/big/touched` no longer
# compiles: an unchanged text continues the cached table.)
#
# usage: scripts/profile-cold.sh [BENCH-REGEX]   (default '^cold/big/changed$')
# env:   DATA=dir (default benches/data/out), FREQ=999 (samples/s)
# needs: perf (linux-perf) with permission to profile this user's processes.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
filter=${1:-'^cold/big/changed$'}
DATA=${DATA:-$root/benches/data/out}
FREQ=${FREQ:-999}
command -v perf >/dev/null || { echo "profile-cold.sh: perf not found (apt-get install linux-perf)" >&2; exit 1; }

target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work="$target_dir/tcpwrap-bench"
mkdir -p "$work"
python3 benches/data/gen.py "$DATA"
exe=$(cargo bench -p tcpwrap-bench --bench checks --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "checks":
        print(m["executable"])')
[ -n "$exe" ] || { echo "profile-cold.sh: bench executable not found" >&2; exit 1; }

TCPWRAP_BENCH_DATA=$DATA perf record -q -F "$FREQ" --call-graph dwarf,32768 -o "$work/perf.cold.data" \
    "$exe" --bench --warm-up-time 1 --measurement-time 3 --noplot "$filter" >/dev/null
perf script -i "$work/perf.cold.data" -F ip,sym --no-inline 2>/dev/null >"$work/perf.cold.txt"

python3 - "$work/perf.cold.txt" <<'EOF'
import collections, sys

samples = []
for block in open(sys.argv[1]).read().split("\n\n"):
    frames = []
    for l in block.strip().split("\n"):
        f = l.split(None, 1)
        if f:
            frames.append((f[0], f[1] if len(f) > 1 else "?"))
    if frames:
        samples.append(frames)

def step(syms):
    s = " ".join(syms)
    if "Table::compile" in s or "Table::recompile" in s:
        return "Table::compile"
    if "drop_in_place" in s or "Arc<T,A>::drop_slow" in s:
        return "drop the replaced table"
    if "read_all" in s or "read_to_end" in s:
        return "read the file"
    if "tcpwrap_core::eval" in s or "tcpwrap_core::check" in s:
        return "the check (eval)"
    if "open" in s or "fstat" in s or "statx" in s or "metadata" in s:
        return "open + fstat"
    return "other (cache map, Arc, allocator)"

def leaf(frames):
    ip, sym = frames[0]
    if ip.startswith("ffffffff"):
        return "kernel (page faults, mmap/munmap/brk)"
    for key, name in [
        ("classify", "pattern classification (*Pat::classify)"),
        ("memmove", "memmove/memcpy (Vec growth, arena copies)"),
        ("memcpy", "memmove/memcpy (Vec growth, arena copies)"),
        ("memchr", "memchr (line and separator search)"),
        ("sort", "sorting"),
        ("LineReader", "LineReader::next (line assembly)"),
        ("eq_ci", "eq_ci"),
    ]:
        if key in sym:
            return name
    for key in ("malloc", "free", "realloc", "_int_", "__rust_", "__rdl", "raw_vec", "grow", "unlink_chunk"):
        if key in sym:
            return "allocator (malloc/free/realloc)"
    if "Table::compile" in sym or "Compiler::" in sym:
        return "Table::compile itself (inlined: fast lane, tokenizing, pushes, index build)"
    return sym[:70]

inside = [f for f in samples if any("Checker::check" in s for _, s in f)]
print(f"perf samples inside Checker::check: {len(inside)} (of {len(samples)})")
c = collections.Counter(step([s for _, s in f]) for f in inside)
for k, v in c.most_common():
    print(f"  {100 * v / len(inside):5.1f}%  {k}")
comp = [f for f in inside if any("Table::compile" in s or "Table::recompile" in s for _, s in f)]
if comp:
    print(f"Table::compile samples by leaf function ({len(comp)}):")
    c = collections.Counter(leaf(f) for f in comp)
    for k, v in c.most_common(12):
        print(f"  {100 * v / len(comp):5.1f}%  {k}")
EOF
