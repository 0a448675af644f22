#!/usr/bin/env bash
# run.sh: the Icinga "TCP Wrapper Integration" alert chain end to end (see README.md).
#
#   tests/alerts/run.sh [--tcpd PATH] [--send-nsca PATH] [--tcpdchk PATH|none]
#                       [-j N] [--keep] [-v] [--list] [SCENARIO...]
#
#   --tcpd PATH       the tcpd under test (default: $TCPD, else target/debug/tcpd)
#   --send-nsca PATH  the send_nsca of the script chain (default: $SEND_NSCA, else
#                     target/debug/send_nsca when it exists, else /usr/sbin/send_nsca)
#   --tcpdchk PATH    checks the tables before the run (default: the tcpdchk beside --tcpd)
#   SCENARIO          names or prefixes: chain (scripts + send_nsca), native (alert option)
#
# Exit status: 0 all passed (or skipped: peers missing outside CI), 1 a failure, 2 a set-up
# problem. Needs root (namespaces). Calls setup.sh first (installs nsca, openbsd-inetd).
# Under CI=true a missing peer is a failure, never a skip.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root (it uses unshare)" >&2; exit 2; }
if ! "$here/setup.sh" --quiet; then
    if [ "${CI:-}" = true ]; then
        echo "run.sh: FAIL: setup.sh could not install the peers (nsca, openbsd-inetd)" >&2
        exit 1
    fi
    echo "run.sh: SKIP: setup.sh could not install the peers (nsca, openbsd-inetd)" >&2
    exit 0
fi
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
exec "$py" "$here/e2e.py" "$@"
