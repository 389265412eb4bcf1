"""Spatial transforms of a clip, and the train and test pipelines built from them.

The primitives take frames as (T, C, H, W) tensors (T acts as the batch of
``torch.nn.functional.interpolate``); the pipelines take the decoder's
(T, H, W, 3) uint8 frames and return the model's float (C, T, H, W) input.
Resizing and cropping run on uint8 frames in channels-last layout (PyTorch's fast
path, about 10x faster than float); only the final crop is converted to float.
Randomness comes from ``numpy.random``, which the loader seeds per worker; the optional clip
augmentation of training clips (AUG, :mod:`timesformer.datasets.clip_augment`) also draws from
Python's ``random`` and torch's generator.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from timesformer.config.checks import register_allowed_values
from timesformer.datasets.clip_augment import ClipAugment

CENTER_CROP = 1
"""``spatial_idx`` of the center crop; 0 and 2 are left/right (top/bottom when portrait)."""
SPATIAL_CROP_COUNTS = (1, 3)
"""TEST.NUM_SPATIAL_CROPS: the center crop alone, or the crops at ``spatial_idx`` 0, 1, 2."""

register_allowed_values("TEST.NUM_SPATIAL_CROPS", lambda: SPATIAL_CROP_COUNTS)


def short_side_scale(frames: torch.Tensor, size: int) -> torch.Tensor:
    """Resize so that the short side is ``size``, keeping the aspect ratio.

    Args:
        frames: (T, C, H, W), uint8 (best in channels-last memory layout) or float.
    Returns:
        (T, C, H', W') with ``min(H', W') == size`` (long side floored).
    """
    height, width = frames.shape[-2:]
    if min(height, width) == size:
        return frames
    if width < height:
        new_height, new_width = int(math.floor(height / width * size)), size
    else:
        new_height, new_width = size, int(math.floor(width / height * size))
    return F.interpolate(frames, size=(new_height, new_width), mode="bilinear", align_corners=False)


def random_short_side(min_size: int, max_size: int, inverse_uniform: bool) -> int:
    """A short-side length in ``[min_size, max_size]``: uniform, or the inverse of a
    uniform sample in ``[1 / max_size, 1 / min_size]`` (favours smaller scales)."""
    if inverse_uniform:
        return int(round(1.0 / np.random.uniform(1.0 / max_size, 1.0 / min_size)))
    return int(round(np.random.uniform(min_size, max_size)))


def random_crop(frames: torch.Tensor, size: int) -> torch.Tensor:
    """The same random ``size`` x ``size`` window of every frame:
    (T, C, H, W) -> (T, C, size, size)."""
    height, width = frames.shape[-2:]
    top = np.random.randint(0, height - size + 1)
    left = np.random.randint(0, width - size + 1)
    return frames[..., top : top + size, left : left + size]


def uniform_crop(frames: torch.Tensor, size: int, spatial_idx: int) -> torch.Tensor:
    """Crop 0, 1 or 2 of three along the long side (left/center/right, or
    top/center/bottom for portrait frames): (T, C, H, W) -> (T, C, size, size)."""
    height, width = frames.shape[-2:]
    top = int(math.ceil((height - size) / 2))
    left = int(math.ceil((width - size) / 2))
    if spatial_idx != CENTER_CROP:
        at_end = spatial_idx == 2
        if height > width:
            top = height - size if at_end else 0
        else:
            left = width - size if at_end else 0
    return frames[..., top : top + size, left : left + size]


def random_horizontal_flip(frames: torch.Tensor, probability: float = 0.5) -> torch.Tensor:
    """Mirror all frames left-right with ``probability``: (T, C, H, W) -> same."""
    return frames.flip(-1) if np.random.uniform() < probability else frames


def normalize_to_cthw(frames: torch.Tensor, mean, std) -> torch.Tensor:
    """(pixels / 255 - mean) / std per channel, as the model's layout.

    Args:
        frames: (T, C, H, W) pixels in [0, 255], any dtype and memory layout.
    Returns:
        (C, T, H, W) float32, contiguous.
    """
    scale = torch.tensor([1.0 / (255.0 * s) for s in std]).view(-1, 1, 1, 1)
    shift = torch.tensor([m / s for m, s in zip(mean, std, strict=True)]).view(-1, 1, 1, 1)
    cthw = frames.permute(1, 0, 2, 3).to(torch.float32, memory_format=torch.contiguous_format)
    return cthw.mul_(scale).sub_(shift)


def _as_tchw(frames_thwc: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(T, H, W, C) -> (T, C, H, W) view in channels-last memory layout (no copy)."""
    return torch.as_tensor(frames_thwc).permute(0, 3, 1, 2)


def _finish(frames: torch.Tensor, mean, std, reverse_channels: bool) -> torch.Tensor:
    if reverse_channels:
        frames = frames.flip(1)
        mean, std = mean[::-1], std[::-1]
    return normalize_to_cthw(frames, mean, std)


def train_view(
    frames_thwc,
    jitter_scales: tuple[int, int],
    crop_size: int,
    inverse_uniform: bool,
    flip: bool,
    mean,
    std,
    reverse_channels: bool = False,
    augment: ClipAugment | None = None,
) -> torch.Tensor:
    """Training augmentation: random short-side scale, random crop, optional flip, then the
    optional clip augmentation's RandAugment (on the uint8 RGB crop), normalize, and its random
    erasing (on the normalized clip); ``augment`` None draws exactly what it drew without it.

    Args:
        frames_thwc: (T, H, W, 3) uint8 RGB.
    Returns:
        (3, T, crop_size, crop_size) float.
    """
    frames = _as_tchw(frames_thwc)
    frames = short_side_scale(frames, random_short_side(*jitter_scales, inverse_uniform))
    frames = random_crop(frames, crop_size)
    if flip:
        frames = random_horizontal_flip(frames)
    if augment is None:
        return _finish(frames, mean, std, reverse_channels)
    frames = augment.augment_frames(frames)
    return augment.erase(_finish(frames, mean, std, reverse_channels))


def test_view(
    frames_thwc,
    crop_size: int,
    spatial_idx: int,
    mean,
    std,
    reverse_channels: bool = False,
    short_side: int | None = None,
) -> torch.Tensor:
    """Deterministic test view: short side to ``short_side`` (default ``crop_size``), then crop
    ``spatial_idx`` of 3, of side ``crop_size``.

    Args:
        frames_thwc: (T, H, W, 3) uint8 RGB.
        spatial_idx: 0, 1 (center) or 2.
    Returns:
        (3, T, crop_size, crop_size) float.
    """
    frames = short_side_scale(_as_tchw(frames_thwc), short_side or crop_size)
    return _finish(uniform_crop(frames, crop_size, spatial_idx), mean, std, reverse_channels)
