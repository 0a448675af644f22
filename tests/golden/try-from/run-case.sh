#!/usr/bin/env bash
# run-case.sh: run one try-from golden case with a given binary and write the results.
#
# usage: tests/golden/try-from/run-case.sh CASE-DIR BINARY OUT-DIR
#
# Writes OUT-DIR/{stdout,stderr,status,syslog}.  Runs, with the case directory as working
# directory:
#   ns-run-ext --hosts HOSTS --syslog OUT-DIR/syslog --lo-up -- \
#       python3 try-from/connect-and-run.py CASE/conn ARGV0 BINARY ARGS...
# where HOSTS = CASE/hosts if present, else try-from/hosts; ARGV0 = first line of CASE/argv0
# if present, else "try-from"; ARGS = lines of CASE/args if present (verbatim).
# connect-and-run.py builds the connection described by CASE/conn inside the namespace and
# runs BINARY with it on fd 0 (see the comment at its top).  Needs root and python3.

set -u
[ $# -eq 3 ] || { echo "usage: $0 CASE-DIR BINARY OUT-DIR" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
golden=$(cd "$here/.." && pwd)
case_dir=$(cd "$1" && pwd) || exit 2
bin=$2
out=$(cd "$3" && pwd) || exit 2
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
[ -f "$case_dir/conn" ] || { echo "run-case.sh: $case_dir: no conn file" >&2; exit 2; }
py=$(command -v python3) || { echo "run-case.sh: python3 not found" >&2; exit 2; }
hosts="$here/hosts"
[ -f "$case_dir/hosts" ] && hosts="$case_dir/hosts"
argv0=try-from
[ -f "$case_dir/argv0" ] && argv0=$(head -n 1 "$case_dir/argv0")
args=()
[ -f "$case_dir/args" ] && mapfile -t args < "$case_dir/args"

: > "$out/syslog"
(
    cd "$case_dir" || exit 125
    "$golden/ns-run-ext" --hosts "$hosts" --syslog "$out/syslog" --lo-up -- \
        "$py" "$here/connect-and-run.py" "$case_dir/conn" "$argv0" "$bin" "${args[@]}" \
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
