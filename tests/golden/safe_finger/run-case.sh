#!/usr/bin/env bash
# run-case.sh: run one safe_finger golden case with a given binary and write the results.
#
# usage: tests/golden/safe_finger/run-case.sh CASE-DIR BINARY OUT-DIR
#
# Writes OUT-DIR/{stdout,stderr,status}.  Runs, with the case directory as working directory:
#   ns-run-ext --lo-up --shadow /usr/bin --shadow /usr/sbin --setup SETUP -- \
#       safe_finger/serve-and-run.sh PY CASE BINARY ARGS...
# SETUP (generated) installs safe_finger/finger-stub as /usr/bin/finger (mode 0755), removes
# any other finger from /usr/sbin, and writes /etc/finger-stub-status from CASE/finger-status
# if present; or, if CASE/no-finger exists, removes finger from /usr/bin and /usr/sbin.
# ARGS = lines of CASE/args (verbatim).  serve-and-run.sh starts safe_finger/fingerd.py
# (127.0.0.1:79 and [::1]:79) and runs BINARY with argv[0] "safe_finger" as root (or as
# CASE/run-as).  /dev/log is captured to OUT-DIR/syslog (Debian's safe_finger logs nothing,
# so every expected.syslog is empty).  Needs root,
# python3, util-linux (setpriv) and bash.

set -u
[ $# -eq 3 ] || { echo "usage: $0 CASE-DIR BINARY OUT-DIR" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
golden=$(cd "$here/.." && pwd)
case_dir=$(cd "$1" && pwd) || exit 2
bin=$2
out=$(cd "$3" && pwd) || exit 2
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
[ -f "$case_dir/args" ] || { echo "run-case.sh: $case_dir: no args file" >&2; exit 2; }
py=$(command -v python3) || { echo "run-case.sh: python3 not found" >&2; exit 2; }
args=()
mapfile -t args < "$case_dir/args"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/safe_finger-case.XXXXXX") || exit 2
trap 'rm -rf "$scratch"' EXIT
{
    echo 'set -e'
    echo 'rm -f /usr/sbin/finger /usr/bin/finger'
    if [ ! -e "$case_dir/no-finger" ]; then
        printf 'cp %q /usr/bin/finger\n' "$here/finger-stub"
        echo 'chmod 0755 /usr/bin/finger'
    fi
    if [ -f "$case_dir/finger-status" ]; then
        printf 'cp %q /etc/finger-stub-status\n' "$case_dir/finger-status"
    fi
} > "$scratch/setup"

: > "$out/syslog"
(
    cd "$case_dir" || exit 125
    "$golden/ns-run-ext" --syslog "$out/syslog" --lo-up --shadow /usr/bin --shadow /usr/sbin --setup "$scratch/setup" -- \
        "$here/serve-and-run.sh" "$py" "$case_dir" "$bin" "${args[@]}" \
        > "$out/stdout" 2> "$out/stderr"
)
st=$?
echo "$st" > "$out/status"
if [ "$st" -ge 125 ]; then
    echo "run-case.sh: ${case_dir##*/}: harness failed (status $st)" >&2
    cat "$out/stderr" >&2
    exit 2
fi
exit 0
