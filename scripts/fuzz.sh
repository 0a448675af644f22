#!/usr/bin/env bash
# Run the cargo-fuzz targets of fuzz/ for a bounded time each, starting from
# the seed corpora in fuzz/corpus/<target>/ (read only) and a working corpus
# in fuzz/work/corpus/<target>/ (kept between runs, git-ignored). Fails if any
# target crashes, hangs, leaks or reports a difference; the input is left in
# fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh [--seconds N] [--jobs J] [TARGET...]
#
#   --seconds N   time per target (default 60: the CI run)
#   --jobs J      targets run at the same time (default 1)
#   TARGET        table expand options ident cprims capi differential
#                 (default: all)
#
# Long runs: scripts/fuzz.sh --seconds 3600 --jobs 2, or one target with
# more workers, e.g. (cd fuzz && cargo +nightly fuzz run table \
#   "$PWD/work/corpus/table" "$PWD/corpus/table" -- -fork=2 \
#   -dict="$PWD/dict/tcpwrap.dict" -max_total_time=86400) inside
# `unshare --net`. docs/security.md records the runs made so far.
#
# Needs: rustup's nightly toolchain (AddressSanitizer and the coverage
# instrumentation are nightly-only), cargo-fuzz (`cargo install cargo-fuzz`),
# a C compiler, Debian's libwrap0-dev (the differential target links
# Debian's libwrap; the capi target compares with it), and `unshare` with
# the right to create a network namespace (root, or user namespaces): every
# target runs without network, and capi refuses to run with one.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fuzz="$root/fuzz"
all=(table expand options ident cprims capi differential)

seconds=60
jobs=1
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --jobs=*) jobs=${1#*=}; shift ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 1 ;;
    *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
    case " ${all[*]} " in
    *" $t "*) ;;
    *) echo "fuzz.sh: unknown target $t (targets: ${all[*]})" >&2; exit 1 ;;
    esac
done

command -v cargo-fuzz >/dev/null || { echo "fuzz.sh: cargo-fuzz is missing: cargo install cargo-fuzz" >&2; exit 1; }
rustup run nightly rustc --version >/dev/null 2>&1 || { echo "fuzz.sh: the nightly toolchain is missing: rustup toolchain install nightly" >&2; exit 1; }

# A network namespace without routes: as root directly, else in a user
# namespace.
if unshare --net true 2>/dev/null; then
    isolate=(unshare --net --)
elif unshare --net --map-root-user true 2>/dev/null; then
    isolate=(unshare --net --map-root-user --)
else
    echo "fuzz.sh: cannot create a network namespace (unshare --net)" >&2
    exit 1
fi

cd "$fuzz"
echo "fuzz.sh: building ${targets[*]} (cargo +nightly fuzz build: AddressSanitizer, debug assertions)"
for t in "${targets[@]}"; do
    if ! out=$(cargo +nightly fuzz build "$t" 2>&1); then
        printf '%s\n' "$out" >&2
        exit 1
    fi
done

logs="$fuzz/work/logs"
mkdir -p "$logs"
run_one() {
    local t=$1
    local corpus="$fuzz/work/corpus/$t"
    mkdir -p "$corpus" "$fuzz/artifacts/$t"
    # -timeout: an input that takes more than 10 s is a hang (bounded
    # waits are a guarantee); -rss_limit_mb: memory is bounded too.
    "${isolate[@]}" cargo +nightly fuzz run "$t" "$corpus" "$fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -dict="$fuzz/dict/tcpwrap.dict" -print_final_stats=1 \
        >"$logs/$t.log" 2>&1
}

status=0
summary=()
running=0
pids=()
names=()
finish() {
    local pid=$1 t=$2 rc=0
    wait "$pid" || rc=$?
    local runs units secs
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -n 1)
    units=$(sed -n 's/^stat::new_units_added: *//p' "$logs/$t.log" | tail -n 1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$logs/$t.log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        summary+=("$(printf '%-13s ok     %6ss %10s runs %6s new units' "$t" "${secs:-?}" "${runs:-?}" "${units:-?}")")
    else
        status=1
        summary+=("$(printf '%-13s FAILED (exit %s), see %s and fuzz/artifacts/%s/' "$t" "$rc" "$logs/$t.log" "$t")")
        grep -E 'panicked at|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|differ|assertion' "$logs/$t.log" | head -n 5 >&2 || true
    fi
}
for t in "${targets[@]}"; do
    echo "fuzz.sh: $t for ${seconds}s"
    run_one "$t" &
    pids+=($!)
    names+=("$t")
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        finish "${pids[0]}" "${names[0]}"
        pids=("${pids[@]:1}")
        names=("${names[@]:1}")
        running=$((running - 1))
    fi
done
while [ ${#pids[@]} -gt 0 ]; do
    finish "${pids[0]}" "${names[0]}"
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
done

printf '%s\n' "${summary[@]}"
exit $status
