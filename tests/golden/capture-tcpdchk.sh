#!/usr/bin/env bash
# capture-tcpdchk.sh: (re)generate expected.{stdout,stderr,status,syslog} of every tcpdchk
# golden case by running Debian's real tcpdchk (tcpd 7.6.q-32) through ns-run-ext.
#
# usage: tests/golden/capture-tcpdchk.sh [CASE-DIR-NAME...]       (default: all cases)
#        TCPDCHK=/path/to/tcpdchk tests/golden/capture-tcpdchk.sh (default /usr/sbin/tcpdchk)
# Each case is run exactly like check-tcpdchk.sh runs it (tcpdchk/run-case.sh; see
# TOOLS.md).  Needs root.  Only expected.* files inside the case directories are written.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${TCPDCHK:-/usr/sbin/tcpdchk}
[ -x "$bin" ] || { echo "capture-tcpdchk.sh: $bin not found (apt-get install tcpd)" >&2; exit 2; }
if [ $# -gt 0 ]; then
    dirs=(); for n in "$@"; do dirs+=("$here/tcpdchk/${n%/}"); done
else
    dirs=("$here"/tcpdchk/[0-9][0-9][0-9]-*)
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/capture-tcpdchk.XXXXXX") || exit 2
trap 'rm -rf "$out"' EXIT
n=0
for d in "${dirs[@]}"; do
    "$here/tcpdchk/run-case.sh" "$d" "$bin" "$out" || exit 2
    for f in stdout stderr status syslog; do cp "$out/$f" "$d/expected.$f"; done
    n=$((n + 1))
done
echo "capture-tcpdchk.sh: captured $n case(s) with $bin"
