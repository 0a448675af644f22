#!/usr/bin/env bash
# Runs inside tests/golden/ns-run (private /etc and network): one inetd per
# (tables, tcpd) pair, COUNT timed connections each.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
data=$1 ours=$2 count=$3 work=$4
ip link set lo up
ip addr add 123.123.123.4/32 dev lo
mkdir -p "$work/bin"
printf '#!/bin/sh\nexec /bin/echo ok\n' > "$work/bin/daemon.sh"
# The daemon: /bin/echo under the service names the tables use.
for n in ftpd sshd; do ln -sf /bin/echo "$work/bin/$n"; done
port=9200
for tables in seed big; do
    src=127.0.0.1; svc=sshd
    if [ "$tables" = seed ]; then src=123.123.123.4; svc=ftpd; fi
    for side in debian tcpwrap; do
        tcpd=/usr/sbin/tcpd; [ "$side" = tcpwrap ] && tcpd=$ours
        cp "$data/$tables/hosts.allow" /etc/hosts.allow
        cp "$data/$tables/hosts.deny" /etc/hosts.deny
        port=$((port + 1))
        printf '%s stream tcp nowait root %s %s/bin/%s x\n' "$port" "$tcpd" "$work" "$svc" > "$work/inetd.conf"
        /usr/sbin/inetd -d "$work/inetd.conf" > "$work/inetd.log" 2>&1 &
        pid=$!
        for _ in $(seq 100); do
            python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port)).close()" 2>/dev/null && break
            sleep 0.05
        done
        r=$(python3 "$here/client.py" "$port" "$src" "$count")
        kill "$pid"; wait "$pid" 2>/dev/null || true
        echo "$tables $side $r"
    done
done
