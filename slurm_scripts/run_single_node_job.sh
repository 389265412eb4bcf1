#!/bin/bash
# Train and test TimeSformer on one node (all its GPUs) of a Slurm cluster.
#
#   sbatch slurm_scripts/run_single_node_job.sh CONFIG.yaml [KEY VALUE ...]
#   sbatch --gres=gpu:4 slurm_scripts/run_single_node_job.sh \
#       configs/Kinetics/TimeSformer_divST_8x32_224_4gpus.yaml DATA.PATH_TO_DATA_DIR /data/k400
#
# Submit from the repository root (or set TIMESFORMER_ROOT). The #SBATCH lines below
# are defaults: edit them, or override them with sbatch flags. NUM_GPUS is the number
# of GPUs Slurm gives the node, OUTPUT_DIR is ./output/${SLURM_JOB_NAME}_${SLURM_JOB_ID}.
# The launch itself (rendezvous, srun, requeue near the time limit, environment knobs
# OUTPUT_ROOT, GPUS_PER_NODE, MASTER_PORT, PYTHON) is slurm_scripts/run_multi_node_job.sh's,
# run here with one node.
#
#SBATCH --job-name=timesformer
#SBATCH --nodes=1
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

# sbatch runs a copy of this file from its spool folder: find the repository instead.
ROOT=${TIMESFORMER_ROOT:-${SLURM_SUBMIT_DIR:-.}}
LAUNCHER=$ROOT/slurm_scripts/run_multi_node_job.sh
if [[ ! -f $LAUNCHER ]]; then
    echo "$(basename "$0"): error: $LAUNCHER not found; submit from the repository root or set TIMESFORMER_ROOT" >&2
    exit 2
fi
if [[ ${SLURM_JOB_NUM_NODES:-1} -ne 1 ]]; then
    echo "$(basename "$0"): error: this job has ${SLURM_JOB_NUM_NODES} nodes; use slurm_scripts/run_multi_node_job.sh" >&2
    exit 2
fi
# exec keeps this process (the one Slurm signals before the time limit) for the launcher.
exec bash "$LAUNCHER" "$@"
