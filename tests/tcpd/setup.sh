#!/usr/bin/env bash
# setup.sh: install / build what the tcpd end-to-end harness needs.  Idempotent; run as root.
#
#   * Debian packages: openbsd-inetd (the super-server), tcpd (Debian's tcpd, the reference),
#     socat (handy for manual poking), python3, gcc, iproute2, util-linux (unshare)
#   * xinetd: conflicts with openbsd-inetd as a package, so it is only downloaded and
#     unpacked (dpkg -x) into $CACHE/xinetd; its binary is run from there
#   * twsvc: the test service (twsvc.c), compiled into $CACHE/twsvc
#
# CACHE = $TCPD_HARNESS_CACHE or /var/cache/tcpwrap-tcpd-harness
# The system's inetd is never started or configured by the harness: the package's
# postinst may enable the openbsd-inetd service on a machine with an init system; we stop
# nothing and start nothing here.
set -eu
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${TCPD_HARNESS_CACHE:-/var/cache/tcpwrap-tcpd-harness}
quiet=0
[ "${1:-}" = "--quiet" ] && quiet=1
say() { [ "$quiet" = 1 ] || echo "setup.sh: $*"; }

[ "$(id -u)" = 0 ] || { echo "setup.sh: must run as root" >&2; exit 2; }

need=()
[ -x /usr/sbin/inetd ] || need+=(openbsd-inetd)
[ -x /usr/sbin/tcpd ] || need+=(tcpd)
command -v socat >/dev/null || need+=(socat)
[ -x /usr/bin/python3 ] || need+=(python3)
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v ip >/dev/null || need+=(iproute2)
command -v unshare >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi

mkdir -p "$cache"
if ! [ -x "$cache/xinetd/usr/sbin/xinetd" ]; then
    say "downloading and unpacking xinetd into $cache/xinetd"
    dl=$(mktemp -d /tmp/tcpd-harness-xinetd.XXXXXX)
    chmod 0755 "$dl"   # _apt must be able to write here
    ( cd "$dl" && apt-get download xinetd >/dev/null 2>&1 ) || {
        apt-get update -qq && ( cd "$dl" && apt-get download xinetd >/dev/null 2>&1 )
    } || { echo "setup.sh: apt-get download xinetd failed" >&2; rm -rf "$dl"; exit 1; }
    rm -rf "$cache/xinetd.new"
    dpkg -x "$dl"/xinetd_*.deb "$cache/xinetd.new"
    rm -rf "$cache/xinetd"
    mv "$cache/xinetd.new" "$cache/xinetd"
    rm -rf "$dl"
fi
# libwrap0 is what xinetd links against; it comes with tcpd
if ! [ -x "$cache/twsvc" ] || [ "$here/twsvc.c" -nt "$cache/twsvc" ]; then
    say "compiling twsvc"
    gcc -O2 -Wall -o "$cache/twsvc.new" "$here/twsvc.c"
    mv "$cache/twsvc.new" "$cache/twsvc"
fi
say "ready: $cache"
