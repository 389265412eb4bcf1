"""The two models the model benchmark compares: our ``VisionTransformer`` and Hugging Face's
``TimesformerForVideoClassification`` (the reference, a faithful port of the official code),
with the same weights and shapes; their inputs, and one training step or inference pass of each.

``args`` holds the benchmark's settings, named as ``tools/benchmark_model.py``'s flags
(``size``, ``patch``, ``classes``, ``embed_dim``, ``depth``, ``heads``, ``batch``, ``device``,
``dtype``, ``reference_dtype``, ``compile``, ``optimizer``, ``activation_checkpointing``).
"""

import argparse
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from timesformer.benchmarks.dtype_names import DTYPE_NAMES
from timesformer.checkpoint.hugging_face import to_hf_state_dict
from timesformer.models.vit import VisionTransformer

IMPLEMENTATIONS = ("ours", "reference")
DTYPES = dict(zip(DTYPE_NAMES, (torch.float32, torch.bfloat16), strict=True))
"""The torch dtype of each name of :data:`~timesformer.benchmarks.dtype_names.DTYPE_NAMES`."""


@dataclass(frozen=True)
class Case:
    """One configuration to measure: an attention type at a clip length."""

    attention: str
    frames: int


def build_models(args: argparse.Namespace, case: Case) -> dict[str, nn.Module]:
    """Our model and the reference, with the same random weights, on ``args.device``."""
    from transformers import TimesformerConfig, TimesformerForVideoClassification

    torch.manual_seed(0)
    ours = VisionTransformer(
        img_size=args.size,
        patch_size=args.patch,
        num_classes=args.classes,
        embed_dim=args.embed_dim,
        depth=args.depth,
        num_heads=args.heads,
        drop_path_rate=0.0,
        num_frames=case.frames,
        attention_type=case.attention,
        activation_checkpointing=args.activation_checkpointing,
    )
    config = TimesformerConfig(
        image_size=args.size,
        patch_size=args.patch,
        num_frames=case.frames,
        hidden_size=args.embed_dim,
        num_hidden_layers=args.depth,
        num_attention_heads=args.heads,
        intermediate_size=4 * args.embed_dim,
        attention_type=case.attention,
        layer_norm_eps=1e-6,
        qkv_bias=True,
    )
    config.num_labels = args.classes
    reference = TimesformerForVideoClassification(config)
    reference.load_state_dict(to_hf_state_dict(ours.state_dict()), strict=True)
    if args.activation_checkpointing:
        reference.gradient_checkpointing_enable()
    return {"ours": ours.to(args.device), "reference": reference.to(args.device)}


def build_random_batch(
    args: argparse.Namespace, case: Case, impl: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """A random clip batch in the implementation's own layout, and labels (B,).

    Ours takes (B, 3, T, H, W); the reference takes (B, T, 3, H, W). Both contiguous.
    """
    generator = torch.Generator().manual_seed(1)
    clip = torch.randn(args.batch, 3, case.frames, args.size, args.size, generator=generator)
    if impl == "reference":
        clip = clip.transpose(1, 2).contiguous()
    labels = torch.randint(args.classes, (args.batch,), generator=generator)
    return clip.to(args.device), labels.to(args.device)


def logits_of(model: Callable[..., Any], impl: str, clip: torch.Tensor) -> torch.Tensor:
    """clip in the implementation's layout -> logits (B, classes).

    The reference's space-only model classifies each frame, (B*T, classes); the
    frames' logits are averaged (ours averages the frames' CLS features instead).
    """
    if impl == "ours":
        return model(clip)
    logits = model(pixel_values=clip).logits
    return logits.unflatten(0, (clip.shape[0], -1)).mean(dim=1)


def autocast_for(args: argparse.Namespace, impl: str) -> contextlib.AbstractContextManager:
    """bf16 autocast where the implementation's dtype is bf16, else nothing."""
    dtype = args.dtype if impl == "ours" else args.reference_dtype
    if dtype == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(args.device, dtype=DTYPES[dtype])


def build_step(
    args: argparse.Namespace, case: Case, impl: str, model: nn.Module, mode: str
) -> Callable[[], None]:
    """A function running one training step (or one inference pass) of ``model`` on its batch."""
    clip, labels = build_random_batch(args, case, impl)
    forward = torch.compile(model) if args.compile and impl == "ours" else model
    if mode == "infer":
        model.eval()

        def infer_step() -> None:
            with torch.inference_mode(), autocast_for(args, impl):
                logits_of(forward, impl, clip)

        return infer_step
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=args.optimizer == "fused")

    def train_step() -> None:
        with autocast_for(args, impl):
            loss = F.cross_entropy(logits_of(forward, impl, clip), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    return train_step
