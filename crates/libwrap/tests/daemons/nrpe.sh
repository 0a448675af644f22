#!/usr/bin/env bash
# Debian's NRPE daemon (nagios-nrpe-server, /usr/sbin/nrpe, linked with
# libwrap.so.0) behind the seed's hosts.allow line `nrpe: LOCAL,,`, queried
# with check_nrpe from allowed and refused loopback source addresses. Run
# inside tests/golden/ns-run --hosts tests/daemons/nrpe.hosts (private
# network namespace with only loopback, private /etc and /dev/log).
#
# usage: nrpe.sh LIBDIR WORKDIR
#   LIBDIR   directory put in LD_LIBRARY_PATH ("" for the system library)
#   WORKDIR  scratch directory (config, pid file, spawn output)
#
# Prints one line per observation; the caller compares a run with Debian's
# library to a run with ours. "maps " lines name the libwrap nrpe loaded.
set -u
# Writes /etc/hosts.allow and /etc/hosts.deny and binds 127.0.0.1:5666: only
# ever in the private /etc and network namespace that ns-run sets up.
if ! mountpoint -q /etc ||
    [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ]; then
    echo "nrpe.sh: refusing to run outside tests/golden/ns-run" >&2
    exit 2
fi
LIBDIR=$1
W=$2
NRPE=${NRPE:-/usr/sbin/nrpe}
CHECK=${CHECK_NRPE:-/usr/lib/nagios/plugins/check_nrpe}
PORT=5666
cd "$W" || exit 2
ip link set lo up || exit 2

maps() {
    local m
    m=$(awk '$6 ~ /libwrap/ {print $6}' "/proc/$1/maps" 2>/dev/null | sort -u | head -1)
    case "$m" in
        */libwrap-test-lib/*|*/target/*/libwrap.so) echo "maps $2 ours" ;;
        /usr/lib/*libwrap.so.0*|/lib/*libwrap.so.0*) echo "maps $2 debian" ;;
        *) echo "maps $2 none($m)" ;;
    esac
}

# Wait for the listening socket without connecting to it (a probe
# connection would itself go through nrpe's libwrap check and be logged).
wait_listen() {
    for _ in $(seq 1 200); do
        if ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q .; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# nrpe forks twice per connection; the grandchild checks the client with
# libwrap, answers and exits. Wait until no process runs our config other
# than the daemon itself, so that the next client's records cannot
# interleave with this one's.
wait_children() {
    local p n
    for _ in $(seq 1 200); do
        n=0
        for p in /proc/[0-9]*; do
            [ "${p#/proc/}" = "$npid" ] && continue
            { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$W/nrpe.cfg" && n=$((n + 1))
        done
        [ "$n" = 0 ] && return 0
        sleep 0.05
    done
    echo "nrpe children still running"
}

# -2 (version 2 packets only): otherwise check_nrpe retries a refused
# connection with older packets, and every refusal costs the 5 seconds that
# libwrap's clean_exit() sleeps before exiting.
check() { # check SOURCE LABEL [check_nrpe args...]
    local src=$1 label=$2 out st
    shift 2
    out=$(timeout 20 "$CHECK" -2 -D -n -H 127.0.0.1 -p "$PORT" -b "$src" -t 10 "$@" 2>&1)
    st=$?
    wait_children
    echo "$label: [$(printf '%s' "$out" | tr '\n' ' ')] exit=$st"
}

mkdir -p spool && chmod 1777 spool
cat > nrpe.cfg <<EOF
log_facility=daemon
debug=1
pid_file=$W/nrpe.pid
server_address=127.0.0.1
server_port=$PORT
nrpe_user=nagios
nrpe_group=nagios
dont_blame_nrpe=0
allow_bash_command_substitution=0
command_timeout=10
connection_timeout=30
disable_syslog=0
command[check_hello]=/bin/echo OK - hello from nrpe
EOF
# The seed's line (Nagios NRPE FAQ), plus a spawn rule for one client.
{
    printf 'nrpe: 127.0.0.5: spawn echo %%d %%a %%n > %s/spool/spawned\n' "$W"
    printf 'nrpe: LOCAL,,\n'
} > /etc/hosts.allow
printf 'nrpe: ALL\n' > /etc/hosts.deny

if [ -n "$LIBDIR" ]; then
    LD_LIBRARY_PATH=$LIBDIR "$NRPE" -n -c "$W/nrpe.cfg" -f >nrpe.out 2>&1 &
else
    "$NRPE" -n -c "$W/nrpe.cfg" -f >nrpe.out 2>&1 &
fi
npid=$!
wait_listen || echo "nrpe did not start"
maps "$npid" nrpe

check 127.0.0.1 "nrpe localhost" -c check_hello
check 127.0.0.5 "nrpe nagios" -c check_hello
sleep 0.3
echo "nrpe spawn: $(cat spool/spawned 2>/dev/null)"
check 127.0.0.1 "nrpe version"
check 127.0.0.6 "nrpe dotted name" -c check_hello
check 127.0.0.7 "nrpe unknown name" -c check_hello
# hosts_access reads the tables for every connection.
printf 'nrpe: 127.0.0.7\n' > /etc/hosts.allow
check 127.0.0.7 "nrpe allowed by address" -c check_hello

kill "$npid"
wait "$npid" 2>/dev/null
rm -f /etc/hosts.allow /etc/hosts.deny
echo "end"
