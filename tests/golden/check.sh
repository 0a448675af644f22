#!/usr/bin/env bash
# check.sh: run a tcpdmatch binary against every golden case and compare with expected.*
#
# usage: tests/golden/check.sh /path/to/tcpdmatch [CASE-DIR-NAME...]
#
# Comparison (see README.md): stdout, stderr and exit status byte-exact; syslog as a list of
# lines (same lines, same order, no trimming).  Prints one line per failing case and a
# summary; exits 1 if any case failed.  Needs root (ns-run uses unshare).

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 /path/to/tcpdmatch [CASE...]" >&2; exit 2; }
bin=$1; shift
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
[ -x "$bin" ] || { echo "check.sh: $bin is not executable" >&2; exit 2; }

if [ $# -gt 0 ]; then
    dirs=()
    for n in "$@"; do dirs+=("$here/tcpdmatch/${n%/}"); done
else
    dirs=("$here"/tcpdmatch/[0-9][0-9][0-9]-*)
fi

out=$(mktemp -d "${TMPDIR:-/tmp}/golden-check.XXXXXX")
trap 'rm -rf "$out"' EXIT
pass=0 fail=0
for d in "${dirs[@]}"; do
    name=${d##*/}
    mapfile -t args < "$d/args"
    (
        cd "$d" || exit 125
        "$here/ns-run" --hosts "$here/hosts" --netgroup "$here/netgroup" \
            --syslog "$out/syslog" --argv0 tcpdmatch -- \
            "$bin" "${args[@]}" > "$out/stdout" 2> "$out/stderr"
    )
    echo $? > "$out/status"
    bad=()
    for f in stdout stderr status syslog; do
        cmp -s "$d/expected.$f" "$out/$f" || bad+=("$f")
    done
    if [ ${#bad[@]} -eq 0 ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $name: ${bad[*]}"
        if [ -n "${VERBOSE:-}" ]; then
            for f in "${bad[@]}"; do
                diff -u "$d/expected.$f" "$out/$f" | sed 's/^/    /'
            done
        fi
    fi
done
echo "check.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
