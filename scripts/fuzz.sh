#!/usr/bin/env bash
# Run the cargo-fuzz targets of fuzz/ for a bounded time each, starting from
# the seed corpora in fuzz/corpus/<target>/ (read only) and a working corpus
# in fuzz/work/corpus/<target>/ (kept between runs, git-ignored). Fails if any
# target crashes, hangs, leaks or reports a difference; the input is left in
# fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh [--seconds N] [--jobs J] [--toolchain T] [--work DIR] [TARGET...]
#
#   --seconds N     time per target (default 60)
#   --jobs J        targets run at the same time (default 1)
#   --toolchain T   the rustup toolchain to build with (`default`: the
#                   default one; without the option: nightly when installed,
#                   else the default one); one that is not a nightly is used
#                   with RUSTC_BOOTSTRAP=1
#   --work DIR      the working corpora and logs (default fuzz/work)
#   TARGET          table expand options ident cprims capi differential
#                   inetd_conf nsca_input (default: all)
#
# The CI runs every target for 20 s, two at a time (scripts/fuzz-ci.sh,
# called by scripts/test.sh). Long runs: scripts/fuzz.sh --seconds 3600
# --jobs 2, or one target with more workers, e.g. (cd fuzz && cargo +nightly
# fuzz run table "$PWD/work/corpus/table" "$PWD/corpus/table" -- -fork=2 \
#   -dict="$PWD/dict/tcpwrap.dict" -max_total_time=86400) inside
# `unshare --net`. docs/security.md records the runs made so far.
#
# Needs: a Rust toolchain with the AddressSanitizer runtime (nightly, or
# stable with RUSTC_BOOTSTRAP=1: the sanitizer flags are unstable),
# cargo-fuzz (`cargo install cargo-fuzz --version 0.13.2 --locked`), a C and
# C++ compiler (libFuzzer is C++), Debian's libwrap0-dev (the differential
# target links Debian's libwrap; the capi target compares with it), and
# `unshare` with the right to create a network namespace (root, or user
# namespaces): every target runs without network, and capi refuses to run
# with one. A target's dictionary is dict/<target>.dict, or
# dict/tcpwrap.dict when it has none.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fuzz="$root/fuzz"
all=(table expand options ident cprims capi differential inetd_conf nsca_input)

seconds=60
jobs=1
toolchain=${FUZZ_TOOLCHAIN:-}
work="$fuzz/work"
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#*=}; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --jobs=*) jobs=${1#*=}; shift ;;
    --toolchain) toolchain=$2; shift 2 ;;
    --toolchain=*) toolchain=${1#*=}; shift ;;
    --work) work=$2; shift 2 ;;
    --work=*) work=${1#*=}; shift ;;
    -h | --help) sed -n '2,35p' "$0"; exit 0 ;;
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

case "$seconds" in '' | *[!0-9]*) echo "fuzz.sh: --seconds takes a number" >&2; exit 1 ;; esac
case "$jobs" in '' | *[!0-9]* | 0) echo "fuzz.sh: --jobs takes a number from 1" >&2; exit 1 ;; esac

# The toolchain: `cargo +T`, or the default one. AddressSanitizer and the
# coverage instrumentation are unstable flags: a stable or beta compiler
# takes them with RUSTC_BOOTSTRAP=1.
if [ "$toolchain" = default ]; then
    toolchain=
elif [ -z "$toolchain" ] && rustup run nightly rustc --version >/dev/null 2>&1; then
    toolchain=nightly
fi
cargo=(cargo)
rustc=(rustc)
if [ -n "$toolchain" ]; then
    rustup run "$toolchain" rustc --version >/dev/null 2>&1 ||
        { echo "fuzz.sh: toolchain $toolchain is missing (rustup toolchain install $toolchain)" >&2; exit 1; }
    cargo=(cargo "+$toolchain")
    rustc=(rustup run "$toolchain" rustc)
fi
version=$("${rustc[@]}" --version)
case "$version" in
*-nightly*) ;;
*) export RUSTC_BOOTSTRAP=1 ;;
esac
"${cargo[@]}" fuzz --version >/dev/null 2>&1 ||
    { echo "fuzz.sh: cargo-fuzz is missing: cargo install cargo-fuzz --version 0.13.2 --locked" >&2; exit 1; }

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
echo "fuzz.sh: building ${targets[*]} with $version${RUSTC_BOOTSTRAP:+ (RUSTC_BOOTSTRAP=1)} (cargo fuzz build: AddressSanitizer, debug assertions)"
build=("${targets[@]}")
if [ ${#targets[@]} -eq ${#all[@]} ]; then
    # Every target: one cargo run, which builds them in parallel.
    build=(--all)
fi
start=$SECONDS
for t in "${build[@]}"; do
    [ "$t" = --all ] && t=
    # shellcheck disable=SC2086 # an empty $t builds every target
    if ! out=$("${cargo[@]}" fuzz build $t 2>&1); then
        printf '%s\n' "$out" >&2
        exit 1
    fi
done
echo "fuzz.sh: built in $((SECONDS - start)) s"

logs="$work/logs"
mkdir -p "$logs"
run_one() {
    local t=$1
    local corpus="$work/corpus/$t"
    local dict="$fuzz/dict/$t.dict"
    [ -f "$dict" ] || dict="$fuzz/dict/tcpwrap.dict"
    mkdir -p "$corpus" "$fuzz/artifacts/$t"
    # -timeout: an input that takes more than 10 s is a hang (bounded
    # waits are a guarantee); -rss_limit_mb: memory is bounded too.
    "${isolate[@]}" "${cargo[@]}" fuzz run "$t" "$corpus" "$fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -dict="$dict" -print_final_stats=1 \
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
        {
            grep -E -A 2 'panicked at|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|differ|assertion' "$logs/$t.log" | head -n 12
            # The input, to reproduce it from a CI log.
            grep -E '^(artifact_prefix=|Base64: )' "$logs/$t.log" | cut -c 1-4000
            tail -n 5 "$logs/$t.log"
        } >&2 || true
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
