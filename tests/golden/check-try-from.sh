#!/usr/bin/env bash
# check-try-from.sh: run a try-from binary against every try-from golden case and compare.
#
# usage: tests/golden/check-try-from.sh /path/to/try-from [CASE-DIR-NAME...]
#
# stdout, stderr and exit status are compared byte-exact, syslog as a list of lines (same
# lines, same order; the files are written one record per line, so this is also a byte
# comparison).  For every failing case a unified diff of each differing file is printed.
# Exits 1 if any case failed, 2 on a harness problem.  Needs root.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 /path/to/try-from [CASE...]" >&2; exit 2; }
bin=$1; shift
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
[ -x "$bin" ] || { echo "check-try-from.sh: $bin is not executable" >&2; exit 2; }
if [ $# -gt 0 ]; then
    dirs=(); for n in "$@"; do dirs+=("$here/try-from/${n%/}"); done
else
    dirs=("$here"/try-from/[0-9][0-9][0-9]-*)
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/check-try-from.XXXXXX") || exit 2
trap 'rm -rf "$out"' EXIT
pass=0 fail=0
for d in "${dirs[@]}"; do
    name=${d##*/}
    "$here/try-from/run-case.sh" "$d" "$bin" "$out" || exit 2
    bad=()
    for f in stdout stderr status syslog; do
        cmp -s "$d/expected.$f" "$out/$f" || bad+=("$f")
    done
    if [ ${#bad[@]} -eq 0 ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name: ${bad[*]}"
        for f in "${bad[@]}"; do
            diff -u --label "expected.$f" --label "actual.$f" "$d/expected.$f" "$out/$f" | sed 's/^/    /'
        done
    fi
done
echo "check-try-from.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
