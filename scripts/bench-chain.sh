#!/usr/bin/env bash
# Chain-layer speed targets (issue 12), each run timed with /usr/bin/time -v on one core (taskset -c 0) and
# repeated REPS times (default 3), medians printed:
#   flagship   `settlesim run` of the embedded default (scenarios/claims.toml): events/s end to end
#   scale-1m   benches/inputs/scale-1m.toml: the flagship's USD-MXN and EUR-NGN corridors on its four original
#              rails at 1 M demand payments × 4 rails × 30 days, nostros and inventories scaled by the same factor
#              so that >= 99% settle: wall time, user time and peak RSS
#   loadtest   scenarios/chain-loadtest.toml
# Wall time on a shared machine includes waiting for the CPU; user time is the run's own CPU time.
#
#   scripts/bench-chain.sh [REPS] > raw.csv   (the summary goes to stderr)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3}
cargo build --release --locked --quiet
bin=${BIN:-$PWD/target/release/settlesim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Prints "wall_s user_s max_rss_kb events" of one run.
timed() {
    local out=$1
    shift
    taskset -c 0 /usr/bin/time -v "$bin" run -q --out "$out" "$@" > "$tmp/run.txt" 2> "$tmp/time.txt"
    local events
    events=$(grep -o '"events": *[0-9]*' "$out/manifest.json" | tr -dc 0-9)
    awk -F': ' -v ev="$events" '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
        /User time/ { u = $2 } /Maximum resident set size/ { rss = $2 } END { print s, u, rss, ev }' "$tmp/time.txt"
}

echo "rep,case,wall_s,user_s,max_rss_kb,events,events_per_user_s,settled_pct_min"
for rep in $(seq "$reps"); do
    for case in flagship scale-1m loadtest; do
        out=$tmp/$case-$rep
        case $case in
        flagship) read -r wall user rss ev < <(timed "$out") ;;
        scale-1m) read -r wall user rss ev < <(timed "$out" benches/inputs/scale-1m.toml) ;;
        loadtest) read -r wall user rss ev < <(timed "$out" scenarios/chain-loadtest.toml) ;;
        esac
        # The lowest settled share over the rails' `all` rows.
        settled=$(awk -F, 'NR > 1 && $2 == "all" { if (min == "" || $8 < min) min = $8 } END { print min }' "$out/summary.csv")
        # A run shorter than the clock's 10 ms resolution reports 0 user seconds: no rate then.
        rate=$(awk -v e="$ev" -v u="$user" 'BEGIN { if (u > 0) printf "%d", e / u }')
        echo "$rep,$case,$wall,$user,$rss,$ev,$rate,$settled"
        rm -rf "$out"
    done
done | tee "$tmp/raw.csv"

for case in flagship scale-1m loadtest; do
    awk -F, -v c="$case" '$2 == c { w[++n] = $3; u[n] = $4; r[n] = $5; e[n] = $7; s = $8 }
        function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
            return a[int((n + 1) / 2)] }
        END { printf "%-9s median wall %.2f s, user %.2f s, peak RSS %.1f MB, %.2f M events per CPU-second, settled >= %s%%\n",
            c, med(w, n), med(u, n), med(r, n) / 1024, med(e, n) / 1e6, s }' "$tmp/raw.csv" >&2
done
