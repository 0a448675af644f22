#!/usr/bin/env bash
# serve-and-run.sh: inside ns-run-ext (loopback up, finger-stub installed as /usr/bin/finger):
# start fingerd.py, run safe_finger, stop the server, exit with safe_finger's status.
#
# usage: serve-and-run.sh PY CASE-DIR BINARY ARGS...
# CASE-DIR/payload (bytes the server sends; absent = empty), CASE-DIR/server ("close"
# (default), "hang" or "none" = no server listening), CASE-DIR/stdin ("closed" = run the
# binary with fd 0 closed; absent = inherited), CASE-DIR/run-as (user name: run the binary
# with that user's uid/gid/groups via setpriv instead of as root).
set -u
py=$1 case_dir=$2 bin=$3; shift 3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mode=close
[ -f "$case_dir/server" ] && mode=$(head -n 1 "$case_dir/server")
payload=-
[ -f "$case_dir/payload" ] && payload="$case_dir/payload"
srv=""
if [ "$mode" != none ]; then
    rdy=$(mktemp -u /tmp/fingerd-ready.XXXXXX)
    "$py" "$here/fingerd.py" "$payload" "$mode" "$rdy" &
    srv=$!
    for _ in $(seq 1 500); do [ -e "$rdy" ] && break; kill -0 "$srv" 2>/dev/null || break; sleep 0.01; done
    [ -e "$rdy" ] || { echo "serve-and-run.sh: fingerd.py did not start" >&2; exit 125; }
    rm -f "$rdy"
fi
cmd=(bash -c 'exec -a safe_finger "$0" "$@"' "$bin" "$@")
if [ -f "$case_dir/run-as" ]; then
    u=$(head -n 1 "$case_dir/run-as")
    cmd=(setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "${cmd[@]}")
fi
if [ -f "$case_dir/stdin" ] && [ "$(head -n 1 "$case_dir/stdin")" = closed ]; then
    "${cmd[@]}" <&-
else
    "${cmd[@]}"
fi
st=$?
if [ -n "$srv" ]; then kill -TERM "$srv" 2>/dev/null; wait "$srv" 2>/dev/null; fi
exit $st
