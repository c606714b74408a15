#!/usr/bin/env bash
# Instruction counts of the chain-layer workloads (issue 12), for comparing two builds on a shared machine whose
# CPU time varies by tens of percent from minute to minute (a 5% change does not show in `/usr/bin/time`): the
# instructions a run executes under valgrind's callgrind are the same on every run of the same binary and input.
# Two cuts of the timed workloads keep it to a few minutes (callgrind runs ~50× slower than native):
#   flagship   `settlesim run --set duration=7d --set limits.drain=7d` (the reference run, 1.74 M events)
#   scale      benches/inputs/scale-1m.toml with --set duration=1d --set limits.drain=12h
# Printed per binary and case: instructions, instructions outside SHA-256, events, instructions per event.
# Under valgrind the sha2 crate cannot use the CPU's SHA extensions and hashes with its portable code, about ten
# times the instructions it takes natively, so the figure without SHA-256 is the one to compare for model and
# output code (hashing changes show in the total).
# Needs valgrind (apt-get install valgrind). Instructions are not time: cache misses and branch mispredictions
# do not count, so a change that only moves memory (the payment arena) is measured with scripts/bench-chain.sh.
#
#   scripts/bench-instructions.sh [BINARY...]   (default: a release build of this tree)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind > /dev/null || {
    echo "valgrind is not installed: apt-get install valgrind" >&2
    exit 2
}
if [[ $# -eq 0 ]]; then
    cargo build --release --locked --quiet
    set -- "$PWD/target/release/settlesim"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "binary,case,instructions,instructions_without_sha256,events,instructions_per_event"
for bin in "$@"; do
    for case in flagship scale; do
        case $case in
        flagship) args=(--set duration=7d --set limits.drain=7d) ;;
        scale) args=(benches/inputs/scale-1m.toml --set duration=1d --set limits.drain=12h) ;;
        esac
        rm -rf "$tmp/out"
        valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$bin" run -q --out "$tmp/out" "${args[@]}" \
            > /dev/null 2> "$tmp/valgrind.txt"
        events=$(grep -o '"events": *[0-9]*' "$tmp/out/manifest.json" | tr -dc 0-9)
        callgrind_annotate "$tmp/cg" 2> /dev/null | awk -v bin="$bin" -v c="$case" -v ev="$events" '
            /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1 }
            /sha2/ { gsub(",", "", $1); sha += $1 }
            END { printf "%s,%s,%.0f,%.0f,%d,%.0f\n", bin, c, total, total - sha, ev, (total - sha) / ev }'
    done
done
