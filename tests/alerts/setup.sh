#!/usr/bin/env bash
# setup.sh: install what tests/alerts needs. Idempotent; run as root.
#
#   * everything of the tcpd harness (tests/tcpd/setup.sh): openbsd-inetd, tcpd, python3,
#     gcc, iproute2, util-linux, the test service twsvc
#   * nsca (the NSCA 2.10 daemon, /usr/sbin/nsca) and nsca-client (Debian's
#     /usr/sbin/send_nsca, the default send_nsca until tcpwrap's is built)
#
# Nothing is started or configured: the test runs its own nsca and inetd inside private
# namespaces. (On a machine with an init system the nsca package's postinst may enable
# its own service with /etc/nsca.cfg; the test does not use or touch it.)
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
[ -x /usr/sbin/nsca ] || need+=(nsca)
[ -x /usr/sbin/send_nsca ] || need+=(nsca-client)
if [ ${#need[@]} -gt 0 ]; then
    [ "$quiet" = 1 ] || echo "setup.sh: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ "$quiet" = 1 ] || echo "setup.sh: ready"
