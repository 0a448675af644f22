#!/usr/bin/env bash
# The main job: build tcpwrapd and run it on its built-in demo configuration
# (examples/demo/): echo, daytime, a wrapped /bin/date, a refused chargen and a
# tripwire on 127.0.0.1, every decision logged to the terminal. Ctrl-C stops.
# The former demo (tcpdmatch on examples/tables/) is scripts/tcpdmatch-demo.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p tcpwrapd
cd "$root"
exec "$root/target/release/tcpwrapd" --demo "$@"
