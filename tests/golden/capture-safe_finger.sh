#!/usr/bin/env bash
# capture-safe_finger.sh: (re)generate expected.{stdout,stderr,status,syslog} of every safe_finger
# golden case by running Debian's real safe_finger (tcpd 7.6.q-32).
#
# usage: tests/golden/capture-safe_finger.sh [CASE-DIR-NAME...]        (default: all cases)
#        SAFE_FINGER=/path/to/safe_finger tests/golden/capture-safe_finger.sh (default /usr/sbin/safe_finger)
# Each case is run exactly like check-safe_finger.sh runs it (safe_finger/run-case.sh; see
# TOOLS.md).  Needs root.  Only expected.* files inside the case directories are written.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${SAFE_FINGER:-/usr/sbin/safe_finger}
[ -x "$bin" ] || { echo "capture-safe_finger.sh: $bin not found (apt-get install tcpd)" >&2; exit 2; }
if [ $# -gt 0 ]; then
    dirs=(); for n in "$@"; do dirs+=("$here/safe_finger/${n%/}"); done
else
    dirs=("$here"/safe_finger/[0-9][0-9][0-9]-*)
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/capture-safe_finger.XXXXXX") || exit 2
trap 'rm -rf "$out"' EXIT
n=0
for d in "${dirs[@]}"; do
    "$here/safe_finger/run-case.sh" "$d" "$bin" "$out" || exit 2
    for f in stdout stderr status syslog; do cp "$out/$f" "$d/expected.$f"; done
    n=$((n + 1))
done
echo "capture-safe_finger.sh: captured $n case(s) with $bin"
