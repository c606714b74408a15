#!/usr/bin/env bash
# Mutation testing of the simulation core (model, engine, metrics, sweep statistics, units, rng) with cargo-mutants,
# configured in .cargo/mutants.toml (which also keeps the reference digest test from counting as a kill).
# Needs `cargo install --locked cargo-mutants`. Results in mutants.out/ (caught.txt, missed.txt, timeout.txt,
# unviable.txt, outcomes.json).
#
#   scripts/mutants.sh                     the whole core (4,639 mutants on 2026-12-03: days on a 2-core machine)
#   scripts/mutants.sh --sample N          every N-th mutant of the core in cargo-mutants' listing order (files
#                                          alphabetically, then by position): a systematic sample whose caught
#                                          share estimates the whole core's score (--sample 60: 70 mutants);
#                                          MUTANTS_SAMPLE_OFFSET=K (0 to N-1) takes the K-th such sample instead
#   scripts/mutants.sh --in-diff BASE      only mutants in lines changed since the git revision BASE (e.g. main)
#   scripts/mutants.sh [--sample N | --in-diff BASE] ARGS...
#                                          extra cargo-mutants arguments, e.g. `-F '^src/model/fx\.rs:'` (one
#                                          file: a regex on the names `--list` shows) or `-F 'drain_nostro_queue'`;
#                                          not `-f FILE`, which adds to the globs of .cargo/mutants.toml instead of
#                                          narrowing them (cargo-mutants 27)
#
# MUTANTS_JOBS (default 1) sets --jobs: each job builds the crate, so keep it at 1 on a small shared machine.
# MUTANTS_IN_PLACE=1 mutates this tree and reuses its target/ instead of building a copy from scratch (do not edit
# the tree meanwhile; cargo-mutants restores each file after its mutant).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-mutants > /dev/null || {
    echo "cargo-mutants is not installed: cargo install --locked cargo-mutants" >&2
    exit 2
}
if [[ "${MUTANTS_IN_PLACE:-0}" == 1 ]]; then
    args=(--in-place) # one job by construction
else
    args=(--jobs "${MUTANTS_JOBS:-1}")
fi
if [[ "${1:-}" == "--sample" ]]; then
    n=${2:?"--sample needs N (every N-th mutant)"}
    shift 2
    args+=(--shard "${MUTANTS_SAMPLE_OFFSET:-0}/$n" --sharding round-robin)
elif [[ "${1:-}" == "--in-diff" ]]; then
    base=${2:?"--in-diff needs a git revision"}
    shift 2
    diff=$(mktemp)
    trap 'rm -f "$diff"' EXIT
    git diff "$base" -- src > "$diff"
    args+=(--in-diff "$diff")
fi
cargo mutants "${args[@]}" "$@"
