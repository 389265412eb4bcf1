"""The GPU training rate the loader benchmark's ``--sources mirrors`` assumes unless given one:
an estimate (issue 28's) of one H200 training ViT-B 8x32, and the arithmetic behind it."""

VIT_B_TRAINING_GFLOP_PER_CLIP = 590.0
"""One 8x32 ViT-B training clip: forward, backward and the weights' gradients (about 3 x the
paper's 196 GFLOPs per view)."""

H200_BF16_DENSE_TFLOPS = 989.0
"""One H200's dense bf16 matrix-product peak."""

GPU_CLIPS_PER_S_ESTIMATE = 500.0
"""ViT-B 8x32 training clips/s of one H200, estimated."""


def estimate_note() -> str:
    """How :data:`GPU_CLIPS_PER_S_ESTIMATE` is reached, and the utilization it stands for."""
    tflops = GPU_CLIPS_PER_S_ESTIMATE * VIT_B_TRAINING_GFLOP_PER_CLIP / 1e3
    return (
        f"the default of --sources mirrors, an estimate, not a measurement: one ViT-B 8x32 "
        f"training clip is about {VIT_B_TRAINING_GFLOP_PER_CLIP:.0f} GFLOP, so "
        f"{GPU_CLIPS_PER_S_ESTIMATE:.0f} clips/s x {VIT_B_TRAINING_GFLOP_PER_CLIP:.0f} GFLOP = "
        f"{tflops:.0f} TFLOP/s, {tflops / H200_BF16_DENSE_TFLOPS:.0%} of one H200's "
        f"{H200_BF16_DENSE_TFLOPS:.0f} dense bf16 TFLOP/s; give --gpu-clips-per-s or "
        "--gpu-clips-per-s-from for another"
    )
