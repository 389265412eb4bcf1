#!/bin/bash
# `make test-wheel` (CI): what a non-editable `pip install .` gives, used from another folder.
#
#   tests/wheel/check_wheel.sh
#
# Builds the project's wheel from a copy of the checkout (the files git tracks or would add),
# installs TORCH_SPEC and then the wheel into a fresh virtual environment, and from an empty
# folder runs: `timesformer --help`, `python -m timesformer --help`, `timesformer configs`, a
# shortened `timesformer demo`, a one-epoch `timesformer train` with a packaged Demo config and
# overrides, and `timesformer predict` with the checkpoint that training wrote. Takes minutes
# (the environment installs PyTorch and the dependencies); everything lives in one temporary
# folder, removed at the end (KEEP=1 keeps it).
#
# Environment knobs: PYTHON (the interpreter of the new environment, default python3),
# TORCH_SPEC (as the Makefile's), KEEP.

set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/timesformer-wheel.XXXXXX")
if [[ -z ${KEEP:-} ]]; then
    trap 'rm -rf "$WORK"' EXIT
else
    echo "check_wheel.sh: keeping $WORK" >&2
fi
START=$SECONDS

step() {
    echo "== [$((SECONDS - START)) s] $*"
}

copy_checkout() {
    # The files git tracks (and still exist) or would add: no build/, .venv or outputs.
    local file
    (cd "$REPO" && git ls-files -z --cached --others --exclude-standard) |
        while IFS= read -r -d '' file; do
            if [[ -f $REPO/$file ]]; then
                mkdir -p "$WORK/src/$(dirname "$file")"
                cp -p "$REPO/$file" "$WORK/src/$file"
            fi
        done
}

step "copying the checkout to $WORK/src"
copy_checkout
step "creating a fresh environment ($PYTHON)"
"$PYTHON" -m venv "$WORK/venv"
PY=$WORK/venv/bin/python
step "building the wheel (pip wheel --no-deps)"
"$PY" -m pip wheel --quiet --no-deps --wheel-dir "$WORK/dist" "$WORK/src"
step "installing $TORCH_SPEC, then the wheel"
# shellcheck disable=SC2086  # TORCH_SPEC is a list of requirements
"$PY" -m pip install --quiet $TORCH_SPEC
"$PY" -m pip install --quiet "$WORK"/dist/timesformer-*.whl

mkdir "$WORK/run"
cd "$WORK/run"
export PATH="$WORK/venv/bin:$PATH"
step "the package comes from the environment, not the checkout"
"$PY" -c 'import timesformer; print(timesformer.__file__)' | grep -F "$WORK/venv/"
step "timesformer --help, python -m timesformer --help"
timesformer --help | grep -E '^  configs '
python -m timesformer --help | grep -E '^  predict '
step "timesformer configs"
timesformer configs | grep -E '^  TimeSformer_divST_8x32_224\.yaml '
step "timesformer demo (shortened: 16 training clips per class, 1 epoch)"
timesformer demo --train-clips-per-class 16 --test-clips-per-class 4 --epochs 1 \
    --output-dir demo_out | tail -n 12
step "timesformer train: the packaged Demo config, one epoch, on the demo's data"
timesformer train --cfg Demo/TimeSformer_divST_tiny.yaml SOLVER.MAX_EPOCH 1 \
    OUTPUT_DIR train_out TENSORBOARD.ENABLE False | tail -n 3
CHECKPOINT=train_out/checkpoints/checkpoint_epoch_00001.pyth
test -f "$CHECKPOINT"
step "timesformer predict with $CHECKPOINT"
timesformer predict --cfg Demo/TimeSformer_divST_tiny.yaml --checkpoint "$CHECKPOINT" \
    --labels .cache/demo_data/classes.txt .cache/demo_data/videos/test/moving_right_0000.mp4
step "wheel check passed in $((SECONDS - START)) s"
