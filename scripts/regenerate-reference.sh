#!/usr/bin/env bash
# Regenerates results/reference/: a week of the flagship (claims) scenario and its report (report/ holds the
# figures as SVG; `settlesim chart results/reference --format both` draws the PNGs).
# tests/reference.rs re-runs the same command and compares the digest, so a model change fails that test until
# this script is run on purpose and the new reference is committed.
# payments.csv (several MB) is not kept; the manifest's digest still covers it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --quiet
bin=target/release/settlesim
out=results/reference
rm -rf "$out"
# Keep these arguments in step with tests/reference.rs.
"$bin" run --quiet --set duration=7d --set limits.drain=7d --out "$out"
# The report reads payments.csv (the 24/7 and duplicate claims, the G20 cost target at $200) before it is removed.
"$bin" report "$out"
rm "$out/payments.csv"
echo "reference in $out, digest $(grep -o '"digest": "[0-9a-f]*"' "$out/manifest.json")"
# The digest of every committed scenario at its full length (tests/scenario_digests.rs).
digests=tests/fixtures/scenario-digests.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
{
  echo "# scenario digest (written by scripts/regenerate-reference.sh; checked by tests/scenario_digests.rs)"
  for f in scenarios/*.toml; do
    "$bin" run --quiet "$f" --out "$tmp/run" --force >/dev/null
    echo "$f $(sed -n 's/.*"digest": "\([0-9a-f]*\)".*/\1/p' "$tmp/run/manifest.json")"
  done
} > "$digests.tmp"
mv "$digests.tmp" "$digests"
echo "scenario digests in $digests"
