#!/usr/bin/env bash
# End-to-end test of the Slurm scripts on a real single-node Slurm.
#
# Brings up munged, slurmctld and slurmd with every state, pid, spool and log file under a temporary directory
# (ports 6817/6818, addresses on loopback), submits an 8-task sweep array and its merge job with
# scripts/slurm/submit.sh, and checks that the merged digest equals the unsharded sweep's. Then the failure path:
# one shard fails, the merge job is cancelled (--kill-on-invalid-dep=yes), and re-submitting that shard alone
# (with a new merge job) completes the sweep with the same digest. The daemons are stopped by pid on any exit.
#
# Needs root and apt-get (it installs the Debian packages slurm-wlm and munge if missing); anywhere else it prints
# why it is skipped and exits 0. SETTLESIM_SKIP_SLURM=1 skips it too. Usage: scripts/slurm-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

skip() {
    echo "slurm-test: SKIPPED: $*"
    exit 0
}
say() { echo "slurm-test: $*"; }
fail() {
    echo "slurm-test: FAILED: $*" >&2
    exit 1
}

[ "${SETTLESIM_SKIP_SLURM:-0}" = 1 ] && skip "SETTLESIM_SKIP_SLURM=1"
[ "$(id -u)" = 0 ] || skip "needs root to run slurmctld, slurmd and munged"
command -v apt-get > /dev/null || skip "no apt-get to install slurm-wlm and munge"
if ! command -v slurmctld > /dev/null || ! command -v slurmd > /dev/null || ! command -v munged > /dev/null; then
    say "installing slurm-wlm and munge with apt-get"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        slurm-wlm munge; } > /tmp/settlesim-slurm-apt.log 2>&1; then
        tail -5 /tmp/settlesim-slurm-apt.log
        skip "apt-get could not install slurm-wlm and munge (log: /tmp/settlesim-slurm-apt.log)"
    fi
fi
for port in 6817 6818; do
    if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
        fail "port $port is in use (is a Slurm already running here?); set SETTLESIM_SKIP_SLURM=1 to skip"
    fi
done

cargo build --locked --quiet
bin=$root/target/debug/settlesim
[ -x "$bin" ] || fail "no binary at $bin"

tmp=$(mktemp -d /tmp/settlesim-slurm.XXXXXX)
chmod 755 "$tmp"
mkdir -p "$tmp/state" "$tmp/spool" "$tmp/log" "$tmp/munge" "$tmp/out"
host=$(hostname -s)
pids=()
jobs_submitted=()

cleanup() {
    local status=$?
    set +e
    if [ ${#jobs_submitted[@]} -gt 0 ] && [ -n "${SLURM_CONF:-}" ]; then
        scancel "${jobs_submitted[@]}" 2> /dev/null
    fi
    # Stop the daemons we started, newest first, by pid: TERM, up to 10 s, then KILL.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        pid=${pids[$i]}
        kill "$pid" 2> /dev/null || continue
        for _ in $(seq 100); do
            kill -0 "$pid" 2> /dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2> /dev/null
    done
    if [ "$status" != 0 ]; then
        for f in "$tmp"/log/*.log "$tmp"/out/*/slurm-*.out; do
            [ -f "$f" ] && { echo "---- $f"; tail -20 "$f"; }
        done
        echo "slurm-test: files kept in $tmp" >&2
    else
        rm -rf "$tmp"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# munged as the munge user, with its key, socket, pid, seed and log under $tmp.
chown munge:munge "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chown munge:munge "$tmp/munge/munge.key"
chmod 400 "$tmp/munge/munge.key"
socket=$tmp/munge/munge.socket
setpriv --reuid=munge --regid=munge --clear-groups munged --foreground \
    --socket="$socket" --key-file="$tmp/munge/munge.key" --pid-file="$tmp/munge/munged.pid" \
    --seed-file="$tmp/munge/munged.seed" --log-file="$tmp/munge/munged.log" > "$tmp/log/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    [ -S "$socket" ] && break
    sleep 0.1
done
[ -S "$socket" ] || fail "munged did not start (see $tmp/munge/munged.log)"

cat > "$tmp/slurm.conf" << EOF
ClusterName=settlesim-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=6817
SlurmdPort=6818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
SchedulerType=sched/builtin
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MailProg=/bin/true
KillWait=2
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf

slurmctld -D -c -i -f "$SLURM_CONF" > "$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$host" > "$tmp/log/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 300); do
    state=$(sinfo -h -N -o %t 2> /dev/null | head -1 || true)
    case $state in idle | mix | alloc) break ;; esac
    sleep 0.1
done
case $state in idle | mix | alloc) say "slurm up: node $host is $state" ;; *) fail "the node did not come up (state '$state')" ;; esac

# Waits until none of the given jobs is in the queue (polling squeue: sbatch --wait is slow).
wait_jobs() {
    local t0=$SECONDS
    while [ -n "$(squeue -h -j "$(
        IFS=,
        echo "$*"
    )" -o %i 2> /dev/null)" ]; do
        [ $((SECONDS - t0)) -lt 600 ] || fail "jobs $* still queued after 600 s"
        sleep 0.2
    done
}
# The state of a job (for an array job, one line per task: "TASK STATE").
job_state() { scontrol -o show job "$1" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
array_states() { scontrol -o show job "$1" | sed -n 's/.*ArrayTaskId=\([0-9]*\).*JobState=\([A-Z_]*\).*/\1 \2/p' | sort -n; }
digest_of() { sed -n 's/^  "digest": "\([0-9a-f]*\)".*/\1/p' "$1/manifest.json"; }

export SETTLESIM=$bin
args=("$root/scenarios/correspondent.toml" --set duration=2d --set limits.drain=3d
    --grid 'banks[2].stp_rate=0.5,0.9' --replications 6)
"$bin" sweep "${args[@]}" --quiet --jobs 2 --out "$tmp/whole" > /dev/null
want=$(digest_of "$tmp/whole")
say "unsharded sweep: digest $want"

# 1. The happy path: 8 shards, then the merge.
t0=$SECONDS
read -r array merge < <(scripts/slurm/submit.sh 8 "$tmp/out/ok" "${args[@]}")
jobs_submitted+=("$array" "$merge")
say "submitted array job $array (8 tasks) and merge job $merge"
wait_jobs "$array" "$merge"
[ "$(job_state "$merge")" = COMPLETED ] || fail "merge job $merge is $(job_state "$merge")"
got=$(digest_of "$tmp/out/ok/merged")
[ "$got" = "$want" ] || fail "merged digest $got differs from the unsharded $want"
say "8 shards merged in $((SECONDS - t0)) s: digest $got equals the unsharded sweep's"

# 2. The failure path: shard 3's output directory is taken by something else, so that task fails (exit 2).
mkdir -p "$tmp/out/fail/shard-3"
echo "not a sweep" > "$tmp/out/fail/shard-3/blocker"
read -r array merge < <(scripts/slurm/submit.sh 8 "$tmp/out/fail" "${args[@]}")
jobs_submitted+=("$array" "$merge")
wait_jobs "$array" "$merge"
states=$(array_states "$array")
[ "$(echo "$states" | grep -c COMPLETED)" = 7 ] || fail "expected 7 completed tasks: $states"
echo "$states" | grep -q '^3 FAILED$' || fail "expected task 3 to fail: $states"
merge_state=$(job_state "$merge")
[ "$merge_state" = CANCELLED ] || fail "merge job $merge is $merge_state, not CANCELLED"
[ ! -e "$tmp/out/fail/merged/manifest.json" ] || fail "a merge ran although a shard failed"
say "shard 3 failed and merge job $merge was cancelled ($merge_state)"
rm -rf "$tmp/out/fail/shard-3"
read -r array merge < <(scripts/slurm/submit.sh --tasks 3 8 "$tmp/out/fail" "${args[@]}")
jobs_submitted+=("$array" "$merge")
wait_jobs "$array" "$merge"
[ "$(job_state "$merge")" = COMPLETED ] || fail "merge job $merge is $(job_state "$merge") after re-submitting shard 3"
got=$(digest_of "$tmp/out/fail/merged")
[ "$got" = "$want" ] || fail "digest after re-submitting shard 3 is $got, not $want"
say "re-submitted shard 3 alone: merge completed, digest $got equals the unsharded sweep's"
say "ok"
