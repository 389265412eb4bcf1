"""Clip augmentation of training clips (AUG): timm's RandAugment and random erasing, drawn once
per clip and applied identically to all its frames, so that a clip never flickers.

RandAugment (AUG.AA_TYPE) runs on the uint8 crop, frame by frame through PIL; it draws its ops
from ``numpy.random`` and their magnitudes (and signs) from Python's ``random``, so both
generators are put back in the clip's start state before each frame: every frame gets the same
ops with the same magnitudes, and afterwards the generators are where one draw leaves them (the
next clip draws anew). Its ops (``timm.data.auto_augment._RAND_TRANSFORMS`` and the increasing
set: AutoContrast, Equalize, Invert, Rotate, Posterize, Solarize, SolarizeAdd, Color, Contrast,
Brightness, Sharpness, ShearX/Y, TranslateX/YRel) include no horizontal flip, so datasets whose
labels depend on left and right (SSv2, ``random_flip_allowed = False``) stay unflipped.

Random erasing (AUG.RE_PROB) runs on the normalized clip: timm's ``RandomErasing`` draws the
rectangle(s) and their fill (Python's ``random``; ``torch``'s generator for the "rand" and
"pixel" fills) once, on one frame-sized probe, and the same rectangles with the same fill are
written into every frame. The loader seeds all three generators per worker.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from timm.data.auto_augment import RandAugment, rand_augment_transform
from timm.data.random_erasing import RandomErasing
from timm.data.transforms import str_to_pil_interp

from timesformer.config.checks import ConfigError

TRANSLATE_FRACTION = 0.45
"""RandAugment's largest translation as a fraction of the crop side (timm's create_transform)."""


def rand_augment_hparams(crop_size: int, mean, interpolation: str) -> dict:
    """The hparams timm's ``create_transform`` gives RandAugment for a ``crop_size`` crop: the
    largest translation in pixels, the fill colour of uncovered pixels (``mean`` in 0..1 as
    0..255 RGB) and the interpolation of the geometric ops ("bilinear" or "bicubic")."""
    return {
        "translate_const": int(crop_size * TRANSLATE_FRACTION),
        "img_mean": tuple(min(255, round(255 * m)) for m in mean),
        "interpolation": str_to_pil_interp(interpolation),
    }


def build_rand_augment(aa_type: str, hparams: dict) -> RandAugment:
    """timm's RandAugment of the config string ``aa_type`` (AUG.AA_TYPE).

    Raises:
        ConfigError: timm cannot read ``aa_type``.
    """
    try:
        return rand_augment_transform(aa_type, dict(hparams))
    except (AssertionError, ValueError) as error:
        reason = str(error) or "not its form"
        raise ConfigError(
            f"AUG.AA_TYPE is {aa_type!r}; timm's RandAugment cannot read it ({reason}); "
            "expected e.g. 'rand-m7-n4-mstd0.5-inc1', or '' for none."
        ) from error


def _same_draws_per_frame(frame_count: int) -> Iterator[int]:
    """Yield 0 .. frame_count - 1, with Python's and numpy's generators put back before each
    frame in the state they had at the first: the frames draw the same numbers, and the
    generators end as one draw leaves them."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    for index in range(frame_count):
        if index:
            random.setstate(python_state)
            np.random.set_state(numpy_state)
        yield index


def rand_augment_clip(frames: torch.Tensor, rand_augment: RandAugment) -> torch.Tensor:
    """The same RandAugment ops and magnitudes on every frame (one PIL round trip per frame).

    Args:
        frames: (T, 3, H, W) uint8 RGB, any memory layout.
    Returns:
        (T, 3, H, W) uint8 RGB, in channels-last memory layout.
    """
    frames_thwc = np.ascontiguousarray(frames.permute(0, 2, 3, 1).numpy())
    augmented = np.empty_like(frames_thwc)
    for index in _same_draws_per_frame(len(frames_thwc)):
        augmented[index] = np.asarray(rand_augment(Image.fromarray(frames_thwc[index])))
    return torch.from_numpy(augmented).permute(0, 3, 1, 2)


def erase_clip(clip: torch.Tensor, random_erasing: RandomErasing) -> torch.Tensor:
    """Random erasing with the same rectangle(s) and fill in every frame.

    timm draws on a NaN probe of one frame's size; the pixels it fills are copied into every
    frame (a clip it leaves alone is returned as it is).

    Args:
        clip: (C, T, H, W) float, normalized.
    Returns:
        (C, T, H, W), the same dtype.
    """
    channels, _, height, width = clip.shape
    probe = torch.full((channels, height, width), float("nan"), dtype=clip.dtype)
    random_erasing(probe)
    erased = ~probe[0].isnan()  # (H, W): timm fills all channels of a rectangle
    if not bool(erased.any()):
        return clip
    return torch.where(erased, probe[:, None], clip)


@dataclass(frozen=True)
class ClipAugment:
    """The clip augmentation of AUG: either part None when it is off."""

    rand_augment: RandAugment | None
    random_erasing: RandomErasing | None

    def augment_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """RandAugment, if on: (T, 3, H, W) uint8 RGB -> the same shape and dtype."""
        if self.rand_augment is None:
            return frames
        return rand_augment_clip(frames, self.rand_augment)

    def erase(self, clip: torch.Tensor) -> torch.Tensor:
        """Random erasing, if on: (C, T, H, W) normalized float -> the same."""
        if self.random_erasing is None:
            return clip
        return erase_clip(clip, self.random_erasing)


def build_clip_augment(cfg) -> ClipAugment | None:
    """The training clips' augmentation of ``cfg.AUG`` for crops of DATA.TRAIN_CROP_SIZE;
    None when AUG.ENABLE is False or neither part is on (AA_TYPE "", RE_PROB 0).

    Raises:
        ConfigError: timm cannot read AUG.AA_TYPE.
    """
    aug = cfg.AUG
    if not aug.ENABLE or (not aug.AA_TYPE and aug.RE_PROB == 0):
        return None
    rand_augment = None
    if aug.AA_TYPE:
        hparams = rand_augment_hparams(cfg.DATA.TRAIN_CROP_SIZE, cfg.DATA.MEAN, aug.INTERPOLATION)
        rand_augment = build_rand_augment(aug.AA_TYPE, hparams)
    random_erasing = None
    if aug.RE_PROB > 0:
        random_erasing = RandomErasing(
            probability=aug.RE_PROB, mode=aug.RE_MODE, max_count=aug.RE_COUNT, device="cpu"
        )
    return ClipAugment(rand_augment, random_erasing)
