#!/usr/bin/env bash
# Every test: formatting, lints, unit and integration tests, the golden
# tests against Debian's tcpdmatch, the differential test against
# Debian's libwrap, tcpd under real inetd/xinetd, the Icinga alert chain
# through a real NSCA daemon, tcpwrapd against openbsd-inetd + tcpd, nrpe
# and a flood, and a bounded run of every fuzz target (FUZZ_SECONDS each,
# default 20). Installs the Debian packages the tests use (g++: libFuzzer)
# and cargo-fuzz.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

need=()
for p in tcpd libwrap0-dev gcc g++ python3 util-linux socat openbsd-inetd iproute2 binutils nagios-nrpe-server nagios-nrpe-plugin monitoring-plugins-basic nsca nsca-client; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The alert sinks' real peers (crates/tcpwrap/tests/alerts.rs; tcpwrapd's
# alerts in crates/tcpwrapd/tests/daemon.rs): Debian's NSCA daemon and
# Icinga 2 (only its binary and ITL, no recommended extras).
need=()
for p in nsca icinga2-bin icinga2-common openssl; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace --quiet

# tcpd end to end: Debian's openbsd-inetd and xinetd start our tcpd in a
# private network and mount namespace; every scenario's decisions, syslog
# records and client bytes must equal those captured from Debian's tcpd
# (tests/tcpd/README.md).
bash tests/tcpd/setup.sh --quiet
cargo build --quiet -p tcpwrap-tools --bins
target=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
tests/tcpd/run.sh --tcpd "$target/debug/tcpd" -j 4

# The Icinga "TCP Wrapper Integration" chain end to end: openbsd-inetd runs
# our tcpd; a refused client's alert reaches Debian's nsca daemon (and its
# command FIFO) through the seed's scripts and our send_nsca, and through
# the native `alert` option (tests/alerts/README.md).
bash tests/alerts/setup.sh --quiet
tests/alerts/run.sh --tcpd "$target/debug/tcpd" --send-nsca "$target/debug/send_nsca"

# tcpwrapd against real peers: the same inetd.conf and tables under Debian's
# openbsd-inetd + tcpd and under tcpwrapd (decisions, client bytes, records),
# 21 clients at once from many addresses, the seeds' NRPE set-up with the real
# nrpe --inetd and check_nrpe, the `tcpd /bin/false` trap, and a 10,000-connection
# flood (tests/tcpwrapd/README.md).
bash tests/tcpwrapd/setup.sh --quiet
cargo build --quiet -p tcpwrapd
tests/tcpwrapd/run.sh --tcpwrapd "$target/debug/tcpwrapd"

# A bounded fuzz run: every cargo-fuzz target of fuzz/ for FUZZ_SECONDS
# seconds (default 20), two at a time, from the seed corpora, built with
# this toolchain (RUSTC_BOOTSTRAP=1 for AddressSanitizer); a crash, hang,
# leak or difference fails, and nothing is skipped under CI=true. About 4 to
# 5 minutes on 2 cores, cargo-fuzz's installation included
# (scripts/fuzz-ci.sh, docs/security.md).
bash scripts/fuzz-ci.sh
