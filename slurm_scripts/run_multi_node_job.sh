#!/bin/bash
# Train and test TimeSformer on several nodes of a Slurm cluster.
#
#   sbatch slurm_scripts/run_multi_node_job.sh CONFIG.yaml [KEY VALUE ...]
#   sbatch --nodes=8 --partition=gpu slurm_scripts/run_multi_node_job.sh \
#       configs/Kinetics/TimeSformer_divST_8x32_224.yaml DATA.PATH_TO_DATA_DIR /data/k400
#
# Submit from the repository root (or set TIMESFORMER_ROOT). Each node runs one task,
# `tools/run_net.py --shard_id $SLURM_NODEID --num_shards $SLURM_JOB_NUM_NODES
# --init_method tcp://FIRST_NODE:PORT`, which starts one training process per GPU.
# The #SBATCH lines below are defaults: edit them, or override them with sbatch flags.
#
# Environment knobs (all optional):
#   OUTPUT_ROOT    OUTPUT_DIR is $OUTPUT_ROOT/${SLURM_JOB_NAME}_${SLURM_JOB_ID} (default: ./output);
#                  an OUTPUT_DIR KEY VALUE argument wins over it.
#   GPUS_PER_NODE  NUM_GPUS (default: the GPUs Slurm gave each node, $SLURM_GPUS_ON_NODE).
#   MASTER_PORT    rendezvous port on the first node (default: derived from the job id).
#   PYTHON         interpreter (default: python).
#
# Close to the time limit (or on preemption with --requeue), the job requeues itself;
# the requeued job has the same id, hence the same OUTPUT_DIR, and resumes from its
# last checkpoint (TRAIN.AUTO_RESUME).
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

# NUM_GPUS: GPUs per node, from the allocation.
gpus_per_node() {
    if [[ -n ${GPUS_PER_NODE:-} ]]; then
        echo "$GPUS_PER_NODE"
    elif [[ -n ${SLURM_GPUS_ON_NODE:-} ]]; then
        echo "$SLURM_GPUS_ON_NODE"
    elif [[ -n ${CUDA_VISIBLE_DEVICES:-} ]]; then
        awk -F, '{ print NF }' <<<"$CUDA_VISIBLE_DEVICES"
    else
        fail "cannot tell how many GPUs each node has; request them (--gres=gpu:N) or set GPUS_PER_NODE"
    fi
}

# On the time-limit signal: put the job back in the queue; it restarts under the same id.
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
[[ -f $CFG ]] || fail "config file $CFG not found (in $(pwd))"

NUM_GPUS=$(gpus_per_node)
MASTER_HOST=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | awk 'NR == 1')
MASTER_PORT=${MASTER_PORT:-$((20000 + SLURM_JOB_ID % 20000))}
OUTPUT_DIR=${OUTPUT_ROOT:-$PWD/output}/${SLURM_JOB_NAME:-timesformer}_${SLURM_JOB_ID}
mkdir -p "$OUTPUT_DIR"
echo "Job ${SLURM_JOB_ID}: ${SLURM_JOB_NUM_NODES} node(s) x ${NUM_GPUS} GPU(s), rendezvous tcp://${MASTER_HOST}:${MASTER_PORT}, OUTPUT_DIR ${OUTPUT_DIR}"

trap requeue USR1
# One task per node; each expands its own SLURM_NODEID into --shard_id. The CPU
# count is passed on explicitly: recent srun versions do not inherit it from sbatch.
srun --kill-on-bad-exit=1 --ntasks-per-node=1 ${SLURM_CPUS_PER_TASK:+--cpus-per-task=$SLURM_CPUS_PER_TASK} \
    bash -c 'exec "$1" tools/run_net.py --shard_id "$SLURM_NODEID" "${@:2}"' node "${PYTHON:-python}" \
    --cfg "$CFG" \
    --num_shards "$SLURM_JOB_NUM_NODES" \
    --init_method "tcp://${MASTER_HOST}:${MASTER_PORT}" \
    NUM_GPUS "$NUM_GPUS" OUTPUT_DIR "$OUTPUT_DIR" "$@" &
SRUN_PID=$!
STATUS=0
wait "$SRUN_PID" || STATUS=$?
# The requeue signal interrupts `wait`; keep waiting until srun itself is gone.
while kill -0 "$SRUN_PID" 2>/dev/null; do
    STATUS=0
    wait "$SRUN_PID" || STATUS=$?
done
exit "$STATUS"
