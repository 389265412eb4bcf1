#!/usr/bin/env bash
# The GPU check: run it first whenever a CUDA GPU is at hand. From a bare clone, in about
# 5-7 minutes on one H200 (GPU_CHECK_BUDGET_S, 450 s by default, bounds it), it writes into a report folder ($OUT when set, else
# ./gpu_check_report):
#
#   env.log            GPU, driver, CUDA, torch, SDPA backends
#   cuda_tests.log     the `cuda` tests (tests/test_cuda.py): mixed precision, shortcuts,
#                      fused attention, activation checkpointing, NCCL, a run, torch.compile
#   bench_*.md|.json   tools/benchmark_model.py on CUDA: ViT-B divided 8x224 batch 8 training
#                      step, ours bf16 against Hugging Face bf16 and fp32 (clips/s, MFU against
#                      a measured matmul peak, peak memory); joint 8x224; TimeSformer-L 96x224
#                      batch 1 with activation checkpointing; torch.compile's gain
#   loader.md|.json    tools/benchmark.py: loader clips/s with 1 and 2 clips per video against the
#                      decode floor, and the CPU cores one GPU needs at the measured training speed
#   summary.md         the figures against their targets
#
#   tools/gpu_check.sh                   run it (without CUDA: what it would run, exit 0)
#   tools/gpu_check.sh --dry-run         print the steps, run nothing
#   tools/gpu_check.sh --prepare-wheels  (on a machine with package access) download the wheels
#                                        of what a bare GPU machine may lack into .gpu_wheels/
#
# The GPU machine needs torch, timm, einops, tensorboard and transformers; fvcore, iopath, yacs,
# PyAV and submitit come from .gpu_wheels/ (git-ignored; copy it along with the clone) when
# present. Each step has a time limit; a failed step is reported and the next one runs.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python3}
REPORT=${OUT:-$ROOT/gpu_check_report}
WHEELS=$ROOT/.gpu_wheels
SITE=${TMPDIR:-/tmp}/timesformer_gpu_site
KINETICS_CFG=configs/Kinetics/TimeSformer_divST_8x32_224.yaml
VIT_B=(--device cuda --embed-dim 768 --depth 12 --heads 12 --classes 400 --batch 8 --frames 8
    --size 224 --modes train --steps 10 --repeats 3 --warmup 3)
VIT_L=(--device cuda --embed-dim 1024 --depth 24 --heads 16 --classes 400 --batch 1 --frames 96
    --size 224 --attention divided_space_time --dtype bf16 --activation-checkpointing
    --modes train --steps 2 --repeats 2 --warmup 1)
BUDGET_S=${GPU_CHECK_BUDGET_S:-450}  # no step starts later, and none runs past it
# name|time limit (s)|command, in order of importance
STEPS=(
    "env|30|env_report"
    "cuda_tests|150|$PYTHON -m pytest -q -p no:cacheprovider -m cuda tests/test_cuda.py"
    "bench_divided_bf16|100|$PYTHON tools/benchmark_model.py ${VIT_B[*]} --attention divided_space_time --dtype bf16 --json $REPORT/bench_divided_bf16.json"
    "bench_large_96x224|120|$PYTHON tools/benchmark_model.py ${VIT_L[*]} --json $REPORT/bench_large_96x224.json"
    "bench_divided_vs_fp32|60|$PYTHON tools/benchmark_model.py ${VIT_B[*]} --attention divided_space_time --dtype bf16 --reference-dtype fp32 --no-memory --json $REPORT/bench_divided_vs_fp32.json"
    "bench_joint_bf16|60|$PYTHON tools/benchmark_model.py ${VIT_B[*]} --attention joint_space_time --dtype bf16 --no-memory --json $REPORT/bench_joint_bf16.json"
    "bench_divided_compiled|90|$PYTHON tools/benchmark_model.py ${VIT_B[*]} --attention divided_space_time --dtype bf16 --compile --no-memory --json $REPORT/bench_divided_compiled.json"
    "loader|120|$PYTHON tools/benchmark.py --cfg $KINETICS_CFG --synthetic --no-long-video --num-videos 16 --cache-dir ${TMPDIR:-/tmp}/timesformer_bench --gpu-clips-per-s-from $REPORT/bench_divided_bf16.json --json $REPORT/loader.json NUM_GPUS 0 DATA_LOADER.NUM_WORKERS 2 BENCHMARK.NUM_EPOCHS 6"
)

env_report() {
    nvidia-smi || true
    "$PYTHON" - <<'EOF'
import platform
import torch
print(f"python {platform.python_version()}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
      f"cuDNN {torch.backends.cudnn.version()}")
for i in range(torch.cuda.device_count()):
    properties = torch.cuda.get_device_properties(i)
    print(f"GPU {i}: {properties.name}, {properties.total_memory / 2**30:.0f} GiB, "
          f"{properties.multi_processor_count} SMs, capability {properties.major}.{properties.minor}")
backends = torch.backends.cuda
print(f"SDPA backends enabled: flash {backends.flash_sdp_enabled()}, "
      f"memory-efficient {backends.mem_efficient_sdp_enabled()}, cudnn {backends.cudnn_sdp_enabled()}, "
      f"math {backends.math_sdp_enabled()}")
for name in ("timm", "transformers", "fvcore", "av", "submitit"):
    try:
        print(f"{name} {__import__(name).__version__}")
    except Exception as error:  # a missing package is reported, not fatal
        print(f"{name}: {type(error).__name__}: {error}")
EOF
}

print_steps() {
    for step in "${STEPS[@]}"; do
        IFS='|' read -r name limit command <<<"$step"
        echo "  $name (at most ${limit}s): $command"
    done
}

prepare_wheels() {
    # Python 3.12 on x86-64 Linux, as the lent GPU machines run; fvcore is published as source only.
    local platforms=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
        --platform manylinux2014_x86_64)
    mkdir -p "$WHEELS"
    "$PYTHON" -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp "${platforms[@]}" -d "$WHEELS" \
        "av>=12.0" "submitit>=1.5" "yacs>=0.1.8" "iopath==0.1.9" "termcolor>=1.1" || return 1
    "$PYTHON" -m pip wheel --no-deps -w "$WHEELS" "fvcore==0.1.5.post20221221" || return 1
    ls -l "$WHEELS"
}

install_wheels() {
    if compgen -G "$WHEELS/*.whl" >/dev/null; then
        "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target "$SITE" "$WHEELS"/*.whl
        export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
    fi
    # The package runs from the clone, not installed.
    export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
}

summary() {
    "$PYTHON" - "$REPORT" <<'EOF'
import json
import os
import sys

report = sys.argv[1]

def rows(name):
    path = os.path.join(report, f"{name}.json")
    return json.load(open(path))["rows"] if os.path.isfile(path) else None

lines = ["| figure | value | target |", "|---|---:|---|"]
bf16, fp32, compiled = rows("bench_divided_bf16"), rows("bench_divided_vs_fp32"), rows("bench_divided_compiled")
joint, large = rows("bench_joint_bf16"), rows("bench_large_96x224")
if bf16:
    row = bf16[0]
    lines.append(f"| ViT-B divided 8x224 train, ours bf16 clips/s | {row['clips_per_s']['ours']:.1f} | |")
    lines.append(f"| ours / Hugging Face, both bf16 autocast | {row['speedup']:.2f}x | >= 1.3x |")
    lines.append(f"| ours MFU (bf16) | {row['mfu']['ours']:.1%} | >= 35% |")
    if "total_peak_mib" in row:
        lines.append(f"| ours whole peak memory | {row['total_peak_mib']['ours'] / 1024:.1f} GiB | |")
if fp32:
    lines.append(f"| ours bf16 / Hugging Face fp32 | {fp32[0]['speedup']:.2f}x | |")
if compiled and bf16:
    gain = compiled[0]["clips_per_s"]["ours"] / bf16[0]["clips_per_s"]["ours"]
    lines.append(f"| torch.compile gain (ours compiled / eager) | {gain:.2f}x | |")
if joint:
    lines.append(f"| joint 8x224 ours / Hugging Face, bf16 | {joint[0]['speedup']:.2f}x | |")
if large and "total_peak_mib" in large[0]:
    lines.append(f"| TimeSformer-L 96x224 batch 1, checkpointed, whole peak | "
                 f"{large[0]['total_peak_mib']['ours'] / 1024:.1f} GiB | < 24 GB |")
loader = rows("loader")
if loader:
    ours = {row["clips_per_video"]: row for row in loader if row["loader"] == "timesformer"}
    if 1 in ours:
        lines.append(f"| loader, 1 clip per video: clips/s per worker / decode floor | "
                     f"{ours[1]['floor_fraction']:.0%} | >= 80% |")
    if 1 in ours and 2 in ours:
        lines.append(f"| loader clips/s, 2 clips per video / 1 | "
                     f"{ours[2]['clips_per_s'] / ours[1]['clips_per_s']:.2f}x | >= 1.5x |")
    for k, row in ours.items():
        if row.get("cores_per_gpu"):
            lines.append(f"| CPU cores (loader workers) one GPU needs, {k} clip(s) per video | "
                         f"{row['cores_per_gpu']:.0f} | |")
print("\n".join(lines))
EOF
}

case ${1:-} in
--prepare-wheels)
    prepare_wheels
    exit $?
    ;;
--dry-run)
    echo "gpu_check: would write the report to $REPORT and run:"
    print_steps
    exit 0
    ;;
"") ;;
*)
    echo "usage: tools/gpu_check.sh [--dry-run | --prepare-wheels]" >&2
    exit 2
    ;;
esac

cd "$ROOT" || exit 1
if ! "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
    echo "gpu_check: no CUDA GPU here; on a GPU machine it would write $REPORT and run:"
    print_steps
    exit 0
fi
mkdir -p "$REPORT"
install_wheels
export PYTHONUNBUFFERED=1
failed=()
started=$SECONDS
for step in "${STEPS[@]}"; do
    IFS='|' read -r name limit command <<<"$step"
    left=$((BUDGET_S - (SECONDS - started)))
    if ((left < 20)); then
        echo "!! $name skipped: the ${BUDGET_S}s budget is spent"
        failed+=("$name")
        continue
    fi
    ((limit > left)) && limit=$left
    echo "== $name (at most ${limit}s, $((SECONDS - started))s so far)"
    if [[ $name == env ]]; then
        env_report >"$REPORT/$name.log" 2>&1
        status=$?
    else
        # shellcheck disable=SC2086  # the command is a word list on purpose
        timeout --kill-after=10 "$limit" $command >"$REPORT/$name.log" 2>&1
        status=$?
    fi
    tail -n 5 "$REPORT/$name.log"
    if [[ $status -ne 0 ]]; then
        echo "!! $name failed (exit status $status); see $REPORT/$name.log"
        failed+=("$name")
    fi
done
for name in bench_divided_bf16 bench_divided_vs_fp32 bench_divided_compiled bench_joint_bf16 bench_large_96x224 loader; do
    [[ -f $REPORT/$name.log ]] && grep '^|' "$REPORT/$name.log" >"$REPORT/$name.md"
done
summary >"$REPORT/summary.md" 2>&1
cat "$REPORT/summary.md"
echo "gpu_check: $(( ${#STEPS[@]} - ${#failed[@]} )) of ${#STEPS[@]} steps passed in $((SECONDS - started))s; report in $REPORT"
[[ ${#failed[@]} -eq 0 ]] || { echo "failed: ${failed[*]}"; exit 1; }
