#!/usr/bin/env bash
# capture.sh: (re)generate expected.{stdout,stderr,status,syslog} of every tcpdmatch golden
# case by running Debian's real tcpdmatch through ns-run.
#
# usage: tests/golden/capture.sh [CASE-DIR-NAME...]      (default: all cases)
#        TCPDMATCH=/path/to/tcpdmatch tests/golden/capture.sh   (other binary; default
#                                                            /usr/sbin/tcpdmatch)
# Each case is run exactly like a test runs it (see README.md):
#   cd CASE && ns-run --hosts hosts --netgroup netgroup --syslog CASE/expected.syslog \
#                     --argv0 tcpdmatch -- $TCPDMATCH $(lines of CASE/args)
# Needs root (ns-run uses unshare).  Only expected.* files inside the case directories are
# written.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tcpdmatch=${TCPDMATCH:-/usr/sbin/tcpdmatch}
nsrun="$here/ns-run"
hosts="$here/hosts"
netgroup="$here/netgroup"

[ -x "$tcpdmatch" ] || { echo "capture.sh: $tcpdmatch not found (apt-get install tcpd)" >&2; exit 2; }

if [ $# -gt 0 ]; then
    dirs=()
    for n in "$@"; do dirs+=("$here/tcpdmatch/${n%/}"); done
else
    dirs=("$here"/tcpdmatch/[0-9][0-9][0-9]-*)
fi

n=0
for d in "${dirs[@]}"; do
    [ -f "$d/args" ] || { echo "capture.sh: $d: no args file" >&2; exit 2; }
    mapfile -t args < "$d/args"
    ng=()
    [ -f "$netgroup" ] && ng=(--netgroup "$netgroup")
    (
        cd "$d" || exit 125
        "$nsrun" --hosts "$hosts" "${ng[@]}" --syslog "$d/expected.syslog" --argv0 tcpdmatch -- \
            "$tcpdmatch" "${args[@]}" > "$d/expected.stdout" 2> "$d/expected.stderr"
    )
    st=$?
    if [ "$st" -ge 125 ]; then
        echo "capture.sh: $d: ns-run failed (status $st)" >&2
        cat "$d/expected.stderr" >&2
        exit 2
    fi
    echo "$st" > "$d/expected.status"
    n=$((n + 1))
done
echo "capture.sh: captured $n case(s) with $tcpdmatch"
