#!/usr/bin/env bash
# tcpwrapd against the classic super-servers, same service, same tables,
# same run (issue 7):
#   (1) connections per second of a wrapped nowait stream service (svc.c:
#       writes "ok\n" and exits) under
#         tcpwrapd (release build, tables built in),
#         openbsd-inetd -l (Debian's libwrap, checked in inetd),
#         openbsd-inetd running Debian's /usr/sbin/tcpd,
#         xinetd (Debian's package, libwrap),
#       on the seed tables (client 123.123.123.4, daemon ftpd: granted by
#       hosts.allow line 5) and on the 100,000-line hosts.deny (client
#       123.123.123.4, daemon sshd: no rule matches, granted); CONC
#       concurrent clients for SECONDS, REPEATS times, median; every
#       super-server's rate limits raised so that none throttles;
#   (2) one source (123.123.123.2) floods the service as fast as it can
#       while 20 other sources connect every INTERVAL_MS: the share of the
#       others' connections served, each server with its default limits
#       (and a control run with the others alone).
# Everything runs inside tests/golden/ns-run (private /etc, /dev/log and
# network namespace). Measures only: a missed target is reported, never an
# error; a connection with a wrong answer, or a run that does not finish, is.
#
# usage: benches/tcpwrapd/run.sh
# env:   REPEATS=3          throughput runs per (tables, server), median taken
#        SECONDS_PER=2      seconds per throughput run (after a 0.5 s warm-up)
#        CONC=16            concurrent clients in the throughput runs
#        FLOOD_SECONDS=30   seconds of each flood run
#        CONTROL_SECONDS=10 seconds of each control run (no flood)
#        INTERVAL_MS=5000   each other client's interval (20 clients: 4/s)
#        FLOOD_CONC=32      flooding threads (one source address)
#        DATA=dir           tables (default benches/data/out, made by gen.py)
#        TCPWRAPD_BIN=path  measure this tcpwrapd binary instead of the release
#                           build of this tree (e.g. a prototype of a fix)
#        REPORT=file        also write the summary there
#                           (default <target>/tcpwrapd-bench/report.txt)
# needs: root, cc, python3, cargo, openbsd-inetd, tcpd, iproute2, util-linux;
#        xinetd is unpacked from Debian's package (tests/tcpd/setup.sh's cache
#        when present, else apt-get download).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
REPEATS=${REPEATS:-3}
SECONDS_PER=${SECONDS_PER:-2}
CONC=${CONC:-16}
FLOOD_SECONDS=${FLOOD_SECONDS:-30}
CONTROL_SECONDS=${CONTROL_SECONDS:-10}
INTERVAL_MS=${INTERVAL_MS:-5000}
FLOOD_CONC=${FLOOD_CONC:-32}
DATA=${DATA:-$root/benches/data/out}

[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root (namespaces)" >&2; exit 2; }
for f in /usr/sbin/inetd /usr/sbin/tcpd; do
    [ -x "$f" ] || { echo "run.sh: needs $f (apt-get install openbsd-inetd tcpd)" >&2; exit 2; }
done

target=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
work=$target/tcpwrapd-bench
REPORT=${REPORT:-$work/report.txt}
mkdir -p "$work"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before: $load0"

tcpwrapd_bin=${TCPWRAPD_BIN:-}
if [ -z "$tcpwrapd_bin" ]; then
    cargo build --release -q -p tcpwrapd
    tcpwrapd_bin=$target/release/tcpwrapd
fi
python3 benches/data/gen.py "$DATA" >/dev/null
cc -O2 -Wall -Wextra -pthread -o "$work/loadgen" benches/tcpwrapd/loadgen.c
cc -O2 -Wall -Wextra -o "$work/svc" benches/tcpwrapd/svc.c
cc -O2 -Wall -Wextra -o "$work/floor" benches/tcpwrapd/floor.c

# xinetd: the tcpd harness's cache if present, else Debian's package unpacked here.
xinetd=/var/cache/tcpwrap-tcpd-harness/xinetd/usr/sbin/xinetd
if ! [ -x "$xinetd" ]; then
    xinetd=$work/xinetd/usr/sbin/xinetd
    if ! [ -x "$xinetd" ]; then
        dl=$(mktemp -d /tmp/tcpwrapd-bench-xinetd.XXXXXX)
        chmod 0755 "$dl"
        ( cd "$dl" && apt-get download -q xinetd >/dev/null 2>&1 ) ||
            { apt-get update -qq && ( cd "$dl" && apt-get download -q xinetd >/dev/null ); }
        rm -rf "$work/xinetd"
        dpkg -x "$dl"/xinetd_*.deb "$work/xinetd"
        rm -rf "$dl"
    fi
fi
# Which code was measured: sha256 prefix over crates/ (*.rs, *.toml), Cargo.toml, Cargo.lock.
digest=$(find crates -name '*.rs' -o -name '*.toml' | LC_ALL=C sort | cat - <(printf 'Cargo.toml\nCargo.lock\n') |
    xargs sha256sum | sha256sum | cut -c1-16)
versions="tcpwrapd $tcpwrapd_bin"
[ -z "${TCPWRAPD_BIN:-}" ] && versions="$versions (sources $digest)"
versions="$versions; openbsd-inetd $(dpkg-query -W -f '${Version}' openbsd-inetd 2>/dev/null || echo '?')"
versions="$versions; tcpd/libwrap0 $(dpkg-query -W -f '${Version}' tcpd 2>/dev/null || echo '?')"
xchangelog=${xinetd%/usr/sbin/xinetd}/usr/share/doc/xinetd/changelog.Debian.gz
versions="$versions; xinetd $(zcat "$xchangelog" 2>/dev/null | head -1 | sed -n 's/^xinetd (\([^)]*\)).*/\1/p')"
versions="$versions ($("$xinetd" -version 2>&1 | head -1))"

stat0=$(head -1 /proc/stat)
start=$(date +%s)
rm -rf "$work/ns" && mkdir -p "$work/ns"
tests/golden/ns-run -- bash benches/tcpwrapd/inner.sh \
    "$DATA" "$work/ns" "$tcpwrapd_bin" "$xinetd" "$work/loadgen" "$work/svc" \
    "$REPEATS" "$SECONDS_PER" "$CONC" "$FLOOD_SECONDS" "$CONTROL_SECONDS" "$INTERVAL_MS" "$FLOOD_CONC" \
    "$work/floor" |
    tee "$work/raw.txt"
stat1=$(head -1 /proc/stat)
load1=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average after: $load1"
tail -1 "$work/raw.txt" | grep -qx end || { echo "run.sh: the measurements did not finish" >&2; exit 1; }

python3 - "$work/raw.txt" "$load0" "$load1" "$stat0" "$stat1" "$(( $(date +%s) - start ))" \
    "$versions" "$CONC" "$SECONDS_PER" "$INTERVAL_MS" <<'PY' | tee "$REPORT"
import json, os, platform, statistics, subprocess, sys

raw, load0, load1, s0, s1, elapsed, versions, conc, secs, interval = sys.argv[1:11]
s0, s1 = ([int(x) for x in a.split()[1:9]] for a in (s0, s1))
d = [b - a for a, b in zip(s0, s1)]
busy = 100 * (1 - (d[3] + d[4]) / max(1, sum(d)))
tck = os.sysconf("SC_CLK_TCK")
SERVERS = ["tcpwrapd", "inetd-libwrap", "inetd-tcpd", "xinetd"]
LABEL = {"tcpwrapd": "tcpwrapd", "inetd-libwrap": "openbsd-inetd -l (libwrap)",
         "inetd-tcpd": "openbsd-inetd + tcpd", "xinetd": "xinetd (libwrap)",
         "floor": "floor: spawn only, no check"}

def kv(fields):
    return {k: int(v) for k, v in (f.split("=") for f in fields)}

cps, mix = {}, {}
for line in open(raw):
    f = line.split(" ")
    if f[0] == "cps" and len(f) >= 8:
        j = json.loads(line.split(" ", 7)[7])
        j.update(kv(f[4:7]))
        if j["connections"] != j["served"]:
            sys.exit(f"invalid measurement (a connection was not served): {line.strip()}")
        cps.setdefault((f[1], f[2]), []).append(j)
    elif f[0] == "mix" and len(f) >= 7:
        j = json.loads(line.split(" ", 6)[6])
        j.update(kv(f[3:6]))
        if j["others"]["outcomes"]["wrong"] or j["flood"]["outcomes"]["wrong"]:
            sys.exit(f"invalid measurement (wrong data): {line.strip()}")
        mix[(f[1], f[2])] = j

def cpu():
    for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if l.startswith("Model name:"):
            return l.split(":", 1)[1].strip()
    return "unknown"

print(f"machine: {os.cpu_count()} CPUs (nproc), {cpu()}, Linux {platform.release()}")
print(f"versions: {versions}")
print(f"load average before {load0}, after {load1}; machine busy during the run: "
      f"{busy:.0f}% of {os.cpu_count()} CPUs; run time {elapsed} s")
print()
print(f"(1) connections per second, {conc} concurrent clients, {secs} s per run, median of runs;")
print("    server CPU per connection (server + reaped children), syslog records per connection,")
print("    latency connect->close (median of the runs' p50), server RSS after the run")
goals = []
for tables in ("seed", "big"):
    print()
    print(f"  {tables} tables" + (" (client 123.123.123.4, daemon ftpd, hosts.allow:5)" if tables == "seed"
                                  else " (100,000-line hosts.deny; client 123.123.123.4, daemon sshd, granted)"))
    print(f"  {'server':<28} {'conn/s':>9} {'cpu us/conn':>12} {'rec/conn':>9} {'p50 us':>8} {'RSS kB':>8}   runs (conn/s)")
    med, cpus = {}, {}
    for s in SERVERS + ["floor"]:
        runs = cps.get((tables, s))
        if not runs:
            continue
        m = statistics.median(r["conns_per_s"] for r in runs)
        cpu_us = statistics.median(r["cpu_ticks"] * 1e6 / tck / max(1, r["connections"]) for r in runs)
        if s == "floor":
            floor = (m, cpu_us)
        else:
            med[s], cpus[s] = m, cpu_us
        rec = statistics.median(r["records"] / max(1, r["connections"]) for r in runs)
        p50 = statistics.median(r["p50_us"] for r in runs)
        rss = max(r["rss_kb"] for r in runs)
        print(f"  {LABEL[s]:<28} {m:>9,.0f} {cpu_us:>12,.0f} {rec:>9.2f} {p50:>8,.0f} {rss:>8,}   "
              + ", ".join(f"{r['conns_per_s']:,.0f}" for r in runs))
    others = {s: v for s, v in med.items() if s != "tcpwrapd"}
    if "tcpwrapd" in med and others:
        best = max(others, key=others.get)
        ratio = med["tcpwrapd"] / others[best]
        met = "yes" if ratio >= 2 else "NO"
        goals.append(met)
        print(f"  tcpwrapd / best other ({LABEL[best]}): {ratio:.2f}x   goal >= 2x: {met}")
        if (tables, "floor") in cps:
            f_m, f_cpu = floor
            print(f"  bound: best other / floor = {others[best] / f_m:.2f}x in conn/s, "
                  f"{cpus[best] / f_cpu:.2f}x in CPU per connection (what a server that checked")
            print(f"         for free could reach); tcpwrapd / floor = {med['tcpwrapd'] / f_m:.2f}x in conn/s, "
                  f"CPU per connection {cpus['tcpwrapd'] - f_cpu:+,.0f} us over the floor")
print()
print(f"(2) one source floods (123.123.123.2), 20 other sources each connect every {int(interval) / 1000:g} s;")
print("    each server with its default limits; share of the others' connections served")
print(f"  {'server':<28} {'control':>9} {'flood':>9} {'served/tried':>13} {'p50 ms':>7} {'p99 ms':>7}"
      f" {'flood conn/s':>12}   others not served (flood run)")
for s in SERVERS:
    c, f = mix.get((s, "control")), mix.get((s, "flood"))
    if not c or not f:
        continue
    o = f["others"]
    bad = ", ".join(f"{k} {v}" for k, v in o["outcomes"].items() if k != "served" and v) or "-"
    met = "yes" if o["share"] >= 0.99 else "NO"
    if s == "tcpwrapd":
        goals.append(met)
    p50 = o["p50_us"] / 1000 if o["p50_us"] >= 0 else float("nan")
    p99 = o["p99_us"] / 1000 if o["p99_us"] >= 0 else float("nan")
    print(f"  {LABEL[s]:<28} {100 * c['others']['share']:>8.1f}% {100 * o['share']:>8.1f}% "
          f"{o['served']:>6}/{o['attempts']:<6} {p50:>7.1f} {p99:>7.1f} {f['flood']['per_s']:>12,.0f}   {bad}"
          + (f"   (goal >= 99%: {met})" if s == "tcpwrapd" else ""))
print("  flood outcomes: " + "; ".join(
    f"{s}: " + ", ".join(f"{k} {v}" for k, v in mix[(s, 'flood')]['flood']['outcomes'].items() if v)
    for s in SERVERS if (s, "flood") in mix))
print()
print(f"goals missed: {goals.count('NO')} of {len(goals)}")
PY
echo "(report written to $REPORT; raw lines in $work/raw.txt)"
