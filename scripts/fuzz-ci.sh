#!/usr/bin/env bash
# The bounded fuzz run of the CI (called by scripts/test.sh): every target
# of fuzz/ for FUZZ_SECONDS seconds (default 20), two at a time, from the
# seed corpora in fuzz/corpus/ and an empty working corpus; fails if any
# target crashes, hangs (10 s), leaks, reports a difference or cannot be
# built. About 4 minutes on a 2-core machine with nothing installed:
# cargo-fuzz ~1 min, the build ~2 min, the runs 5 x FUZZ_SECONDS.
#
#   FUZZ_SECONDS=N     seconds per target (default 20; 0 skips the run,
#                      except when CI=true)
#   FUZZ_TOOLCHAIN=T   build with `cargo +T` (default: the default
#                      toolchain, with RUSTC_BOOTSTRAP=1 unless it is a
#                      nightly: AddressSanitizer's flags are unstable)
#
# What it needs and installs when missing: a C++ compiler (g++: libFuzzer
# is C++) and cargo-fuzz 0.13.2 (`cargo install --locked`, ~1 min). When
# CI=true nothing is ever skipped: a missing piece that cannot be installed
# fails the run. Elsewhere such a run is skipped with the reason printed.
#
# A failure leaves the input in fuzz/artifacts/<target>/ and prints it
# (base64) with the log's end; reproduce with
#   cd fuzz && unshare --net -- cargo fuzz run TARGET artifacts/TARGET/crash-…
# (add RUSTC_BOOTSTRAP=1 with a stable toolchain).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ci=${CI:-}
seconds=${FUZZ_SECONDS:-20}

case "$seconds" in
'' | *[!0-9]*) echo "fuzz-ci.sh: FUZZ_SECONDS must be a number of seconds, not \"$seconds\"" >&2; exit 1 ;;
esac
if [ "$seconds" -eq 0 ]; then
    if [ "$ci" = true ]; then
        echo "fuzz-ci.sh: FUZZ_SECONDS=0 with CI=true: the fuzz run is not skipped in CI" >&2
        exit 1
    fi
    echo "fuzz-ci.sh: FUZZ_SECONDS=0: fuzz run skipped"
    exit 0
fi

# Outside CI a missing piece skips the run (said so); in CI it fails.
unavailable() {
    if [ "$ci" = true ]; then
        echo "fuzz-ci.sh: $1 (CI=true: failing)" >&2
        exit 1
    fi
    echo "fuzz-ci.sh: SKIPPED: $1"
    exit 0
}

start=$SECONDS
if ! command -v c++ >/dev/null 2>&1; then
    echo "fuzz-ci.sh: installing g++ (libFuzzer is C++)"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null; }; }; then
        unavailable "no C++ compiler, and g++ could not be installed"
    fi
fi
cargo=(cargo)
[ -n "${FUZZ_TOOLCHAIN:-}" ] && cargo=(cargo "+$FUZZ_TOOLCHAIN")
if ! "${cargo[@]}" fuzz --version 2>/dev/null | grep -q '^cargo-fuzz 0\.13\.'; then
    echo "fuzz-ci.sh: installing cargo-fuzz 0.13.2"
    if ! cargo install --quiet --locked cargo-fuzz --version 0.13.2 --force; then
        unavailable "cargo-fuzz is missing and could not be installed"
    fi
fi
echo "fuzz-ci.sh: tools ready in $((SECONDS - start)) s"

# Every target: the default toolchain unless FUZZ_TOOLCHAIN names one (not
# nightly just because it is installed: the CI builds with the compiler it
# tests with).
work=$(mktemp -d "${TMPDIR:-/tmp}/tcpwrap-fuzz-ci.XXXXXX")
trap 'rm -rf "$work"' EXIT
status=0
bash "$root/scripts/fuzz.sh" --toolchain "${FUZZ_TOOLCHAIN:-default}" --seconds "$seconds" \
    --jobs 2 --work "$work" || status=$?
echo "fuzz-ci.sh: fuzz phase took $((SECONDS - start)) s"
exit $status
