#!/usr/bin/env bash
# run.sh: end-to-end tests of a tcpd binary under real super-servers (see README.md).
#
#   tests/tcpd/run.sh [--capture] [--tcpd PATH] [--inetd openbsd|xinetd|both]
#                     [-j N] [--timing check|warn|off] [--keep] [-v] [SCENARIO...]
#
#   --capture     run with the given tcpd (default Debian's /usr/sbin/tcpd) and write the
#                 goldens (scenarios/*/expected.*); without it: compare against them
#   --tcpd PATH   the tcpd under test (default: $TCPD, else /usr/sbin/tcpd)
#   --inetd       which super-server(s) run the inetd scenarios (default both)
#   SCENARIO      scenario directory names or name prefixes (default: all)
#
# Exit status: 0 all passed, 1 a mismatch or failed expectation, 2 set-up problem.
# Needs root (namespaces).  Calls setup.sh first (idempotent, quick when done).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root (it uses unshare)" >&2; exit 2; }
"$here/setup.sh" --quiet || { echo "run.sh: setup.sh failed" >&2; exit 2; }
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
exec "$py" "$here/harness.py" "$@"
