#!/usr/bin/env bash
# Submit a sharded settlesim sweep to Slurm: an array job with one task per shard, and a merge job that runs
# only if every task succeeds (afterok) and is cancelled at once if one fails (--kill-on-invalid-dep=yes).
#
#   scripts/slurm/submit.sh [--tasks SPEC] [--sbatch "OPTS"] N OUT SWEEP-ARGS...
#
#   N        the number of shards (array tasks 0..N-1)
#   OUT      a directory on a file system that every node sees; shards write OUT/shard-I, the merge OUT/merged
#   --tasks  which tasks to submit (default 0-(N-1)); after a failure, `--tasks 3` re-submits shard 3 alone,
#            with a new merge job (the finished shards are kept and the re-run shard resumes)
#   --sbatch extra sbatch options for both jobs, e.g. "--partition=short --time=01:00:00"
#
# Prints the two job ids ("ARRAY_JOB_ID MERGE_JOB_ID") on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tasks=""
extra=""
while [ $# -gt 0 ]; do
    case $1 in
        --tasks) tasks=$2; shift 2 ;;
        --sbatch) extra=$2; shift 2 ;;
        *) break ;;
    esac
done
if [ $# -lt 3 ]; then
    sed -n '2,15p' "$0" >&2
    exit 2
fi
N=$1
OUT=$2
shift 2
case $N in '' | *[!0-9]* | 0) echo "N must be a positive whole number, not '$N'" >&2; exit 2 ;; esac
tasks=${tasks:-0-$((N - 1))}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd) # the jobs may start in another directory
# shellcheck disable=SC2086 # $extra is a list of options
array=$(sbatch --parsable $extra --array="$tasks" --output="$OUT/slurm-sweep-%A_%a.out" \
    "$here/sweep-array.sbatch" "$N" "$OUT" "$@")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable $extra --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    --output="$OUT/slurm-merge-%j.out" "$here/merge.sbatch" "$N" "$OUT")
merge=${merge%%;*}
echo "$array $merge"
