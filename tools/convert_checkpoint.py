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

import argparse
import os
import sys

import torch
import yaml
from fvcore.common.config import CfgNode

from timesformer.utils.checkpoint import (
    CheckpointError,
    check_hf_config,
    convert_hf_state_dict,
    read_checkpoint_file,
    read_hf_config,
    read_state_dict,
    to_hf_state_dict,
    to_model_names,
)

HEAD_WIDTH = 64


def hf_to_pyth(src: str, dst: str) -> None:
    """Hugging Face checkpoint ``src`` -> ``dst``: ``{"model_state": ..., "cfg": YAML}``."""
    hf_config = read_hf_config(src)
    if hf_config is None:
        raise CheckpointError(f"{src}: no config.json beside the weights; a Hugging Face checkpoint needs one.")
    check_hf_config(hf_config, src)
    model_state = convert_hf_state_dict(read_state_dict(src))
    _save_atomically({"model_state": model_state, "cfg": cfg_from_hf_config(hf_config).dump()}, dst)


def pyth_to_hf(src: str, dst: str, num_heads: int | None = None, num_frames: int | None = None) -> None:
    """Our or an official checkpoint ``src`` -> a Hugging Face ``save_pretrained`` directory ``dst``."""
    from transformers import TimesformerConfig, TimesformerForVideoClassification

    state_dict = to_model_names(read_state_dict(src))
    saved_cfg = _saved_cfg(src)
    config = TimesformerConfig(**_hf_config_kwargs(state_dict, saved_cfg, num_heads, num_frames))
    model = TimesformerForVideoClassification(config)
    model.load_state_dict(to_hf_state_dict(state_dict), strict=True)
    model.save_pretrained(dst)


def cfg_from_hf_config(hf_config: dict) -> CfgNode:
    """The config keys that describe the model of a Hugging Face TimesformerConfig dict.

    A partial config: merge it into :func:`get_cfg` with ``merge_from_other_cfg``.
    """
    image_size, patch_size = hf_config.get("image_size", 224), hf_config.get("patch_size", 16)
    hidden_size = hf_config.get("hidden_size", 768)
    return CfgNode(
        {
            "DATA": {
                "TRAIN_CROP_SIZE": image_size if isinstance(image_size, int) else image_size[0],
                "NUM_FRAMES": hf_config.get("num_frames", 8),
            },
            "MODEL": {"NUM_CLASSES": len(hf_config.get("id2label", {})) or hf_config.get("num_labels", 2)},
            "TIMESFORMER": {
                "ATTENTION_TYPE": hf_config.get("attention_type", "divided_space_time"),
                "EMBED_DIM": hidden_size,
                "DEPTH": hf_config.get("num_hidden_layers", 12),
                "NUM_HEADS": hf_config.get("num_attention_heads", 12),
                "PATCH_SIZE": patch_size if isinstance(patch_size, int) else patch_size[0],
                "MLP_RATIO": hf_config.get("intermediate_size", 4 * hidden_size) / hidden_size,
            },
        }
    )


def _saved_cfg(src: str) -> dict:
    """The ``cfg`` stored in a .pyth (a YAML string or dict), or {}."""
    if os.path.isdir(src) or src.endswith(".safetensors"):
        return {}
    checkpoint = read_checkpoint_file(src)
    cfg = checkpoint.get("cfg") if isinstance(checkpoint, dict) else None
    if isinstance(cfg, str):
        cfg = yaml.safe_load(cfg)
    return cfg if isinstance(cfg, dict) else {}


def _hf_config_kwargs(state_dict: dict, saved_cfg: dict, num_heads: int | None, num_frames: int | None) -> dict:
    """TimesformerConfig arguments read from the weights (and the saved cfg where weights are silent)."""
    hidden_size = state_dict["pos_embed"].shape[-1]
    patch_size = state_dict["patch_embed.proj.weight"].shape[-1]
    grid = round((state_dict["pos_embed"].shape[1] - 1) ** 0.5)
    timesformer_cfg = saved_cfg.get("TIMESFORMER", {})
    data_cfg = saved_cfg.get("DATA", {})
    if "time_embed" in state_dict:
        num_frames = state_dict["time_embed"].shape[1]
    return dict(
        image_size=grid * patch_size,
        patch_size=patch_size,
        num_frames=num_frames or data_cfg.get("NUM_FRAMES", 8),
        hidden_size=hidden_size,
        num_hidden_layers=len({key.split(".")[1] for key in state_dict if key.startswith("blocks.")}),
        num_attention_heads=num_heads or timesformer_cfg.get("NUM_HEADS") or hidden_size // HEAD_WIDTH,
        intermediate_size=state_dict["blocks.0.mlp.fc1.weight"].shape[0],
        attention_type=_attention_type(state_dict),
        num_labels=state_dict["head.weight"].shape[0],
        layer_norm_eps=1e-6,
        qkv_bias=True,
    )


def _attention_type(state_dict: dict) -> str:
    if "blocks.0.temporal_attn.qkv.weight" in state_dict:
        return "divided_space_time"
    return "joint_space_time" if "time_embed" in state_dict else "space_only"


def _save_atomically(obj: dict, dst: str) -> None:
    folder = os.path.dirname(os.path.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    partial = dst + ".partial"
    torch.save(obj, partial)
    os.replace(partial, dst)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", help="checkpoint to convert")
    parser.add_argument("dst", help="output .pyth file, or with --to hf an output directory")
    parser.add_argument("--to", choices=("pyth", "hf"), default="pyth", help="output format (default: pyth)")
    parser.add_argument("--num-heads", type=int, help="--to hf: attention heads (default: cfg, else EMBED_DIM / 64)")
    parser.add_argument("--num-frames", type=int, help="--to hf, space_only: frames (default: cfg, else 8)")
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
