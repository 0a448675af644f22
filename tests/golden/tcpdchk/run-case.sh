#!/usr/bin/env bash
# run-case.sh: run one tcpdchk golden case with a given binary and write the results.
#
# usage: tests/golden/tcpdchk/run-case.sh CASE-DIR BINARY OUT-DIR
#
# Writes OUT-DIR/{stdout,stderr,status,syslog}.  Used by capture-tcpdchk.sh and
# check-tcpdchk.sh; see tests/golden/TOOLS.md for the exact procedure:
#   * the case's input files (everything except expected.*) are copied, with their
#     symlinks, into a fresh scratch directory W (mode 0755), which becomes the working
#     directory (tcpdchk -d reads W/hosts.allow, W/hosts.deny);
#   * BINARY is copied to a scratch bin directory and run from there as argv[0] "tcpdchk"
#     (a few cases remove /usr/sbin inside the namespace);
#   * it runs under ../ns-run-ext with /etc/hosts = tcpdchk/hosts, /etc/netgroup =
#     tcpdchk/netgroup, /dev/log captured to OUT-DIR/syslog, private overlays over the
#     directories listed in CASE/shadow (default: /usr/sbin and /usr/local), and the case's
#     `setup` script (if any) run inside the namespace in W before the binary;
#   * arguments = the lines of CASE/args, verbatim.
# Needs root.  Exit status: 0, or 2 for a harness problem.

set -u
[ $# -eq 3 ] || { echo "usage: $0 CASE-DIR BINARY OUT-DIR" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
golden=$(cd "$here/.." && pwd)
case_dir=$(cd "$1" && pwd) || exit 2
bin=$2
out=$(cd "$3" && pwd) || exit 2
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
[ -f "$case_dir/args" ] || { echo "run-case.sh: $case_dir: no args file" >&2; exit 2; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/tcpdchk-case.XXXXXX") || exit 2
trap 'rm -rf "$scratch"' EXIT
W=$scratch/w B=$scratch/bin
mkdir "$W" "$B" && chmod 0755 "$scratch" "$W" "$B" || exit 2
# copy inputs (symlinks stay symlinks, directories are copied recursively)
for f in "$case_dir"/* "$case_dir"/.[!.]*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    case "${f##*/}" in expected.*) continue ;; esac
    cp -a "$f" "$W/" || exit 2
done
cp "$bin" "$B/tcpdchk" && chmod 0755 "$B/tcpdchk" || exit 2

mapfile -t args < "$case_dir/args"
shadow=()
if [ -f "$case_dir/shadow" ]; then
    while read -r d; do [ -n "$d" ] && shadow+=(--shadow "$d"); done < "$case_dir/shadow"
else
    shadow=(--shadow /usr/sbin --shadow /usr/local)
fi
setup=()
[ -f "$W/setup" ] && setup=(--setup "$W/setup")

: > "$out/syslog"
(
    cd "$W" || exit 125
    "$golden/ns-run-ext" --hosts "$here/hosts" --netgroup "$here/netgroup" \
        --syslog "$out/syslog" --argv0 tcpdchk "${shadow[@]}" "${setup[@]}" -- \
        "$B/tcpdchk" "${args[@]}" > "$out/stdout" 2> "$out/stderr"
)
st=$?
echo "$st" > "$out/status"
if [ "$st" -ge 125 ]; then
    echo "run-case.sh: ${case_dir##*/}: ns-run-ext failed (status $st)" >&2
    cat "$out/stderr" >&2
    exit 2
fi
exit 0
