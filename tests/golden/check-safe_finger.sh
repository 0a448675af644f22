#!/usr/bin/env bash
# check-safe_finger.sh: run a safe_finger binary against every safe_finger golden case and compare.
#
# usage: tests/golden/check-safe_finger.sh /path/to/safe_finger [CASE-DIR-NAME...]
#
# stdout, stderr and exit status are compared byte-exact, syslog as a list of lines (same
# lines, same order; the files are written one record per line, so this is also a byte
# comparison).  For every failing case a unified diff of each differing file is printed.
# Exits 1 if any case failed, 2 on a harness problem.  Needs root.
# Case directories whose name contains "-slow-" take about 60 s each (safe_finger's fixed
# 60-second alarm); SKIP_SLOW=1 skips them (reported as SKIP, not counted as failures).

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 /path/to/safe_finger [CASE...]" >&2; exit 2; }
bin=$1; shift
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
[ -x "$bin" ] || { echo "check-safe_finger.sh: $bin is not executable" >&2; exit 2; }
if [ $# -gt 0 ]; then
    dirs=(); for n in "$@"; do dirs+=("$here/safe_finger/${n%/}"); done
else
    dirs=("$here"/safe_finger/[0-9][0-9][0-9]-*)
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/check-safe_finger.XXXXXX") || exit 2
trap 'rm -rf "$out"' EXIT
pass=0 fail=0 skip=0
for d in "${dirs[@]}"; do
    name=${d##*/}
    if [ -n "${SKIP_SLOW:-}" ] && [[ $name == *-slow-* ]]; then
        echo "SKIP $name (slow; SKIP_SLOW is set)"; skip=$((skip + 1)); continue
    fi
    "$here/safe_finger/run-case.sh" "$d" "$bin" "$out" || exit 2
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
echo "check-safe_finger.sh: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
