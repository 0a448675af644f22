#!/usr/bin/env bash
# Build tcpwrap's libwrap.so.0 (release) and install it where Debian's
# libwrap0 / libwrap0-dev put theirs:
#
#   $DESTDIR$PREFIX/lib/x86_64-linux-gnu/libwrap.so.0.7.6
#   $DESTDIR$PREFIX/lib/x86_64-linux-gnu/libwrap.so.0 -> libwrap.so.0.7.6
#   $DESTDIR$PREFIX/lib/x86_64-linux-gnu/libwrap.so   -> libwrap.so.0
#   $DESTDIR$PREFIX/include/tcpd.h
#   $DESTDIR$PREFIX/share/man/man3/hosts_access.3 (+ hosts_ctl.3, request_init.3, request_set.3)
#
# usage: scripts/install-libwrap.sh [--prefix DIR] [--destdir DIR] [--libdir DIR]
#                                   [--no-build] [--dry-run]
#   --prefix   default /usr
#   --destdir  staging root (also $DESTDIR), default empty
#   --libdir   default PREFIX/lib/<multiarch> (x86_64-linux-gnu)
#
# Installing over Debian's package replaces the library every program with
# libwrap uses; the Debian package manager will put its own back on the next
# upgrade of libwrap0. To try the library without installing anything, run a
# program with LD_LIBRARY_PATH pointing at a directory holding libwrap.so.0:
#
#   cargo build --release -p libwrap
#   mkdir -p /tmp/tcpwrap-lib && ln -sf "$PWD/target/release/libwrap.so" /tmp/tcpwrap-lib/libwrap.so.0
#   LD_LIBRARY_PATH=/tmp/tcpwrap-lib socat TCP-LISTEN:2000,tcpwrap=demo ...
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

prefix=/usr
destdir=${DESTDIR:-}
libdir=""
build=1
dry=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#*=}; shift ;;
        --destdir) destdir=$2; shift 2 ;;
        --destdir=*) destdir=${1#*=}; shift ;;
        --libdir) libdir=$2; shift 2 ;;
        --libdir=*) libdir=${1#*=}; shift ;;
        --no-build) build=0; shift ;;
        --dry-run) dry=1; shift ;;
        -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
        *) echo "install-libwrap: unknown argument: $1" >&2; exit 2 ;;
    esac
done
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
[ -n "$multiarch" ] || multiarch=x86_64-linux-gnu
[ -n "$libdir" ] || libdir=$prefix/lib/$multiarch

run() {
    if [ "$dry" = 1 ]; then
        echo "$*"
    else
        "$@"
    fi
}

if [ "$build" = 1 ]; then
    cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p libwrap
fi
target=${CARGO_TARGET_DIR:-$root/target}
so=$target/release/libwrap.so
[ -f "$so" ] || { echo "install-libwrap: $so not built" >&2; exit 1; }

L=$destdir$libdir
I=$destdir$prefix/include
M=$destdir$prefix/share/man/man3
run install -d "$L" "$I" "$M"
run install -m 0644 "$so" "$L/libwrap.so.0.7.6"
run ln -sf libwrap.so.0.7.6 "$L/libwrap.so.0"
run ln -sf libwrap.so.0 "$L/libwrap.so"
run install -m 0644 "$root/crates/libwrap/include/tcpd.h" "$I/tcpd.h"
run install -m 0644 "$root/docs/man/hosts_access.3" "$M/hosts_access.3"
for alias in hosts_ctl request_init request_set; do
    if [ "$dry" = 1 ]; then
        echo "write $M/$alias.3 (.so man3/hosts_access.3)"
    else
        printf '.so man3/hosts_access.3\n' > "$M/$alias.3"
    fi
done
if [ -z "$destdir" ] && [ "$dry" = 0 ] && command -v ldconfig >/dev/null 2>&1; then
    ldconfig || true
fi
echo "installed libwrap.so.0 into $L"
