"""Resizing of the position and time embeddings to another input size or clip length.

Used in the forward pass (a model trained at 8x224 runs at 16x448) and when
weights are loaded into a model of another size (fine-tuning there).

* Position embeddings are resampled over the 2-D patch grid with bicubic
  interpolation (timm's ``resample_abs_pos_embed``, the usual choice for ViTs;
  the official code used nearest-neighbour). The CLS position is kept.
* Time embeddings are resampled over frames with nearest-neighbour
  interpolation, as the official code does.

Both are differentiable, so a model fine-tunes at the new size. The forward
pass resizes on every call (a small interpolation next to the blocks) rather
than caching, so gradients and weight updates always see the current values.
"""

import torch
import torch.nn.functional as F
from timm.layers import resample_abs_pos_embed


def resize_pos_embed(
    pos_embed: torch.Tensor, new_grid: tuple[int, int], old_grid: tuple[int, int] | None = None
) -> torch.Tensor:
    """pos_embed: (1, 1 + h*w, D) over an ``old_grid`` (h, w) -> (1, 1 + H*W, D) over ``new_grid``.

    ``old_grid`` defaults to a square grid.
    """
    return resample_abs_pos_embed(
        pos_embed,
        new_size=list(new_grid),
        old_size=list(old_grid) if old_grid is not None else None,
        num_prefix_tokens=1,
        interpolation="bicubic",
    )


def resize_time_embed(time_embed: torch.Tensor, num_frames: int) -> torch.Tensor:
    """time_embed: (1, T0, D) -> (1, num_frames, D), nearest frame."""
    if time_embed.shape[1] == num_frames:
        return time_embed
    resized = F.interpolate(time_embed.transpose(1, 2), size=num_frames, mode="nearest")
    return resized.transpose(1, 2)
