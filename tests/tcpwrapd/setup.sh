#!/usr/bin/env bash
# setup.sh: install what tests/tcpwrapd needs. Idempotent; run as root.
#
#   * everything of the tcpd harness (tests/tcpd/setup.sh): openbsd-inetd, Debian's tcpd,
#     python3, gcc, iproute2, util-linux, the test service twsvc
#   * nagios-nrpe-server (/usr/sbin/nrpe), nagios-nrpe-plugin (check_nrpe) and
#     monitoring-plugins-basic (check_dummy, the command nrpe runs)
#
# Nothing is started or configured: the test runs its own inetd, tcpwrapd and nrpe inside
# private namespaces. (On a machine with an init system the nagios-nrpe-server package may
# start its own daemon on port 5666; the test does not use or touch it.)
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
[ "$(id -u)" = 0 ] || { echo "setup.sh: must run as root" >&2; exit 2; }
if [ "$quiet" = 1 ]; then
    "$here/../tcpd/setup.sh" --quiet
else
    "$here/../tcpd/setup.sh"
fi
need=()
[ -x /usr/sbin/nrpe ] || need+=(nagios-nrpe-server)
[ -x /usr/lib/nagios/plugins/check_nrpe ] || need+=(nagios-nrpe-plugin)
[ -x /usr/lib/nagios/plugins/check_dummy ] || need+=(monitoring-plugins-basic)
if [ ${#need[@]} -gt 0 ]; then
    [ "$quiet" = 1 ] || echo "setup.sh: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ "$quiet" = 1 ] || echo "setup.sh: ready"
