#!/bin/sh
# Build the libwrap differential oracle: oracle/build/oracle
# Needs Debian's libwrap0-dev (tcpd.h, libwrap.so).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/build"
${CC:-gcc} -O2 -Wall -Wextra -o "$here/build/oracle" "$here/oracle.c" -lwrap
# Sanity check: the interposed functions must be exported from the executable, or
# libwrap's PLT calls would go to libc instead.
if command -v nm >/dev/null 2>&1; then
    for sym in __syslog_chk __vsyslog_chk clean_exit sleep execl; do
        if ! nm -D --defined-only "$here/build/oracle" | awk '{print $NF}' | grep -qx "$sym"; then
            echo "build.sh: warning: $sym is not exported by build/oracle (interposition will not work)" >&2
        fi
    done
fi
echo "built $here/build/oracle"
