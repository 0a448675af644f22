#!/usr/bin/env bash
# The measurements of benches/libwrap/run.sh. Runs only inside
# tests/golden/ns-run (private /etc, /dev/log and network namespace with only
# loopback): it writes /etc/hosts.allow and /etc/hosts.deny and binds ports
# 13 and 7100.
#
# usage: inner.sh DATA OURLIBDIR DEBIANLIBDIR CTLBENCH FORKCHECK XINETD WORK REPEATS SECONDS
#   OURLIBDIR, DEBIANLIBDIR: directories with a libwrap.so.0, one of which is
#   put in LD_LIBRARY_PATH
# Prints one result line per measurement:
#   ctl CASE LIB REPEAT ns_per_check=... checks=... verdict=...
#   fork CASE MODE LIB REPEAT wall_us=... child_cpu_us=... parent_cpu_us=... verdict=...
#   xinetd CASE SERVICE LIB REPEAT maps=... cpu_ticks=... {json from client.py}
set -u
if ! mountpoint -q /etc ||
    [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ]; then
    echo "inner.sh: refusing to run outside tests/golden/ns-run" >&2
    exit 2
fi
data=$1 ours=$2 debian=$3 ctlbench=$4 forkcheck=$5 xinetd=$6 W=$7 repeats=$8 seconds=$9
here=$(cd "$(dirname "$0")" && pwd)
ip link set lo up || exit 2

lib_env() { # lib_env LIB -> the env(1) arguments that select the library
    if [ "$1" = ours ]; then echo "LD_LIBRARY_PATH=$ours"; else echo "LD_LIBRARY_PATH=$debian"; fi
}

# ---------------------------------------------------------------- (a) hosts_ctl
# ctlbench's no-op syslog must catch each library's records (as
# benches/debian/build.sh checks for Debian's): a line without ':' makes
# libwrap warn on every call, 5 warm-up + 10 timed.
printf 'this line has no separator\n' > "$W/warn.allow"
printf 'ALL: ALL\n' > "$W/warn.deny"
for lib in debian ours; do
    calls=$(env CTLBENCH_DEBUG=1 "$(lib_env $lib)" "$ctlbench" "$W/warn.allow" "$W/warn.deny" \
        sshd "" 192.0.2.1 "" 10 2>&1 >/dev/null | sed -n 's/.*syslog_calls=\([0-9]*\).*/\1/p')
    if [ "${calls:-0}" != 15 ]; then
        echo "inner.sh: $lib: expected 15 intercepted syslog calls, got '${calls:-}'" >&2
        exit 1
    fi
done
echo "syslog interposition: 15 of 15 calls intercepted with each library"
# cases.tsv: case dir daemon client_name client_addr user expect rule
# (tabs -> \037 so that empty fields survive `read`). Libraries alternate
# within each repeat, so that a change in background load hits both.
for ((r = 1; r <= repeats; r++)); do
    while IFS=$'\037' read -r name dir daemon cname caddr user expect _rule; do
        for lib in debian ours; do
            line=$(env "$(lib_env $lib)" "$ctlbench" "$data/$dir/hosts.allow" "$data/$dir/hosts.deny" \
                "$daemon" "$cname" "$caddr" "$user" 0) || { echo "ctlbench failed: $name $lib" >&2; exit 1; }
            case $line in
                *"verdict=$expect"*) ;;
                *) echo "inner.sh: $name with $lib: expected $expect: $line" >&2; exit 1 ;;
            esac
            echo "ctl $name $lib $r $line"
        done
    done < <(tail -n +2 "$data/cases.tsv" | tr '\t' '\037')
done

# ---------------------------------------------------------------- (c) one check in a fresh child
# forkcheck: fork, one hosts_ctl in the child, exit, wait; the parent never
# called the library (cold) or called it once before forking (warm); "fork"
# is the baseline without a check. Same requests as (a).
for ((r = 1; r <= repeats; r++)); do
    for c in seed-deny:seed:2000 big:big:40; do
        IFS=: read -r name dir n <<<"$c"
        modes="cold warm"
        [ "$name" = seed-deny ] && modes="fork cold warm"
        for mode in $modes; do
            for lib in debian ours; do
                line=$(env "$(lib_env $lib)" "$forkcheck" "$data/$dir/hosts.allow" "$data/$dir/hosts.deny" \
                    sshd 192.0.2.77 "$n" "$mode") || { echo "forkcheck failed: $name $lib $mode" >&2; exit 1; }
                echo "fork $name $mode $lib $r $line"
            done
        done
    done
done

# ---------------------------------------------------------------- (b) xinetd
# xinetd's libwrap check: for an internal service that xinetd answers itself
# (daytime-stream) it runs in xinetd's own process; for a server it forks,
# the child checks and then execs the server (/bin/echo).
# case  tables  libwrap daemon name  expected outcome (client 127.0.0.1)
#   seed-grant: `nrpe: LOCAL,,` (seed hosts.allow line 3; 127.0.0.1 is
#               "localhost" in ns-run's /etc/hosts) -> granted
#   seed-deny:  sshd, no allow rule matches, hosts.deny `ALL: ALL` -> refused
#   big:        sshd, 100,000 deny lines in 10/8, none matches -> granted
#   no-libwrap: the baseline: flags = NOLIBWRAP, the library is loaded but
#               xinetd never calls it
maps() {
    local m
    m=$(awk '$6 ~ /libwrap/ {print $6}' "/proc/$1/maps" 2>/dev/null | sort -u | head -1)
    case "$m" in
        "$ours"/*|*/target/*/libwrap.so) echo ours ;;
        /usr/lib/*libwrap.so.0*|/lib/*libwrap.so.0*) echo debian ;;
        *) echo "none($m)" ;;
    esac
}
# CPU time of xinetd and of its reaped children (the forked checkers and
# the servers they exec), in clock ticks: utime stime cutime cstime of
# /proc/PID/stat (the command name "xinetd" has no spaces).
cpu_ticks() {
    awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"
}
wait_listen() {
    for _ in $(seq 1 200); do
        if ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; then return 0; fi
        sleep 0.05
    done
    return 1
}
xconf() { # xconf DAEMON  ("-": no libwrap check at all, flags = NOLIBWRAP)
    local wrap="libwrap = $1"
    [ "$1" = - ] && wrap="flags = NOLIBWRAP"
    cat <<EOF
defaults
{
    log_type = FILE $W/xinetd.svclog
    log_on_success =
    log_on_failure =
    cps = 1000000 1
    instances = UNLIMITED
    per_source = UNLIMITED
}
service daytime
{
    type = INTERNAL
    id = daytime-stream
    socket_type = stream
    protocol = tcp
    wait = no
    user = root
    bind = 127.0.0.1
    port = 13
    $wrap
}
service echo-server
{
    type = UNLISTED
    socket_type = stream
    protocol = tcp
    wait = no
    user = root
    server = /bin/echo
    server_args = ok
    bind = 127.0.0.1
    port = 7100
    $wrap
}
EOF
}
for ((r = 1; r <= repeats; r++)); do
    for c in no-libwrap:seed:-:data seed-grant:seed:nrpe:data seed-deny:seed:sshd:closed big:big:sshd:data; do
        IFS=: read -r name dir daemon expect <<<"$c"
        cp "$data/$dir/hosts.allow" /etc/hosts.allow
        cp "$data/$dir/hosts.deny" /etc/hosts.deny
        xconf "$daemon" > "$W/xinetd.conf"
        for lib in debian ours; do
            rm -f "$W/xinetd.pid"
            env "$(lib_env $lib)" "$xinetd" -dontfork -filelog "$W/xinetd.msgs" \
                -f "$W/xinetd.conf" -pidfile "$W/xinetd.pid" >>"$W/xinetd.out" 2>&1 &
            xpid=$!
            if ! wait_listen 13 || ! wait_listen 7100; then
                echo "inner.sh: xinetd did not start" >&2
                kill "$xpid" 2>/dev/null
                exit 1
            fi
            m=$(maps "$xpid")
            for svc in daytime:13 echo-server:7100; do
                t0=$(cpu_ticks "$xpid")
                res=$(python3 "$here/client.py" "${svc#*:}" 127.0.0.1 "$seconds" "$expect") || exit 1
                sleep 0.2 # the last children are reaped (their CPU time counted)
                t1=$(cpu_ticks "$xpid")
                echo "xinetd $name ${svc%%:*} $lib $r maps=$m cpu_ticks=$((t1 - t0)) $res"
            done
            kill "$xpid"
            wait "$xpid" 2>/dev/null
        done
    done
done
rm -f /etc/hosts.allow /etc/hosts.deny
echo "xinetd messages: $(wc -l < "$W/xinetd.msgs" 2>/dev/null || echo 0) lines"
echo end
