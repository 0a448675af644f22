#!/usr/bin/env bash
# Run the ident C program (tests/c/ident.c) against a fake identd on
# 127.0.0.1:113, inside ns-run (private network namespace).
# usage: ident.sh PROGRAM LIBDIR WORKDIR   (LIBDIR "" = system library)
set -u
# Binds 127.0.0.1:113: only in the private network namespace of ns-run.
if [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ]; then
    echo "ident.sh: refusing to run outside tests/golden/ns-run" >&2
    exit 2
fi
prog=$1 LIBDIR=$2 W=$3
here=$(cd "$(dirname "$0")" && pwd)
ip link set lo up || exit 2
python3 "$here/identd.py" "$W/identd.pid" &
for _ in $(seq 1 100); do [ -s "$W/identd.pid" ] && break; sleep 0.05; done
if [ -n "$LIBDIR" ]; then
    LD_LIBRARY_PATH=$LIBDIR "$prog" "$W"
else
    "$prog" "$W"
fi
st=$?
kill "$(cat "$W/identd.pid")"
exit $st
