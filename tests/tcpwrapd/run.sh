#!/usr/bin/env bash
# run.sh: tcpwrapd against real peers (see README.md).
#
#   tests/tcpwrapd/run.sh [--tcpwrapd PATH] [-j N] [--keep] [-v] [--show] [--list]
#                         [--all-scenarios] [NAME...]
#
#   --tcpwrapd PATH   the tcpwrapd under test (default: $TCPWRAPD, else
#                     $CARGO_TARGET_DIR/debug/tcpwrapd, else target/debug/tcpwrapd)
#   NAME              test names or prefixes (--list): compare-*, clients-many-addresses,
#                     nrpe-seed, aix-seed-trap, load
#
# Exit status: 0 all passed (or skipped: peers missing outside CI), 1 a failure, 2 a set-up
# problem. Needs root (namespaces). Calls setup.sh first (installs openbsd-inetd, tcpd, nrpe,
# check_nrpe). Under CI=true a missing peer is a failure, never a skip.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root (it uses unshare)" >&2; exit 2; }
if ! "$here/setup.sh" --quiet; then
    if [ "${CI:-}" = true ]; then
        echo "run.sh: FAIL: setup.sh could not install the peers (openbsd-inetd, tcpd, nrpe)" >&2
        exit 1
    fi
    echo "run.sh: SKIP: setup.sh could not install the peers (openbsd-inetd, tcpd, nrpe)" >&2
    exit 0
fi
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
exec "$py" "$here/peers.py" "$@"
