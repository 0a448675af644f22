#!/usr/bin/env bash
# Real daemons with a libwrap: socat (tcpwrap=, allow-table=, deny-table=),
# openbsd-inetd -l and xinetd. Run inside tests/golden/ns-run (private network
# namespace with only loopback, private /etc and /dev/log).
#
# usage: run.sh LIBDIR WORKDIR [XINETD]
#   LIBDIR   directory put in LD_LIBRARY_PATH ("" for the system library)
#   WORKDIR  scratch directory (tables, logs)
#   XINETD   path of an xinetd binary (xinetd conflicts with openbsd-inetd,
#            so the test unpacks Debian's package instead of installing it)
#
# Prints one line per observation; the caller compares the output of a run
# with Debian's library to a run with ours. Lines starting with "maps "
# name the libwrap the daemon really loaded.
set -u
# This script writes /etc/hosts.allow and /etc/hosts.deny: only ever in the
# private /etc that ns-run mounts.
if ! mountpoint -q /etc; then
    echo "run.sh: refusing to run outside tests/golden/ns-run (/etc is not private)" >&2
    exit 2
fi
LIBDIR=$1
W=$2
XINETD=${3:-}
cd "$W" || exit 2
ip link set lo up || exit 2

# Replaces the (background) subshell, so that $! is the daemon's pid.
with_lib() {
    if [ -n "$LIBDIR" ]; then
        LD_LIBRARY_PATH=$LIBDIR exec "$@"
    else
        exec "$@"
    fi
}

# Which libwrap a process mapped (our build is named libwrap.so).
maps() {
    local m
    m=$(awk '$6 ~ /libwrap/ {print $6}' "/proc/$1/maps" 2>/dev/null | sort -u | head -1)
    case "$m" in
        */libwrap-test-lib/*|*/target/*/libwrap.so) echo "maps $2 ours" ;;
        /usr/lib/*libwrap.so.0*|/lib/*libwrap.so.0*) echo "maps $2 debian" ;;
        *) echo "maps $2 none($m)" ;;
    esac
}

wait_port() {
    for _ in $(seq 1 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

ask() { # ask PORT LABEL
    local got
    got=$(timeout 10 socat -T3 - "TCP:127.0.0.1:$1" </dev/null 2>/dev/null | tr -d '\r')
    echo "$2: [${got}]"
}

# ------------------------------------------------------------------ socat
printf 'mysvc: 127.0.0.1: spawn echo spawned %%d %%a > %s/spawned\n' "$W" > allow
printf 'ALL: ALL\n' > deny
with_lib socat TCP-LISTEN:7001,bind=127.0.0.1,reuseaddr,fork,tcpwrap=mysvc,allow-table="$W/allow",deny-table="$W/deny" \
    SYSTEM:'echo hello from socat' 2>socat.err &
spid=$!
wait_port 7001 || echo "socat did not start"
maps "$spid" socat
ask 7001 "socat allowed"
echo "socat spawn: $(cat spawned 2>/dev/null)"
# socat reads the tables again for every connection.
printf 'othersvc: 127.0.0.1\n' > allow
ask 7001 "socat refused"
printf 'mysvc: 127.0.0.1: severity local3.notice: deny\n' > allow
ask 7001 "socat deny option"
printf 'ALL: ALL: frob\n' > deny
printf '# nothing\n' > allow
ask 7001 "socat option error"
printf 'mysvc: 127.0.0.1: allow\n' > allow
ask 7001 "socat allow option"
kill "$spid"
wait "$spid" 2>/dev/null
grep -c 'refusing connection' socat.err | sed 's/^/socat refusals logged: /'

# ------------------------------------------------------------------ inetd
cat > inetd.conf <<EOF
7002 stream tcp nowait root /bin/echo echodaemon wrapped service
EOF
printf 'echodaemon: 127.0.0.1: spawn echo %%d %%c > %s/inetd.spawned\n' "$W" > /etc/hosts.allow
printf 'ALL: ALL\n' > /etc/hosts.deny
with_lib /usr/sbin/inetd -d -l "$W/inetd.conf" >inetd.out 2>&1 &
ipid=$!
wait_port 7002 || echo "inetd did not start"
sleep 0.2
maps "$ipid" inetd
ask 7002 "inetd allowed"
sleep 0.3
echo "inetd spawn: $(cat inetd.spawned 2>/dev/null)"
printf 'other: ALL\n' > /etc/hosts.allow
ask 7002 "inetd refused"
sleep 0.3
kill "$ipid"
wait "$ipid" 2>/dev/null

# ------------------------------------------------------------------ xinetd
if [ -n "$XINETD" ]; then
    {
        printf 'defaults\n{\n    log_type = SYSLOG daemon info\n}\n'
        printf 'service wrapped\n{\n    type = UNLISTED\n    port = 7003\n'
        printf '    socket_type = stream\n    protocol = tcp\n    wait = no\n    user = root\n'
        printf '    server = /bin/echo\n    server_args = xinetd service\n    bind = 127.0.0.1\n}\n'
    } > xinetd.conf
    printf 'echo: 127.0.0.1: spawn echo %%d %%c > %s/xinetd.spawned\n' "$W" > /etc/hosts.allow
    printf 'ALL: ALL\n' > /etc/hosts.deny
    with_lib "$XINETD" -dontfork -f "$W/xinetd.conf" -pidfile "$W/xinetd.pid" >xinetd.out 2>&1 &
    xpid=$!
    wait_port 7003 || echo "xinetd did not start"
    maps "$xpid" xinetd
    ask 7003 "xinetd allowed"
    sleep 0.3
    echo "xinetd spawn: $(cat xinetd.spawned 2>/dev/null)"
    printf 'other: ALL\n' > /etc/hosts.allow
    ask 7003 "xinetd refused"
    kill "$xpid"
    wait "$xpid" 2>/dev/null
fi
rm -f /etc/hosts.allow /etc/hosts.deny
echo "end"
