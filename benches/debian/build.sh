#!/bin/sh
# Build benches/debian/build/ctlbench against Debian's libwrap (libwrap0-dev)
# and verify that its no-op syslog functions really replace glibc's for the
# library's calls.
#
# usage: benches/debian/build.sh          (from anywhere)
# env:   CC (default cc), CFLAGS (default -O2 -g)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out="$here/build"
mkdir -p "$out"
CC=${CC:-cc}
CFLAGS=${CFLAGS:--O2 -g}

[ -f /usr/include/tcpd.h ] || { echo "build.sh: /usr/include/tcpd.h missing (apt-get install libwrap0-dev)" >&2; exit 1; }

# -U_FORTIFY_SOURCE: keep <stdio.h> etc. from redirecting anything to *_chk.
# --export-dynamic-symbol: put all four syslog replacements into .dynsym
# (ld would export only the ones libwrap references, __syslog_chk and
# __vsyslog_chk).
$CC $CFLAGS -U_FORTIFY_SOURCE -Wall -Wextra -o "$out/ctlbench" "$here/ctlbench.c" \
    -Wl,--export-dynamic-symbol=syslog \
    -Wl,--export-dynamic-symbol=vsyslog \
    -Wl,--export-dynamic-symbol=__syslog_chk \
    -Wl,--export-dynamic-symbol=__vsyslog_chk \
    -lwrap

# --- verification --------------------------------------------------------
fail() { echo "build.sh: VERIFY FAILED: $*" >&2; exit 1; }

# 1. the executable exports the replacements ...
for s in syslog vsyslog __syslog_chk __vsyslog_chk; do
    nm -D --defined-only "$out/ctlbench" | awk '{print $NF}' | grep -qx "$s" \
        || fail "$s not exported by ctlbench"
done

# 2. ... and libwrap binds its syslog calls through PLT/GOT slots (so the
#    executable's definitions win; no -Bsymbolic / direct binding).
lib=$(ldd "$out/ctlbench" | awk '/libwrap\.so/ {print $3}')
[ -n "$lib" ] || fail "ctlbench is not linked against libwrap.so"
if command -v objdump >/dev/null 2>&1; then
    objdump -R "$lib" | grep -Eq 'JUMP_SLOT +__v?syslog_chk' \
        || fail "$lib has no PLT relocation for __(v)syslog_chk"
fi

# 3. at run time: a table line without ':' makes libwrap log
#    'warning: ..., line 1: missing ":" separator' via tcpd_warn -> vsyslog.
#    The call must land in ctlbench's counter ...
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'this line has no separator\n' > "$tmp/allow"
printf 'ALL: ALL\n' > "$tmp/deny"
res=$(CTLBENCH_DEBUG=1 "$out/ctlbench" "$tmp/allow" "$tmp/deny" sshd "" 192.0.2.1 "" 10 2>"$tmp/err")
calls=$(sed -n 's/.*syslog_calls=\([0-9]*\).*/\1/p' "$tmp/err")
[ "${calls:-0}" -eq 15 ] || fail "expected 15 intercepted syslog calls (5 warm-up + 10), got '${calls:-}' ($res)"
case $res in *verdict=DENY*) ;; *) fail "unexpected verdict: $res" ;; esac
#    ... and nothing may reach /dev/log (glibc's syslog would connect there).
if command -v strace >/dev/null 2>&1; then
    if strace -f -e trace=connect,socket -o "$tmp/trace" \
        "$out/ctlbench" "$tmp/allow" "$tmp/deny" sshd "" 192.0.2.1 "" 10 >/dev/null 2>&1; then
        ! grep -Eq 'socket\(AF_UNIX|/dev/log' "$tmp/trace" || fail "glibc syslog still reached (/dev/log)"
    else
        echo "build.sh: note: strace not usable here, skipped the /dev/log check" >&2
    fi
fi

echo "built $out/ctlbench (libwrap: $lib; syslog interposition verified: $calls calls intercepted)"
