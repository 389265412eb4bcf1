#!/bin/bash
# Train and test TimeSformer on several nodes of a Slurm cluster, each node's processes started
# by torchrun: one srun task per node runs `torchrun --nnodes N --nproc_per_node G`, and the nodes
# meet through torchrun's c10d rendezvous on the first node.
#
#   sbatch slurm_scripts/run_multi_node_torchrun.sh CONFIG.yaml [KEY VALUE ...]
#   sbatch --nodes=8 --partition=gpu slurm_scripts/run_multi_node_torchrun.sh \
#       configs/Kinetics/TimeSformer_divST_8x32_224.yaml DATA.PATH_TO_DATA_DIR /data/k400
#
# The same job as run_multi_node_job.sh (which lets tools/run_net.py start each node's
# processes), for clusters and habits built around torchrun: elastic restarts (MAX_RESTARTS),
# one launcher everywhere. Submit from the repository root (or set TIMESFORMER_ROOT). The
# #SBATCH lines below are defaults: edit them, or override them with sbatch flags.
#
# Environment knobs (all optional):
#   OUTPUT_ROOT     OUTPUT_DIR is $OUTPUT_ROOT/${SLURM_JOB_NAME}_${SLURM_JOB_ID} (default: ./output);
#                   an OUTPUT_DIR KEY VALUE argument wins over it.
#   GPUS_PER_NODE   GPUs per node, one process each (default: $SLURM_GPUS_ON_NODE); 0 runs
#                   PROCS_PER_NODE CPU processes per node instead (NUM_GPUS 0).
#   PROCS_PER_NODE  CPU processes per node when GPUS_PER_NODE is 0 (default: 1).
#   MASTER_PORT     the rendezvous port on the first node (default: derived from the job id).
#   MAX_RESTARTS    torchrun --max-restarts: how often a group whose worker died restarts,
#                   resuming from its last checkpoint (default: 0).
#   PYTHON          interpreter (default: python).
#
# Close to the time limit (or on preemption with --requeue), the job requeues itself; the
# requeued job has the same id, hence the same OUTPUT_DIR, and resumes from its last checkpoint.
#
#SBATCH --job-name=timesformer
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=1
#SBATCH --gres=gpu:8
#SBATCH --cpus-per-task=80
#SBATCH --mem=480G
#SBATCH --time=72:00:00
#SBATCH --partition=gpu
#SBATCH --output=%x_%j.out
#SBATCH --error=%x_%j.err
#SBATCH --open-mode=append
#SBATCH --requeue
#SBATCH --signal=B:USR1@180

set -euo pipefail

fail() {
    echo "$(basename "$0"): error: $*" >&2
    exit 2
}

gpus_per_node() {
    if [[ -n ${GPUS_PER_NODE:-} ]]; then
        echo "$GPUS_PER_NODE"
    elif [[ -n ${SLURM_GPUS_ON_NODE:-} ]]; then
        echo "$SLURM_GPUS_ON_NODE"
    else
        fail "cannot tell how many GPUs each node has; request them (--gres=gpu:N) or set GPUS_PER_NODE (0: CPU processes)"
    fi
}

requeue() {
    echo "$(date -u '+%F %T'): job ${SLURM_JOB_ID} near its time limit; requeuing it." >&2
    scontrol requeue "$SLURM_JOB_ID" || echo "scontrol requeue ${SLURM_JOB_ID} failed" >&2
}

[[ $# -ge 1 ]] || fail "usage: sbatch $0 CONFIG.yaml [KEY VALUE ...]"
[[ -n ${SLURM_JOB_ID:-} ]] || fail "not inside a Slurm job; submit with: sbatch $0 CONFIG.yaml [KEY VALUE ...]"
CFG=$1
shift
(($# % 2 == 0)) || fail "config overrides come in KEY VALUE pairs; got an odd number: $*"

cd "${TIMESFORMER_ROOT:-${SLURM_SUBMIT_DIR:-.}}"
[[ -f tools/run_net.py ]] || fail "$(pwd) is not the repository root; submit from it or set TIMESFORMER_ROOT"

NUM_GPUS=$(gpus_per_node)
PROCS=$NUM_GPUS
((NUM_GPUS > 0)) || PROCS=${PROCS_PER_NODE:-1}
MASTER_HOST=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | awk 'NR == 1')
MASTER_PORT=${MASTER_PORT:-$((20000 + SLURM_JOB_ID % 20000))}
OUTPUT_DIR=${OUTPUT_ROOT:-$PWD/output}/${SLURM_JOB_NAME:-timesformer}_${SLURM_JOB_ID}
mkdir -p "$OUTPUT_DIR"
echo "Job ${SLURM_JOB_ID}: ${SLURM_JOB_NUM_NODES} node(s) x ${PROCS} torchrun process(es) (NUM_GPUS ${NUM_GPUS}), c10d rendezvous ${MASTER_HOST}:${MASTER_PORT}, OUTPUT_DIR ${OUTPUT_DIR}"

trap requeue USR1
# One task per node, each a torchrun launcher; torchrun gives each process its RANK, LOCAL_RANK
# and WORLD_SIZE, from which tools/run_net.py takes NUM_SHARDS, SHARD_ID and the processes per
# node. The CPU count is passed on explicitly: recent srun versions do not inherit it from sbatch.
srun --kill-on-bad-exit=1 --ntasks-per-node=1 ${SLURM_CPUS_PER_TASK:+--cpus-per-task=$SLURM_CPUS_PER_TASK} \
    "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes "$SLURM_JOB_NUM_NODES" --nproc_per_node "$PROCS" \
    --rdzv-backend c10d --rdzv-endpoint "${MASTER_HOST}:${MASTER_PORT}" --rdzv-id "$SLURM_JOB_ID" \
    --max-restarts "${MAX_RESTARTS:-0}" \
    tools/run_net.py --cfg "$CFG" NUM_GPUS "$NUM_GPUS" OUTPUT_DIR "$OUTPUT_DIR" "$@" &
SRUN_PID=$!
STATUS=0
wait "$SRUN_PID" || STATUS=$?
# The requeue signal interrupts `wait`; keep waiting until srun itself is gone.
while kill -0 "$SRUN_PID" 2>/dev/null; do
    STATUS=0
    wait "$SRUN_PID" || STATUS=$?
done
exit "$STATUS"
