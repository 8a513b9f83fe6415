#!/bin/sh
# Runs every benchmark of the suite one after the other (as root), records
# the load average before and after each in target/nslink-bench/<bench>.load,
# then writes the report: BENCHMARKS.svg and the table in BENCHMARKS.md
# (cargo bench --bench report).
#
# Usage: benches/run-all.sh [BENCH...]   (default: every bench target but
# the report). Environment: as the benches take it (NSLINK_BENCH_QUICK=1
# for a smoke run, NSLINK_BENCH_ROUNDS=N); CARGO_TARGET_DIR is honoured.
set -eu
cd "$(dirname "$0")/.."
out="${CARGO_TARGET_DIR:-target}/nslink-bench"
if [ "$#" -eq 0 ]; then
    # The [[bench]] targets of Cargo.toml, in order, but the report.
    set -- $(sed -n '/^\[\[bench\]\]/{n;s/^name = "\(.*\)"/\1/p}' Cargo.toml | grep -vx report)
fi
mkdir -p "$out"
load() { cut -d' ' -f1-3 /proc/loadavg; }
for bench in "$@"; do
    before=$(load)
    echo "== cargo bench --bench $bench (load $before)"
    cargo bench --bench "$bench"
    printf '%s\n%s\n' "$before" "$(load)" > "$out/$bench.load"
done
cargo bench --bench report
