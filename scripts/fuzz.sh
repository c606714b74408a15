#!/usr/bin/env bash
# Fuzzes settlesim with cargo-fuzz (libFuzzer): target `load` (any bytes through parse, overrides and
# validation) and `simulate` (what loads is run, bounded, with its invariants checked). The corpus is seeded from
# scenarios/ and tests/fixtures/; findings land in fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh                 # both targets, 10 minutes each
#   scripts/fuzz.sh load 3600       # one target, one hour
#
# Needs `cargo install --locked cargo-fuzz`. cargo-fuzz's instrumentation uses unstable rustc flags; on a stable
# toolchain RUSTC_BOOTSTRAP=1 lets it build (this script sets it; the project itself builds on stable).
# Sanitizers are off (-s none): the crate forbids unsafe code, so the checks that matter are panics and the
# invariants asserted by the targets.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=${1:-"load simulate"}
seconds=${2:-600}
export RUSTC_BOOTSTRAP=1
for t in $targets; do
  corpus=fuzz/corpus/$t
  mkdir -p "$corpus"
  cp -n scenarios/*.toml tests/fixtures/*.toml "$corpus"/ 2>/dev/null || true
  cargo fuzz run -s none --release "$t" "$corpus" -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 2>&1 |
    tee "fuzz/$t.log" | grep -E "^(#[0-9]+ +(DONE|INITED)|stat::|==[0-9]+== ERROR|SUMMARY|Done)" || true
done
