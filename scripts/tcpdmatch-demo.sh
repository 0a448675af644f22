#!/usr/bin/env bash
# The former demo: build tcpdmatch and ask it how the example tables in
# examples/tables/ treat a few requests, exactly as Debian's tcpdmatch would.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p tcpwrap-tools
bin="$root/target/release/tcpdmatch"
cd "$root/examples/tables"
query() {
    echo "\$ tcpdmatch -d $*"
    "$bin" -d "$@" 2>&1 | sed 's/^/    /'
    echo
}
query sshd 1.2.3.4                        # granted by the IPv4 prefix
query sshd 3ffe:ffff:100:200::1           # granted by the IPv6 network
query daytime-stream ::ffff:1.2.3.9       # IPv4-mapped client, IPv4 pattern
query vsftpd 10.0.0.1                     # banner, then granted
query ftpd 123.123.123.4                  # AIX sample
query telnetd 123.123.123.77              # net/mask
query in.telnetd 206.182.68.5             # refused, severity emerg
query sshd 206.182.68.0                   # spawn, then refused
query sshd 192.0.2.7                      # the Icinga twist takes over
query nrpe localhost                      # LOCAL: a dot-less name
