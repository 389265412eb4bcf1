#!/usr/bin/env python3
"""Convert TimeSformer checkpoints between Hugging Face transformers and this project.

    python tools/convert_checkpoint.py SRC DST             # Hugging Face -> our .pyth
    python tools/convert_checkpoint.py SRC DST --to hf     # ours / official .pyth -> Hugging Face

SRC for the first form is a ``save_pretrained`` directory (config.json +
model.safetensors or pytorch_model.bin) or its weights file; DST is written as
a dict with ``model_state`` (official names) and ``cfg`` (the model's keys, as
YAML). For ``--to hf``, SRC is a ``.pyth`` (or bare state dict) and DST a
directory written by ``TimesformerForVideoClassification.save_pretrained``.
The number of attention heads cannot be read from weights: it comes from
``--num-heads``, else the checkpoint's cfg, else EMBED_DIM / 64 (ViT's head width).
"""

import os
import sys

import torch

from timesformer.models.hugging_face import (
    cfg_from_hf_config,
    check_hf_config,
    convert_hf_state_dict,
    hf_config_kwargs,
    saved_cfg_dict,
    to_hf_state_dict,
)
from timesformer.models.weight_files import (
    CheckpointError,
    read_checkpoint_file,
    read_hf_config,
    read_state_dict,
)
from timesformer.models.weights import to_model_names
from timesformer.utils.file_io import atomic_write
from timesformer.utils.parser import build_arg_parser


def hf_to_pyth(src: str, dst: str) -> None:
    """Hugging Face checkpoint ``src`` -> ``dst``: ``{"model_state": ..., "cfg": YAML}``."""
    hf_config = read_hf_config(src)
    if hf_config is None:
        raise CheckpointError(
            f"{src}: no config.json beside the weights; a Hugging Face checkpoint needs one."
        )
    check_hf_config(hf_config, src)
    model_state = convert_hf_state_dict(read_state_dict(src))
    with atomic_write(dst) as stream:
        torch.save(
            {"model_state": model_state, "cfg": cfg_from_hf_config(hf_config).dump()}, stream
        )


def pyth_to_hf(
    src: str, dst: str, num_heads: int | None = None, num_frames: int | None = None
) -> None:
    """Our or an official checkpoint ``src`` -> a Hugging Face ``save_pretrained`` directory
    ``dst``."""
    from transformers import TimesformerConfig, TimesformerForVideoClassification

    state_dict = to_model_names(read_state_dict(src))
    is_pytorch_file = not (os.path.isdir(src) or src.endswith(".safetensors"))
    saved_cfg = saved_cfg_dict(read_checkpoint_file(src)) if is_pytorch_file else {}
    config = TimesformerConfig(**hf_config_kwargs(state_dict, saved_cfg, num_heads, num_frames))
    model = TimesformerForVideoClassification(config)
    model.load_state_dict(to_hf_state_dict(state_dict), strict=True)
    model.save_pretrained(dst)


def main(argv: list[str] | None = None) -> int:
    parser = build_arg_parser(__doc__, config=False)
    parser.add_argument("src", help="checkpoint to convert")
    parser.add_argument("dst", help="output .pyth file, or with --to hf an output directory")
    parser.add_argument(
        "--to", choices=("pyth", "hf"), default="pyth", help="output format (default: pyth)"
    )
    parser.add_argument(
        "--num-heads", type=int, help="--to hf: attention heads (default: cfg, else EMBED_DIM / 64)"
    )
    parser.add_argument(
        "--num-frames", type=int, help="--to hf, space_only: frames (default: cfg, else 8)"
    )
    args = parser.parse_args(argv)
    try:
        if args.to == "hf":
            pyth_to_hf(args.src, args.dst, args.num_heads, args.num_frames)
        else:
            hf_to_pyth(args.src, args.dst)
    except CheckpointError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"Wrote {args.dst}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
