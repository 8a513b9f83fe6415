#!/usr/bin/env bash
# Bounded fuzzing of every nslink fuzz target, one after the other, for CI.
#
#   bash fuzz/smoke.sh                 # every target, 25 s each
#   FUZZ_SECONDS=600 bash fuzz/smoke.sh dump_loop extack   # longer, some targets
#   FUZZ_SANITIZER=none FUZZ_RUNS=10000000 FUZZ_SECONDS=1800 bash fuzz/smoke.sh names
#
# Installs what it needs (the nightly toolchain must be there; cargo-fuzz is
# installed from crates.io when missing). One fuzzing process at a time.
# Each target starts from its committed seeds (fuzz/corpus/<target>, real
# kernel replies) and grows a scratch copy (fuzz/corpus-run/<target>, not
# committed), so the seeds stay small. A crash leaves its input under
# fuzz/artifacts/<target>/ and makes the script fail.
#
# Environment: FUZZ_SECONDS (per target, default 25), FUZZ_RUNS (stop after
# that many executions, whichever comes first; default unlimited), FUZZ_SANITIZER
# (cargo-fuzz's -s: address by default, `none` runs ~2x faster), FUZZ_TOOLCHAIN
# (default nightly).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
seconds=${FUZZ_SECONDS:-25}
runs=${FUZZ_RUNS:--1}
sanitizer=${FUZZ_SANITIZER:-address}
toolchain=${FUZZ_TOOLCHAIN:-nightly}
all=(dump_loop extack decode_link decode_address decode_route decode_neighbour names monitor decode_fdb decode_rule decode_nsid)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

if ! cargo "+$toolchain" fuzz --version >/dev/null 2>&1; then
    echo "smoke: installing cargo-fuzz" >&2
    cargo install cargo-fuzz
fi

cargo "+$toolchain" fuzz build -s "$sanitizer" >&2

printf '%-18s %12s %8s %10s %8s %7s\n' target executions seconds execs/s corpus crashes
failed=0
for t in "${targets[@]}"; do
    mkdir -p "corpus-run/$t" "artifacts/$t"
    log="corpus-run/$t.log"
    before=$(find "artifacts/$t" -type f | wc -l)
    status=0
    # -timeout: one input running over 10 s is a hang, reported as a crash.
    cargo "+$toolchain" fuzz run -s "$sanitizer" "$t" "corpus-run/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -runs="$runs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
    took=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1 | awk '{print $5}' || true)
    # The corpus libFuzzer ended with (seeds and new inputs, minimised).
    corpus=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
    crashes=$(( $(find "artifacts/$t" -type f | wc -l) - before ))
    rate=0
    [ -n "$took" ] && [ "$took" -gt 0 ] && rate=$(( ${execs:-0} / took ))
    printf '%-18s %12s %8s %10s %8s %7s\n' "$t" "${execs:-?}" "${took:-?}" "$rate" "${corpus:-?}" "$crashes"
    if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
        failed=1
        echo "smoke: $t FAILED (exit $status); log $here/$log" >&2
        grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20 >&2 || true
    fi
done
exit "$failed"
