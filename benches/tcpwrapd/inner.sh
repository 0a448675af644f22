#!/usr/bin/env bash
# The measurements of benches/tcpwrapd/run.sh. Runs only inside
# tests/golden/ns-run (private /etc, /dev and network namespace): it writes
# /etc/hosts.allow and /etc/hosts.deny, binds a syslog sink over /dev/log and
# adds addresses to the namespace's loopback.
#
# usage: inner.sh DATA WORK TCPWRAPD XINETD LOADGEN SVC REPEATS SECONDS CONC \
#                 FLOOD_SECONDS CONTROL_SECONDS INTERVAL_MS FLOOD_CONC
# Prints one result line per measurement:
#   cps TABLES SERVER REPEAT cpu_ticks=N records=N rss_kb=N {json of loadgen cps}
#   mix SERVER MODE cpu_ticks=N records=N rss_kb=N {json of loadgen mix}
# and "end" when everything ran.
set -u
if ! mountpoint -q /etc ||
    [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ]; then
    echo "inner.sh: refusing to run outside tests/golden/ns-run" >&2
    exit 2
fi
data=$1 W=$2 tcpwrapd=$3 xinetd=$4 loadgen=$5 svc=$6 repeats=$7 seconds=$8 conc=$9
flood_seconds=${10} control_seconds=${11} interval_ms=${12} flood_conc=${13} floor=${14}

ip link set lo up || exit 2
# 123.123.123.4: the seed tables' ftpd client (hosts.allow line 5), also the
# big-table client (not in 10/8); .2 the flooder, .10-.29 the other clients
# (all granted by `telnetd : 123.123.123.0/255.255.255.0`, line 6).
others=""
for a in 4 2 $(seq 10 29); do
    ip addr add "123.123.123.$a/32" dev lo || exit 2
    [ "$a" -ge 10 ] && others="$others${others:+,}123.123.123.$a"
done

# The service: one program under the daemon names the tables use, so that
# argv[0], the program's base name and xinetd's libwrap name agree.
mkdir -p "$W/bin"
for n in ftpd sshd telnetd; do ln -sf "$svc" "$W/bin/$n"; done

# Syslog: a counting sink over the namespace's /dev/log, so that every
# server's records cost the same (a send on a Unix datagram socket).
"$loadgen" sink "$W/log.sock" "$W/sink.count" > "$W/sink.out" &
sink=$!
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    kill "$sink" 2>/dev/null && wait "$sink" 2>/dev/null
}
trap cleanup EXIT
for _ in $(seq 100); do grep -q ready "$W/sink.out" 2>/dev/null && break; sleep 0.05; done
mount --bind "$W/log.sock" /dev/log || { echo "inner.sh: cannot bind the sink over /dev/log" >&2; exit 2; }

records() { tr -d ' \n' < "$W/sink.count"; }
# utime stime cutime cstime of /proc/PID/stat (the server and its reaped
# children); the command names have no spaces.
cpu_ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# Settings for the throughput runs ("raised": nothing throttles) and the
# flood runs ("default": each server as installed).
cat > "$W/tcpwrapd-raised.conf" <<'EOF'
per-source-max 0
per-source-rate 0
service-max 0
service-rate 0
EOF
: > "$W/tcpwrapd-default.conf"

# start SERVER LIMITS PORT DAEMON: start a server with one nowait service
# on 127.0.0.1:PORT running $W/bin/DAEMON; sets $server (its pid).
start() {
    local kind=$1 limits=$2 port=$3 daemon=$4 prog=$W/bin/$4
    case $kind in
        tcpwrapd)
            printf '127.0.0.1:%s stream tcp4 nowait root %s %s\n' "$port" "$prog" "$daemon" > "$W/inetd.conf"
            "$tcpwrapd" -c "$W/tcpwrapd-$limits.conf" --allow /etc/hosts.allow --deny /etc/hosts.deny \
                "$W/inetd.conf" >> "$W/server.out" 2>&1 &
            ;;
        inetd-libwrap | inetd-tcpd)
            local rate=() flags=(-i)
            [ "$limits" = raised ] && rate=(-R 100000000)
            if [ "$kind" = inetd-libwrap ]; then
                flags+=(-l)
                printf '127.0.0.1:%s stream tcp4 nowait root %s %s\n' "$port" "$prog" "$daemon" > "$W/inetd.conf"
            else
                printf '127.0.0.1:%s stream tcp4 nowait root /usr/sbin/tcpd %s\n' "$port" "$prog" > "$W/inetd.conf"
            fi
            /usr/sbin/inetd "${flags[@]}" "${rate[@]}" "$W/inetd.conf" >> "$W/server.out" 2>&1 &
            ;;
        floor)
            # The reference: accept and posix_spawn only (floor.c), no check.
            "$floor" 127.0.0.1 "$port" "$prog" "$daemon" >> "$W/server.out" 2>&1 &
            ;;
        xinetd)
            local defaults=""
            [ "$limits" = raised ] && defaults="    cps = 100000000 1
    instances = UNLIMITED
    per_source = UNLIMITED"
            cat > "$W/xinetd.conf" <<EOF
defaults
{
$defaults
}
service $daemon
{
    type = UNLISTED
    socket_type = stream
    protocol = tcp
    wait = no
    user = root
    server = $prog
    bind = 127.0.0.1
    port = $port
    libwrap = $daemon
}
EOF
            rm -f "$W/xinetd.pid"
            "$xinetd" -dontfork -f "$W/xinetd.conf" -pidfile "$W/xinetd.pid" >> "$W/server.out" 2>&1 &
            ;;
    esac
    server=$!
}
stop() {
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    server=""
}

port=9300
# ---------------------------------------------------------------- connections per second
# Servers in a different order in each repeat, so that a change in the
# machine's load does not always hit the same one.
order=(tcpwrapd inetd-libwrap inetd-tcpd xinetd floor)
for ((r = 1; r <= repeats; r++)); do
    for tables in seed big; do
        daemon=ftpd
        [ "$tables" = big ] && daemon=sshd
        cp "$data/$tables/hosts.allow" /etc/hosts.allow
        cp "$data/$tables/hosts.deny" /etc/hosts.deny
        for i in 0 1 2 3 4; do
            kind=${order[$(((i + r - 1) % 5))]}
            port=$((port + 1))
            start "$kind" raised "$port" "$daemon"
            if ! "$loadgen" wait 127.0.0.1 "$port" 'ok\n' 123.123.123.4; then
                echo "inner.sh: $kind did not serve on port $port" >&2
                tail -5 "$W/server.out" >&2
                exit 1
            fi
            # warm-up (tcpwrapd compiles the tables on the first check)
            "$loadgen" cps 127.0.0.1 "$port" 0.5 "$conc" 'ok\n' 123.123.123.4 > /dev/null
            sleep 0.3
            t0=$(cpu_ticks "$server") l0=$(records)
            res=$("$loadgen" cps 127.0.0.1 "$port" "$seconds" "$conc" 'ok\n' 123.123.123.4) || exit 1
            sleep 0.3 # the last children are reaped, the last records counted
            t1=$(cpu_ticks "$server") l1=$(records) rss=$(rss_kb "$server")
            stop
            echo "cps $tables $kind $r cpu_ticks=$((t1 - t0)) records=$((l1 - l0)) rss_kb=$rss $res"
        done
    done
done

# ---------------------------------------------------------------- one source floods
# Seed tables, daemon telnetd (hosts.allow line 6 grants 123.123.123.0/24):
# the flooder 123.123.123.2 and the 20 others are all granted by the tables.
# Every server with its default limits; a fresh server for the control run
# (the others alone) and for the flood run.
cp "$data/seed/hosts.allow" /etc/hosts.allow
cp "$data/seed/hosts.deny" /etc/hosts.deny
for kind in tcpwrapd inetd-libwrap inetd-tcpd xinetd; do
    for mode in control flood; do
        port=$((port + 1))
        start "$kind" default "$port" telnetd
        if ! "$loadgen" wait 127.0.0.1 "$port" 'ok\n' 123.123.123.29; then
            echo "inner.sh: $kind did not serve on port $port" >&2
            exit 1
        fi
        sleep 0.3
        fc=$flood_conc secs=$flood_seconds
        [ "$mode" = control ] && fc=0 secs=$control_seconds
        t0=$(cpu_ticks "$server") l0=$(records)
        res=$("$loadgen" mix 127.0.0.1 "$port" "$secs" "$fc" 123.123.123.2 "$interval_ms" 5000 'ok\n' "$others") || exit 1
        sleep 0.3
        t1=$(cpu_ticks "$server") l1=$(records) rss=$(rss_kb "$server")
        stop
        echo "mix $kind $mode cpu_ticks=$((t1 - t0)) records=$((l1 - l0)) rss_kb=$rss $res"
    done
done
rm -f /etc/hosts.allow /etc/hosts.deny
echo end
