#!/usr/bin/env bash
# Debian libwrap (7.6.q-32) side of the tcpwrap benchmarks.
#
# usage: benches/debian/run.sh [DATADIR]
#   DATADIR  where gen.py writes the tables (default: benches/data/out)
# env:
#   N=0         hosts_ctl calls per run (0 = automatic, >= 2 s per run)
#   REPEATS=3   runs per case; the table shows the median and the minimum
#   CPU=        if set, pin ctlbench to this CPU with taskset
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data=${1:-$root/benches/data/out}
N=${N:-0}
REPEATS=${REPEATS:-3}
pin=()
if [ -n "${CPU:-}" ]; then pin=(taskset -c "$CPU"); fi

"$here/build.sh"
python3 "$root/benches/data/gen.py" "$data"
bench="$here/build/ctlbench"

echo
echo "machine: $(uname -r), nproc=$(nproc), $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
echo "libwrap: $(dpkg-query -W -f='${Package} ${Version}' libwrap0 2>/dev/null || echo unknown)"
echo "data:    $data   N=$N REPEATS=$REPEATS${CPU:+ CPU=$CPU}"
echo "note:    libwrap re-reads both tables on every call: cold == warm"
echo
printf '%-11s %-7s %-14s %-7s %14s %14s %10s\n' case daemon client_addr verdict 'median ns/chk' 'min ns/chk' checks
printf '%-11s %-7s %-14s %-7s %14s %14s %10s\n' ----------- ------- -------------- ------- -------------- -------------- ----------

status=0
# cases.tsv: case dir daemon client_name client_addr user expect rule
# (tabs -> \037 so that empty fields survive `read`)
tail -n +2 "$data/cases.tsv" | tr '\t' '\037' |
while IFS=$'\037' read -r name dir daemon cname caddr user expect rule; do
    results=()
    verdict=
    checks=
    for ((i = 0; i < REPEATS; i++)); do
        line=$("${pin[@]}" "$bench" "$data/$dir/hosts.allow" "$data/$dir/hosts.deny" \
               "$daemon" "$cname" "$caddr" "$user" "$N")
        ns=${line#ns_per_check=}; ns=${ns%% *}
        checks=${line#*checks=}; checks=${checks%% *}
        verdict=${line##*verdict=}
        results+=("$ns")
    done
    sorted=$(printf '%s\n' "${results[@]}" | sort -g)
    median=$(printf '%s\n' "$sorted" | sed -n "$(( (REPEATS + 1) / 2 ))p")
    min=$(printf '%s\n' "$sorted" | head -1)
    printf '%-11s %-7s %-14s %-7s %14s %14s %10s\n' "$name" "$daemon" "$caddr" "$verdict" "$median" "$min" "$checks"
    if [ "$verdict" != "$expect" ]; then
        echo "run.sh: $name: expected $expect, got $verdict" >&2
        exit 1
    fi
done || status=$?
exit $status
