#!/bin/bash
# `make test-slurm`: the Slurm paths on a real two-node Slurm cluster of this machine (root only).
#
#   tests/slurm/run.sh [PYTEST ARGS...]
#
# Starts the cluster of tests/slurm/cluster.sh (installing slurmctld, slurmd, slurm-client
# and munge with apt-get if they are missing) unless it is already up, runs
# tests/slurm/test_real_slurm.py against it, and stops what it started, also when a test
# fails or the run is interrupted. A cluster that was already up is left running.
#
# Environment knobs: PYTHON (default: .venv/bin/python), and cluster.sh's.

set -euo pipefail

cd "$(dirname "$0")/../.."
CLUSTER=tests/slurm/cluster.sh
PYTHON=${PYTHON:-.venv/bin/python}

if [[ $EUID -ne 0 ]]; then
    echo "run.sh: the test cluster runs its daemons and jobs as root; run as root (as in CI)." >&2
    exit 2
fi

if bash "$CLUSTER" is-up; then
    echo "run.sh: using the test cluster that is already up; it stays up afterwards." >&2
else
    trap 'bash "$CLUSTER" stop' EXIT
    trap 'exit 130' INT TERM
    bash "$CLUSTER" start
fi
eval "$(bash "$CLUSTER" env)"
export TIMESFORMER_SLURM_TESTS=1
"$PYTHON" -m pytest -q -p no:cacheprovider tests/slurm "$@"
