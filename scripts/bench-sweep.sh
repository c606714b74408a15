#!/usr/bin/env bash
# Sweep throughput: a 200-run sweep of scenarios/correspondent.toml (4 grid points × 50 replications) with --jobs 1 and
# --jobs 2, alternated REPS times (default 5) so that a noisy neighbour hurts both alike; and, as the machine's own
# ceiling for two busy processes, the same sweep as two concurrent --jobs 1 shards. Each run is timed with
# /usr/bin/time -v (wall time and peak RSS). Prints one CSV row per measurement, then medians, runs/s, parallel
# efficiency (runs/s with 2 threads ÷ twice the runs/s with 1) and the peak RSS.
#
#   scripts/bench-sweep.sh [REPS] > raw.csv   (the summary goes to stderr)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
cargo build --release --locked --quiet
bin=$PWD/target/release/settlesim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(scenarios/correspondent.toml --grid 'banks[2].stp_rate=0.5,0.7,0.9,0.95' --replications 50 --quiet)
runs=200

# Prints "wall_s max_rss_kb" of one command.
timed() {
    /usr/bin/time -v "$@" > /dev/null 2> "$tmp/time.txt"
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
        /Maximum resident set size/ { rss = $2 } END { print s, rss }' "$tmp/time.txt"
}

echo "rep,mode,wall_s,runs_per_s,max_rss_kb,digest"
for rep in $(seq "$reps"); do
    for mode in jobs1 jobs2 shards2; do
        out=$tmp/$mode-$rep
        case $mode in
            jobs1) read -r wall rss < <(timed "$bin" sweep "${args[@]}" --jobs 1 --out "$out") ;;
            jobs2) read -r wall rss < <(timed "$bin" sweep "${args[@]}" --jobs 2 --out "$out") ;;
            shards2)
                start=$(date +%s.%N)
                timed "$bin" sweep "${args[@]}" --jobs 1 --shard 0/2 --out "$out-0" > "$tmp/s0" &
                timed "$bin" sweep "${args[@]}" --jobs 1 --shard 1/2 --out "$out-1" > "$tmp/s1"
                wait
                wall=$(echo "$(date +%s.%N) - $start" | bc -l)
                rss=$(cat "$tmp/s0" "$tmp/s1" | awk '{ if ($2 > m) m = $2 } END { print m }')
                "$bin" merge "$out-0" "$out-1" --out "$out" > /dev/null
                ;;
        esac
        digest=$(sed -n 's/^  "digest": "\([0-9a-f]*\)".*/\1/p' "$out/manifest.json")
        printf '%s,%s,%.3f,%.2f,%s,%s\n' "$rep" "$mode" "$wall" "$(echo "$runs / $wall" | bc -l)" "$rss" "${digest:0:16}"
        rm -rf "$out" "$out-0" "$out-1"
    done
done | tee "$tmp/raw.csv"

{
    echo
    echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
    for mode in jobs1 jobs2 shards2; do
        awk -F, -v m="$mode" '$2 == m { print $3 }' "$tmp/raw.csv" | sort -n |
            awk -v m="$mode" -v runs=$runs '{ w[NR] = $1 } END { med = (NR % 2) ? w[(NR + 1) / 2] : (w[NR / 2] + w[NR / 2 + 1]) / 2;
                printf "%-8s median wall %.2f s  %.1f runs/s  (min %.2f s, max %.2f s)\n", m, med, runs / med, w[1], w[NR] }'
    done
    awk -F, 'NR > 1 { w[$2] = w[$2] " " $3; if ($5 > rss[$2]) rss[$2] = $5 } END {
        for (m in rss) printf "%-8s peak RSS %.1f MB\n", m, rss[m] / 1024 }' "$tmp/raw.csv" | sort
    med() { awk -F, -v m="$1" '$2 == m { print $3 }' "$tmp/raw.csv" | sort -n | awk '{ w[NR] = $1 } END { print (NR % 2) ? w[(NR + 1) / 2] : (w[NR / 2] + w[NR / 2 + 1]) / 2 }'; }
    j1=$(med jobs1)
    j2=$(med jobs2)
    s2=$(med shards2)
    printf 'parallel efficiency, --jobs 2 vs --jobs 1: %.0f%%\n' "$(echo "100 * $j1 / (2 * $j2)" | bc -l)"
    printf 'the machine'"'"'s ceiling, two --jobs 1 processes: %.0f%%\n' "$(echo "100 * $j1 / (2 * $s2)" | bc -l)"
    echo "digests (must be one): $(cut -d, -f6 "$tmp/raw.csv" | tail -n +2 | sort -u | tr '\n' ' ')"
} >&2
