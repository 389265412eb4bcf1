"""Spatial transforms and the train/test view pipelines (transform.py)."""

import numpy as np
import pytest
import torch

from helpers import MEAN, ONE_LEVEL, STD, original_test_view
from timesformer.datasets import transform


def column_coded(t: int, height: int, width: int) -> np.ndarray:
    """(T, H, W, 3) uint8 frames whose red channel is the column x, green the row y."""
    frames = np.zeros((t, height, width, 3), dtype=np.uint8)
    frames[..., 0] = np.arange(width, dtype=np.uint8)[None, None, :]
    frames[..., 1] = np.arange(height, dtype=np.uint8)[None, :, None]
    return frames


def tchw(frames_thwc: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frames_thwc).permute(0, 3, 1, 2)


@pytest.mark.parametrize(
    "shape, size, expected",
    [((48, 64), 32, (32, 42)), ((64, 48), 32, (42, 32)), ((40, 40), 40, (40, 40))],
)
def test_short_side_scale_keeps_aspect_ratio(shape, size, expected):
    frames = tchw(column_coded(2, *shape))
    assert tuple(transform.short_side_scale(frames, size).shape) == (2, 3, *expected)


def test_uniform_crop_left_center_right_for_landscape():
    frames = tchw(column_coded(1, 32, 64))
    first_columns = [int(transform.uniform_crop(frames, 32, idx)[0, 0, 0, 0]) for idx in (0, 1, 2)]
    assert first_columns == [0, 16, 32]


def test_uniform_crop_top_center_bottom_for_portrait():
    frames = tchw(column_coded(1, 64, 32))
    first_rows = [int(transform.uniform_crop(frames, 32, idx)[0, 1, 0, 0]) for idx in (0, 1, 2)]
    assert first_rows == [0, 16, 32]


def test_random_crop_is_the_same_window_for_all_frames_and_varies():
    np.random.seed(0)
    frames = tchw(column_coded(3, 40, 60))
    corners = set()
    for _ in range(20):
        crop = transform.random_crop(frames, 32)
        assert crop.shape == (3, 3, 32, 32)
        assert torch.equal(crop[0], crop[2])
        corners.add((int(crop[0, 1, 0, 0]), int(crop[0, 0, 0, 0])))
    assert len(corners) > 5 and all(y <= 8 and x <= 28 for y, x in corners)


@pytest.mark.parametrize("inverse_uniform", [False, True])
def test_jitter_scale_stays_in_range(inverse_uniform):
    np.random.seed(0)
    sizes = {transform.random_short_side(256, 320, inverse_uniform) for _ in range(200)}
    assert min(sizes) >= 256 and max(sizes) <= 320 and len(sizes) > 20


def test_train_view_shape_normalization_and_flip():
    np.random.seed(0)
    frames = column_coded(4, 48, 64)
    views = [transform.train_view(frames, (40, 48), 32, False, True, MEAN, STD) for _ in range(20)]
    assert all(v.shape == (3, 4, 32, 32) and v.dtype == torch.float32 for v in views)
    red_rising = [bool(v[0, 0, 0, -1] > v[0, 0, 0, 0]) for v in views]
    assert any(red_rising) and not all(red_rising)  # some views flipped, some not
    unflipped = [
        transform.train_view(frames, (40, 48), 32, False, False, MEAN, STD) for _ in range(10)
    ]
    assert all(v[0, 0, 0, -1] > v[0, 0, 0, 0] for v in unflipped)


def test_normalize_uses_mean_and_std_on_unit_pixels():
    gray = np.full((2, 32, 32, 3), 255, dtype=np.uint8)
    view = transform.test_view(gray, 32, 1, [0.5, 0.25, 0.0], [0.5, 0.25, 1.0])
    assert torch.allclose(view[:, 0, 0, 0], torch.tensor([1.0, 3.0, 1.0]))


def test_reverse_input_channel_swaps_red_and_blue_after_normalizing():
    frames = np.zeros((1, 32, 32, 3), dtype=np.uint8)
    frames[..., 0] = 255
    view = transform.test_view(
        frames, 32, 1, [0.0, 0.0, 0.5], [1.0, 1.0, 1.0], reverse_channels=True
    )
    assert torch.allclose(view[:, 0, 0, 0], torch.tensor([-0.5, 0.0, 1.0]))


def test_test_view_is_deterministic_and_crops_differ():
    frames = column_coded(2, 48, 96)
    crops = [transform.test_view(frames, 32, idx, MEAN, STD) for idx in (0, 1, 2)]
    assert all(c.shape == (3, 2, 32, 32) for c in crops)
    assert torch.equal(crops[1], transform.test_view(frames, 32, 1, MEAN, STD))
    assert crops[0][0, 0, 0, 0] < crops[1][0, 0, 0, 0] < crops[2][0, 0, 0, 0]


"""One 8-bit level (normalized; measured at most 1.0014): the most resizing uint8 frames moves
a pixel from the original's resizing of float ones. A box off by one pixel moves noise pixels by
tens of levels."""


@pytest.mark.parametrize(
    "height, width, box",
    [
        (240, 320, (256, 341, 16, 59)),  # the example
        (320, 240, (341, 256, 59, 16)),
        (272, 640, (256, 602, 16, 189)),
    ],
)
def test_one_crop_test_view_is_the_originals_box(height, width, box):
    """1 crop (Kinetics): short side to TRAIN_JITTER_SCALES[0] = 256, centre 224 crop."""
    frames = np.random.default_rng(0).integers(0, 256, (2, height, width, 3), dtype=np.uint8)
    expected, original_box = original_test_view(frames, 256, 224, 1, MEAN, STD)
    assert original_box == box
    view = transform.test_view(frames, 224, transform.CENTER_CROP, MEAN, STD, short_side=256)
    torch.testing.assert_close(view, expected, atol=ONE_LEVEL, rtol=0)


@pytest.mark.parametrize("spatial_idx", [0, 1, 2])
@pytest.mark.parametrize("height, width", [(240, 320), (320, 240)])
def test_three_crop_test_views_are_the_originals_boxes(height, width, spatial_idx):
    frames = np.random.default_rng(1).integers(0, 256, (2, height, width, 3), dtype=np.uint8)
    expected, _ = original_test_view(frames, 224, 224, spatial_idx, MEAN, STD)
    view = transform.test_view(frames, 224, spatial_idx, MEAN, STD)
    torch.testing.assert_close(view, expected, atol=ONE_LEVEL, rtol=0)
