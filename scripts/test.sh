#!/usr/bin/env bash
# Every test: formatting, lints, unit and integration tests, the golden
# tests against Debian's tcpdmatch and the differential test against
# Debian's libwrap. Installs the Debian packages the tests use.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

need=()
for p in tcpd libwrap0-dev gcc python3 util-linux socat openbsd-inetd iproute2 binutils; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace --quiet
