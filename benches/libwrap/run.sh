#!/usr/bin/env bash
# Our libwrap.so.0 vs Debian's (libwrap0 7.6.q-32) under the same programs,
# both libraries in the same run:
#   (a) hosts_ctl() calls per second: benches/debian/ctlbench.c (linked
#       against Debian's library; ours is selected with LD_LIBRARY_PATH) on
#       the three cases of benches/data/cases.tsv;
#   (b) connections per second through Debian's xinetd (built-in libwrap
#       check) on the seed tables and the 100,000-line hosts.deny, for an
#       internal service (checked in xinetd's own process) and for /bin/echo
#       (checked in the forked child), one sequential client.
# Everything runs inside tests/golden/ns-run (private /etc, /dev/log and
# network namespace). Measures only: nothing is asserted about speed; a
# wrong verdict or outcome is an error.
#
# usage: benches/libwrap/run.sh
# env:   REPEATS=3   runs per measurement (the summary takes the median)
#        SECONDS_PER=3  seconds of connections per xinetd measurement
#        DATA=dir    tables (default benches/data/out, made by gen.py)
#        REPORT=file also write the summary there
#                    (default <target>/libwrap-bench/report.txt)
# needs: root, cc, libwrap0-dev, python3, cargo, iproute2, util-linux;
#        xinetd is unpacked from Debian's package (apt-get download).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
REPEATS=${REPEATS:-3}
SECONDS_PER=${SECONDS_PER:-3}
DATA=${DATA:-$root/benches/data/out}

[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root (namespaces)" >&2; exit 2; }
[ -f /usr/include/tcpd.h ] || { echo "run.sh: needs libwrap0-dev" >&2; exit 2; }

target=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$target/libwrap-bench
REPORT=${REPORT:-$work/report.txt}
mkdir -p "$work"

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
load0=$(cut -d' ' -f1-3 /proc/loadavg)

cargo build --release -q -p libwrap
mkdir -p "$work/lib"
ln -sf "$target/release/libwrap.so" "$work/lib/libwrap.so.0"
python3 benches/data/gen.py "$DATA" >/dev/null

# ctlbench, built exactly as benches/debian/build.sh builds it (no-op syslog
# exported from the executable), into the target directory.
cc -O2 -g -U_FORTIFY_SOURCE -Wall -Wextra -o "$work/ctlbench" benches/debian/ctlbench.c \
    -Wl,--export-dynamic-symbol=syslog -Wl,--export-dynamic-symbol=vsyslog \
    -Wl,--export-dynamic-symbol=__syslog_chk -Wl,--export-dynamic-symbol=__vsyslog_chk -lwrap
cc -O2 -g -Wall -Wextra -o "$work/forkcheck" benches/libwrap/forkcheck.c -lwrap
# Which library each side loads.
deb_lib=$(LD_LIBRARY_PATH= ldd "$work/ctlbench" | awk '/libwrap\.so/ {print $3}')
our_lib=$(LD_LIBRARY_PATH=$work/lib ldd "$work/ctlbench" | awk '/libwrap\.so/ {print $3}')
case $our_lib in "$work/lib/"*) ;; *) echo "run.sh: ours not selected: $our_lib" >&2; exit 1 ;; esac
# The Debian side gets an LD_LIBRARY_PATH too (a directory with a link to
# Debian's library), so that both sides pay the same loader search, also in
# the servers that xinetd execs (they inherit the variable).
mkdir -p "$work/debian-lib"
ln -sf "$(readlink -f "$deb_lib")" "$work/debian-lib/libwrap.so.0"
deb_lib=$(LD_LIBRARY_PATH=$work/debian-lib ldd "$work/ctlbench" | awk '/libwrap\.so/ {print $3}')
echo "ctlbench: Debian side loads $deb_lib -> $(readlink -f "$deb_lib"), our side $our_lib -> $(readlink -f "$our_lib")"

# xinetd: the tcpd harness's cache if present, else Debian's package unpacked here.
xinetd=/var/cache/tcpwrap-tcpd-harness/xinetd/usr/sbin/xinetd
if ! [ -x "$xinetd" ]; then
    xinetd=$work/xinetd/usr/sbin/xinetd
    if ! [ -x "$xinetd" ]; then
        dl=$(mktemp -d /tmp/libwrap-bench-xinetd.XXXXXX)
        chmod 0755 "$dl"
        ( cd "$dl" && apt-get download -q xinetd >/dev/null 2>&1 ) ||
            { apt-get update -qq && ( cd "$dl" && apt-get download -q xinetd >/dev/null ); }
        rm -rf "$work/xinetd"
        dpkg -x "$dl"/xinetd_*.deb "$work/xinetd"
        rm -rf "$dl"
    fi
fi
echo "xinetd: $xinetd ($("$xinetd" -version 2>&1 | head -1))"

stat0=$(head -1 /proc/stat)
start=$(date +%s)
rm -rf "$work/ns" && mkdir -p "$work/ns"
tests/golden/ns-run --syslog "$work/syslog" -- bash benches/libwrap/inner.sh \
    "$DATA" "$work/lib" "$work/debian-lib" "$work/ctlbench" "$work/forkcheck" "$xinetd" "$work/ns" \
    "$REPEATS" "$SECONDS_PER" |
    tee "$work/raw.txt"
stat1=$(head -1 /proc/stat)
load1=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average after: $load1"
tail -1 "$work/raw.txt" | grep -qx end || { echo "run.sh: the measurements did not finish" >&2; exit 1; }

python3 - "$work/raw.txt" "$load0" "$load1" "$stat0" "$stat1" "$(( $(date +%s) - start ))" \
    "$(wc -l < "$work/syslog" 2>/dev/null || echo 0)" <<'PY' | tee "$REPORT"
import json, os, platform, statistics, subprocess, sys

raw, load0, load1, s0, s1, elapsed, syslog_lines = sys.argv[1:8]
s0, s1 = ([int(x) for x in a.split()[1:9]] for a in (s0, s1))
d = [b - a for a, b in zip(s0, s1)]
busy = 100 * (1 - (d[3] + d[4]) / max(1, sum(d)))
ctl, xi, fk = {}, {}, {}
for line in open(raw):
    f = line.split()
    if len(f) == 7 and f[0] == "ctl":
        ns = float(f[4].split("=")[1])
        ctl.setdefault((f[1], f[2]), []).append(ns)
    elif len(f) == 9 and f[0] == "fork":
        kv = dict(x.split("=") for x in f[5:])
        fk.setdefault((f[1], f[2], f[3]), []).append(kv)
    elif len(f) > 7 and f[0] == "xinetd" and f[5].startswith("maps="):
        j = json.loads(line.split(" ", 7)[7])
        # server CPU (xinetd + children) per connection, microseconds
        j["cpu_us"] = int(f[6].split("=")[1]) * 1e6 / os.sysconf("SC_CLK_TCK") / max(1, j["connections"])
        if j["wrong"] or j["failed"]:
            sys.exit(f"invalid measurement: {line.strip()}")
        if f[5] != "maps=" + f[3]:
            sys.exit(f"xinetd loaded the wrong library: {line.strip()}")
        xi.setdefault((f[1], f[2], f[3]), []).append(j)

def cpu():
    for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if l.startswith("Model name:"):
            return l.split(":", 1)[1].strip()
    return "unknown"

print(f"machine: {os.cpu_count()} CPUs, {cpu()}, Linux {platform.release()}")
print(f"load average before {load0}, after {load1}; machine busy during the run: "
      f"{busy:.0f}% of {os.cpu_count()} CPUs; run time {elapsed} s; "
      f"syslog records during the run: {syslog_lines}")
print()
print("(a) hosts_ctl through benches/debian/ctlbench.c, median of runs (>= 2 s each)")
print(f"{'case':<11} {'Debian calls/s':>15} {'ours calls/s':>15} {'ours/Debian':>12}   Debian ns, ours ns (all runs)")
for case in ("seed-deny", "seed-grant", "big"):
    dn, on = ctl.get((case, "debian")), ctl.get((case, "ours"))
    if not dn or not on:
        continue
    dm, om = statistics.median(dn), statistics.median(on)
    print(f"{case:<11} {1e9 / dm:>15,.0f} {1e9 / om:>15,.0f} {dm / om:>11,.1f}x   "
          f"{', '.join(f'{x:,.0f}' for x in dn)} | {', '.join(f'{x:,.0f}' for x in on)}")
print()
print("(c) fork + one hosts_ctl in the child + exit + wait (forkcheck.c), median of runs, per fork:")
print("    CPU time of the child (RUSAGE_CHILDREN) and wall time")
print(f"{'case':<10} {'mode':<5} {'Debian child cpu us':>20} {'ours child cpu us':>18} {'ours/Debian':>12} "
      f"{'Debian wall us':>15} {'ours wall us':>13}")
for case, mode in (("seed-deny", "fork"), ("seed-deny", "cold"), ("seed-deny", "warm"), ("big", "cold"), ("big", "warm")):
    dk, ok = fk.get((case, mode, "debian")), fk.get((case, mode, "ours"))
    if not dk or not ok:
        continue
    med = lambda rows, k: statistics.median(float(r[k]) for r in rows)
    dc, oc = med(dk, "child_cpu_us"), med(ok, "child_cpu_us")
    print(f"{case:<10} {mode:<5} {dc:>20,.1f} {oc:>18,.1f} {oc / dc:>11,.2f}x "
          f"{med(dk, 'wall_us'):>15,.1f} {med(ok, 'wall_us'):>13,.1f}")
print()
print("(b) xinetd, one sequential client, median of runs: connections per second, median")
print("    latency (connect to close) and server CPU per connection (xinetd + its children)")
print(f"{'case':<11} {'service':<12} {'Debian conn/s':>14} {'ours conn/s':>12} {'ours/Debian':>12} "
      f"{'Debian med us':>14} {'ours med us':>12} {'Debian cpu us':>14} {'ours cpu us':>12}   runs (conn/s)")
for case in ("no-libwrap", "seed-grant", "seed-deny", "big"):
    for svc in ("daytime", "echo-server"):
        dj, oj = xi.get((case, svc, "debian")), xi.get((case, svc, "ours"))
        if not dj or not oj:
            continue
        dc = statistics.median(j["conns_per_s"] for j in dj)
        oc = statistics.median(j["conns_per_s"] for j in oj)
        dl = statistics.median(j["median_us"] for j in dj)
        ol = statistics.median(j["median_us"] for j in oj)
        du = statistics.median(j["cpu_us"] for j in dj)
        ou = statistics.median(j["cpu_us"] for j in oj)
        print(f"{case:<11} {svc:<12} {dc:>14,.1f} {oc:>12,.1f} {oc / dc:>11,.2f}x {dl:>14,.0f} {ol:>12,.0f} "
              f"{du:>14,.0f} {ou:>12,.0f}   "
              f"{', '.join(str(j['conns_per_s']) for j in dj)} | {', '.join(str(j['conns_per_s']) for j in oj)}")
PY
echo "(report written to $REPORT)"
