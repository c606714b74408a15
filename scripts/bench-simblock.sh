#!/usr/bin/env bash
# settlesim's gossip mode side by side with SimBlock (the Java block-propagation simulator of Aoki et al., 2019)
# on SimBlock's default workload: 300 nodes in SimBlock's six regions (2019 node shares, latencies and
# bandwidths), Bitcoin Core's 8 outbound peers, every node mining (hash power ~ N(400k, 100k)), a block every
# 10 minutes, 535 kB blocks, compact-block relay (18 kB compact blocks; SimBlock's churn/control mix gives 26.7%
# of receipts a further round trip for ~46 kB of missing transactions), announce/request (inv/getdata) on,
# 2 ms processing per block. Each run is timed with /usr/bin/time -v; the speed ratio is SimBlock's wall time over
# settlesim's.
#
# SimBlock is built from its public source with javac alone (no Gradle). The source is, in order: the first
# argument (a SimBlock checkout or source tree), $SIMBLOCK_SRC, or the git mirror the session's `fetch` tool
# leaves at /work/.mirror/dsg-titech+simblock/repo (github.com/dsg-titech/simblock). Its END_BLOCK_HEIGHT (3 in
# the current source, a debugging leftover marked "TODO revert") is set to BLOCKS in a scratch copy.
#
#   scripts/bench-simblock.sh [SIMBLOCK_CHECKOUT] [BLOCKS=1000]
#
# settlesim's upload links are FIFO here (`upload = "fifo"`), as SimBlock sends one block at a time (its default
# is shared links, every requested transfer at once). Differences that remain (neither changes the work per
# block much): SimBlock draws each message's latency from
# a Pareto law around the mean, settlesim uses the mean; SimBlock's bandwidth is min(sender's upload, receiver's
# download) per region pair, settlesim's the sender's upload (the smaller of the two in SimBlock's table for
# every pair but one); SimBlock has 3.6% of nodes without compact blocks; SimBlock writes every message to
# output.json (its default), settlesim its result files.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-${SIMBLOCK_SRC:-/work/.mirror/dsg-titech+simblock/repo}}
blocks=${2:-1000}
command -v javac >/dev/null || { echo "javac not found: apt-get install openjdk-17-jdk-headless" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time not found: apt-get install time" >&2; exit 1; }
cargo build --release --locked --quiet
bin=${BIN:-$PWD/target/release/settlesim}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- SimBlock: copy the source (a git directory without work tree, or a checkout), patch, compile ----------
mkdir -p "$tmp/simblock"
if [ -d "$src/simulator/src/main/java" ]; then
    cp -r "$src/simulator" "$tmp/simblock/"
elif git --git-dir="$src" rev-parse HEAD >/dev/null 2>&1; then
    git --git-dir="$src" archive HEAD simulator | tar -x -C "$tmp/simblock"
else
    echo "no SimBlock source at $src: pass a checkout of github.com/dsg-titech/simblock" >&2
    exit 1
fi
rev=$( (git --git-dir="$src" rev-parse --short HEAD || git -C "$src" rev-parse --short HEAD) 2>/dev/null || echo unknown)
cfg="$tmp/simblock/simulator/src/main/java/simblock/settings/SimulationConfiguration.java"
sed -i -E "s/(END_BLOCK_HEIGHT = )[0-9]+;/\1$blocks;/" "$cfg"
grep -q "END_BLOCK_HEIGHT = $blocks;" "$cfg"
mkdir -p "$tmp/sb/classes" "$tmp/sb/conf" "$tmp/sb/output/graph"
cp "$tmp/simblock/simulator/src/dist/conf/simulator.conf" "$tmp/sb/conf/"
javac -nowarn -encoding UTF-8 -d "$tmp/sb/classes" $(find "$tmp/simblock/simulator/src/main/java" -name '*.java') 2>/dev/null

# --- settlesim: the same workload as a scenario -----------------------------------------------------------
shares=$(python3 -c "
import random
r = random.Random(1)
print(', '.join(str(max(1, round(r.gauss(400000, 100000)))) for _ in range(300)))")
cat > "$tmp/simblock-default.toml" <<TOML
name = "simblock-default"
start = "2026-01-01T00:00:00Z"
duration = "$((blocks * 10))m"
seed = 1

[limits]
drain = "0s"

[[chains]]
id = "sim"
consensus = "nakamoto"
block_interval = "10m"
block_capacity = 535000
tx_units = 500
native = "BTC"
native_decimals = 8
native_price_usd = 1
miners = [$shares]

[chains.network]
mode = "gossip"
nodes = 301
peers = 8
regions = ["north-america", "europe", "south-america", "asia-pacific", "japan", "australia"]
region_shares = [0.3316, 0.4998, 0.0090, 0.1177, 0.0224, 0.0195]
latency_ms = [
  [42, 134, 194, 208, 161, 199],
  [134, 21, 237, 247, 262, 304],
  [194, 237, 98, 335, 311, 332],
  [208, 247, 335, 95, 68, 208],
  [161, 262, 311, 68, 22, 136],
  [199, 304, 332, 208, 136, 26],
]
region_bandwidth_mbps = [19.2, 20.7, 5.8, 15.7, 10.2, 11.3]
block_bytes = 535000
relay = "compact"
compact_bytes = 18000
missing_share = 0.267
missing_bytes = 46200
upload = "fifo"
validation = "2ms"

[chains.background]
tx_per_s = 0
TOML

# Prints "wall_s cpu_s max_rss_kb" of one timed command (cpu: user + system seconds, the fairer figure on a
# shared machine; the JVM's JIT and garbage collector threads count in SimBlock's).
timed() {
    local log=$1
    shift
    /usr/bin/time -v "$@" >"$log.out" 2>"$log"
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; w = s }
                /User time/ { u = $2 } /System time/ { y = $2 }
                /Maximum resident set size/ { r = $2 }
                END { printf "%.2f %.2f %d\n", w, u + y, r }' "$log"
}

echo "SimBlock $rev, $blocks blocks, 300 nodes; settlesim $(git rev-parse --short HEAD)" >&2
read -r sb_wall sb_cpu sb_rss < <(cd "$tmp/sb" && timed "$tmp/simblock.time" java -cp classes:conf simblock.simulator.Main)
read -r ss_wall ss_cpu ss_rss < <(timed "$tmp/settlesim.time" "$bin" run "$tmp/simblock-default.toml" --quiet --out "$tmp/out")
stale=$(awk -F, 'NR == 2 { print $7 }' "$tmp/out/chains.csv")
events=$(grep -o '"events": *[0-9]*' "$tmp/out/manifest.json" | grep -o '[0-9]*$' || echo "?")
printf "%-10s %10s %10s %14s\n" tool wall_s cpu_s peak_rss_mib
printf "%-10s %10.2f %10.2f %14.1f\n" simblock "$sb_wall" "$sb_cpu" "$(echo "$sb_rss / 1024" | bc -l)"
printf "%-10s %10.2f %10.2f %14.1f\n" settlesim "$ss_wall" "$ss_cpu" "$(echo "$ss_rss / 1024" | bc -l)"
ratio() { echo "$1 / $2" | bc -l | xargs printf %.1f; }
echo "speed ratio SimBlock / settlesim: wall $(ratio "$sb_wall" "$ss_wall")x, cpu $(ratio "$sb_cpu" "$ss_cpu")x (goal >= 20x)"
echo "settlesim: $events events, stale rate $stale"
