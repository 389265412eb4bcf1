"""Figures of :class:`~timesformer.visualization.attention_maps.AttentionMaps`: heat maps over
the frames, and the frame-to-frame attention of each block."""

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from timesformer.models.attention_types import attention_spec
from timesformer.visualization.attention_maps import AttentionMaps


def displayable_frames(clip: torch.Tensor, mean, std, reverse_channels: bool = False) -> np.ndarray:
    """Undo the test transform: clip (3, T, H, W) normalized -> (T, H, W, 3) uint8 RGB, as the model
    saw it."""
    mean, std = list(mean), list(std)
    if reverse_channels:
        clip, mean, std = clip.flip(0), mean[::-1], std[::-1]
    pixels = clip * torch.tensor(std).view(3, 1, 1, 1) + torch.tensor(mean).view(3, 1, 1, 1)
    return (pixels.clamp(0, 1) * 255).round().byte().permute(1, 2, 3, 0).numpy()


def upsampled(maps: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    """maps (T, h, w) -> (T, H, W) bilinear, scaled to [0, 1] over all frames together."""
    large = F.interpolate(
        maps.unsqueeze(1).float(), size=size, mode="bilinear", align_corners=False
    )[:, 0]
    low, high = large.min(), large.max()
    return ((large - low) / (high - low).clamp_min(1e-12)).numpy()


def spatial_attention_figure(frames: np.ndarray, maps: AttentionMaps, title: str = "") -> Figure:
    """Rows: the frames, CLS attention of the last block overlaid, rollout overlaid; one column per
    frame.

    frames: (T, H, W, 3) uint8.
    """
    num_frames, height, width = frames.shape[:3]
    rows = {
        "frames": None,
        "CLS attention (last block)": maps.cls_attention,
        "attention rollout": maps.rollout,
    }
    figure = Figure(figsize=(2 * num_frames, 2 * len(rows) + 0.4), layout="constrained")
    axes = figure.subplots(len(rows), num_frames, squeeze=False)
    for row, (label, values) in enumerate(rows.items()):
        heat = upsampled(values, (height, width)) if values is not None else None
        for t in range(num_frames):
            axis = axes[row, t]
            axis.imshow(frames[t])
            if heat is not None:
                axis.imshow(heat[t], cmap="jet", alpha=0.5, vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title(f"frame {t}", fontsize=8)
        axes[row, 0].set_ylabel(label, fontsize=8)
    figure.suptitle(title, fontsize=9)
    return figure


def temporal_attention_figure(
    temporal: torch.Tensor, attention_type: str, title: str = ""
) -> Figure:
    """One (T, T) heat map per block: rows the query frame, columns the attended frame.

    temporal: (depth, T, T).
    """
    depth = temporal.shape[0]
    columns = min(depth, 6)
    rows = (depth + columns - 1) // columns
    figure = Figure(figsize=(2.4 * columns + 0.8, 2.2 * rows + 0.6), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for index, axis in enumerate(axes.flat):
        if index >= depth:
            axis.axis("off")
            continue
        image = axis.imshow(temporal[index].numpy(), cmap="viridis", vmin=0, vmax=1)
        axis.set_xticks(range(temporal.shape[1]))
        axis.set_yticks(range(temporal.shape[1]))
        axis.set_title(f"block {index}", fontsize=8)
        axis.set_xlabel("attended frame", fontsize=7)
        axis.set_ylabel("query frame", fontsize=7)
        axis.tick_params(labelsize=6)
    figure.colorbar(image, ax=axes, shrink=0.8)
    separate = attention_spec(attention_type).tokens.separate_frames
    note = " (frames never attend to each other)" if separate else ""
    figure.suptitle(f"{title}\ntemporal attention, {attention_type}{note}", fontsize=9)
    return figure


def save_figure(figure: Figure, path: str) -> str:
    """Write ``figure`` as PNG to ``path``; returns ``path``."""
    figure.savefig(path, dpi=100)
    return path
