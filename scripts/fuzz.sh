#!/usr/bin/env bash
# Builds the cargo-fuzz targets in fuzz/ and runs them: scripts/fuzz.sh [TARGET|all] [SECONDS]
# (default: all, 60 seconds each). Each target starts from its corpus in fuzz/corpus/TARGET
# (kept between runs, not committed) plus seeds written afresh from the test fixtures and
# the BuildKit conformance files. A finding leaves its input in fuzz/artifacts/TARGET and
# makes the script exit non-zero; its log is in fuzz/logs/TARGET.log.
#
# The fuzzers run niced, one at a time, with a 2 GiB memory limit. They build without a
# sanitizer (the code under test is safe Rust) but with debug assertions, so arithmetic
# overflow is a finding; FUZZ_SANITIZER=address brings ASan back.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$here/fuzz"
target=${1:-all}
seconds=${2:-60}
sanitizer=${FUZZ_SANITIZER:-none}
conformance=${WHARF_CONFORMANCE:-$here/../shared/conformance/buildkit}

if ! command -v cargo-fuzz >/dev/null; then
    echo "error: cargo-fuzz is not installed" >&2
    echo "hint: cargo install cargo-fuzz (it needs the nightly toolchain: rustup toolchain install nightly)" >&2
    exit 2
fi
if [ ! -d "$conformance" ]; then
    echo "error: the BuildKit conformance files are not at $conformance" >&2
    echo "hint: set WHARF_CONFORMANCE to their folder" >&2
    exit 2
fi

cd "$fuzz"
all=$(cargo +nightly fuzz list)
if [ "$target" = all ]; then
    targets=$all
elif grep -qx "$target" <<<"$all"; then
    targets=$target
else
    echo "error: no fuzz target named $target" >&2
    echo "hint: one of: $(tr '\n' ' ' <<<"$all")" >&2
    exit 2
fi

# One target builds alone; `all` builds every one.
build_target=()
[ "$target" = all ] || build_target=("$target")
nice -n 19 cargo +nightly fuzz build -s "$sanitizer" --debug-assertions "${build_target[@]}"

seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
python3 "$fuzz/seeds.py" "$seeds" "$here" "$conformance"

mkdir -p "$fuzz/logs"
failed=()
printf '%-16s %8s %12s %8s %s\n' target seconds execs exec/s result
for t in $targets; do
    mkdir -p "$fuzz/corpus/$t" "$seeds/$t"
    log="$fuzz/logs/$t.log"
    status=0
    nice -n 19 cargo +nightly fuzz run -s "$sanitizer" --debug-assertions "$t" \
        "$fuzz/corpus/$t" "$seeds/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    ran=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    if [ "$status" -eq 0 ]; then
        result=ok
    else
        result="FINDING (see $log and fuzz/artifacts/$t)"
        failed+=("$t")
    fi
    printf '%-16s %8s %12s %8s %s\n' "$t" "${ran:-?}" "${execs:-?}" "${rate:-?}" "$result"
done

# Sandboxes of fuzzer processes that are gone (a finding ends one before its cleanup).
for dir in /dev/shm/wharf-fuzz-* "${TMPDIR:-/tmp}"/wharf-fuzz-*; do
    if [ -d "$dir" ] && [ ! -d "/proc/${dir##*-}" ]; then
        rm -rf "$dir"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "error: fuzz targets with findings: ${failed[*]}" >&2
    exit 1
fi
