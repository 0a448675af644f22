#!/usr/bin/env bash
# capture-try-from.sh: (re)generate expected.{stdout,stderr,status,syslog} of every try-from
# golden case by running Debian's real try-from (tcpd 7.6.q-32).
#
# usage: tests/golden/capture-try-from.sh [CASE-DIR-NAME...]        (default: all cases)
#        TRY_FROM=/path/to/try-from tests/golden/capture-try-from.sh (default /usr/sbin/try-from)
# Each case is run exactly like check-try-from.sh runs it (try-from/run-case.sh; see
# TOOLS.md).  Needs root.  Only expected.* files inside the case directories are written.

set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${TRY_FROM:-/usr/sbin/try-from}
[ -x "$bin" ] || { echo "capture-try-from.sh: $bin not found (apt-get install tcpd)" >&2; exit 2; }
if [ $# -gt 0 ]; then
    dirs=(); for n in "$@"; do dirs+=("$here/try-from/${n%/}"); done
else
    dirs=("$here"/try-from/[0-9][0-9][0-9]-*)
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/capture-try-from.XXXXXX") || exit 2
trap 'rm -rf "$out"' EXIT
n=0
for d in "${dirs[@]}"; do
    "$here/try-from/run-case.sh" "$d" "$bin" "$out" || exit 2
    for f in stdout stderr status syslog; do cp "$out/$f" "$d/expected.$f"; done
    n=$((n + 1))
done
echo "capture-try-from.sh: captured $n case(s) with $bin"
