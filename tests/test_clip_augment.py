"""timesformer/datasets/clip_augment.py (AUG) with transform.train_view and ClipDataset: timm's
RandAugment and random erasing drawn once per clip, the same in every frame; off by default,
and then the training transform draws exactly what it drew before; never on val/test."""

import random

import numpy as np
import pytest
import torch
from PIL import Image
from timm.data.auto_augment import NAME_TO_OP
from timm.data.random_erasing import RandomErasing

from helpers import TINY_VIDEO_DATA, tiny_cfg
from timesformer.config.checks import ConfigError
from timesformer.datasets import build_dataset, transform
from timesformer.datasets.clip_augment import (
    build_clip_augment,
    build_rand_augment,
    erase_clip,
    rand_augment_clip,
    rand_augment_hparams,
)
from timesformer.utils.rng import set_seed

HPARAMS = rand_augment_hparams(32, [0.45, 0.45, 0.45], "bicubic")
AA_TYPES = ["rand-m9-n2-mstd0", "rand-m9-n4-mstd0.5-inc1"]  # a fixed op set; magnitude noise
AUG_ON = ["AUG.ENABLE", "True", "AUG.RE_PROB", "1.0"]


def textured_frame(seed: int, size: int = 32) -> np.ndarray:
    """(size, size, 3) uint8: a colour ramp with noise, that every RandAugment op changes."""
    ramp = np.linspace(0, 200, size)
    frame = np.stack(np.broadcast_arrays(ramp[:, None], ramp[None, :], ramp[::-1, None]), -1)
    noise = np.random.default_rng(seed).integers(0, 50, (size, size, 3))
    return (frame + noise).astype(np.uint8)


def as_tchw(frames_thwc: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frames_thwc).permute(0, 3, 1, 2)


def generator_states() -> tuple:
    return random.getstate(), np.random.get_state()[1].tolist(), torch.get_rng_state()


def aug_cfg(data_dir: str = "", *overrides: str):
    return tiny_cfg(data_dir, "", *TINY_VIDEO_DATA, *overrides)


@pytest.mark.parametrize("aa_type", AA_TYPES)
def test_a_clip_of_identical_frames_stays_identical_and_changes(aa_type):
    """Over 10 draws; each op applies with probability 0.5, so some draws change nothing."""
    rand_augment = build_rand_augment(aa_type, HPARAMS)
    changed = 0
    for seed in range(10):
        clip = as_tchw(np.stack([textured_frame(seed)] * 6))
        random.seed(seed)
        np.random.seed(seed)
        augmented = rand_augment_clip(clip, rand_augment)
        assert augmented.shape == (6, 3, 32, 32) and augmented.dtype == torch.uint8
        assert all(torch.equal(frame, augmented[0]) for frame in augmented)
        changed += not torch.equal(augmented[0], clip[0])
    assert changed >= 5


@pytest.mark.parametrize("aa_type", AA_TYPES)
def test_every_frame_gets_the_ops_and_magnitudes_the_first_frame_drew(aa_type):
    """The ops' calls are recorded: one sequence per frame, all equal (over 6 draws, most of
    which apply ops); and each frame is what timm's RandAugment makes of it alone, from the
    clip's starting generator states."""
    rand_augment = build_rand_augment(aa_type, HPARAMS)
    calls: list = []
    for op in rand_augment.ops:
        op.aug_fn = recording(op.name, op.aug_fn, calls)

    def per_frame(image):
        calls.append("frame")
        return rand_augment(image)

    clip = np.stack([textured_frame(seed) for seed in range(5)])
    applied = 0
    for seed in range(6):
        calls.clear()
        random.seed(seed)
        np.random.seed(seed)
        augmented = rand_augment_clip(as_tchw(clip), per_frame)  # type: ignore[arg-type]
        per_frame_calls = split_at_frames(calls)
        assert len(per_frame_calls) == 5
        applied += bool(per_frame_calls[0])
        assert all(frame_calls == per_frame_calls[0] for frame_calls in per_frame_calls)
        for frame, expected in zip(augmented, clip, strict=True):
            random.seed(seed)
            np.random.seed(seed)
            alone = np.asarray(rand_augment(Image.fromarray(expected)))
            assert np.array_equal(frame.permute(1, 2, 0).numpy(), alone)
    assert applied >= 3


def recording(name: str, aug_fn, calls: list):
    """``aug_fn`` that appends (op name, its arguments) to ``calls``."""

    def record(image, *args, **kwargs):
        calls.append((name, args, tuple(sorted(kwargs.items()))))
        return aug_fn(image, *args, **kwargs)

    return record


def split_at_frames(calls: list) -> list[list]:
    frames: list[list] = []
    for call in calls:
        if call == "frame":
            frames.append([])
        else:
            frames[-1].append(call)
    return frames


def test_the_generators_end_as_one_draw_leaves_them_and_the_next_clip_draws_anew():
    rand_augment = build_rand_augment(AA_TYPES[1], HPARAMS)
    clip = np.stack([textured_frame(0)] * 4)
    set_seed(3)
    first = rand_augment_clip(as_tchw(clip), rand_augment)
    after_clip = generator_states()
    second = rand_augment_clip(as_tchw(clip), rand_augment)
    set_seed(3)
    rand_augment(Image.fromarray(clip[0]))
    assert generator_states()[:2] == after_clip[:2]
    assert not torch.equal(first, second)  # with K > 1 clips per video each draws its own


@pytest.mark.parametrize("mode", ["const", "rand", "pixel"])
@pytest.mark.parametrize("count", [1, 3])
def test_random_erasing_erases_the_same_rectangles_with_the_same_fill_in_every_frame(mode, count):
    erasing = RandomErasing(probability=1.0, mode=mode, max_count=count, device="cpu")
    for seed in range(5):
        set_seed(seed)
        clip = torch.rand(3, 4, 32, 32) + 10  # no pixel is a fill value
        erased = erase_clip(clip.clone(), erasing)
        changed = erased != clip
        assert changed[:, 0].any()
        assert all(torch.equal(changed[:, t], changed[:, 0]) for t in range(4))
        fills = [erased[:, t][changed[:, t]] for t in range(4)]
        assert all(torch.equal(fill, fills[0]) for fill in fills)
        if mode == "const":
            assert (fills[0] == 0).all()
        if count == 1:  # one rectangle: its bounding box is all erased
            rows, cols = changed[0, 0].nonzero().unbind(1)
            box = changed[0, 0, rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
            assert box.all()


def test_a_clip_random_erasing_leaves_alone_is_returned_as_it_is():
    clip = torch.rand(3, 4, 32, 32)
    assert erase_clip(clip, RandomErasing(probability=0.0, device="cpu")) is clip


def test_aug_is_off_by_default_and_then_the_train_item_is_bit_identical(kinetics_dir):
    cfg = aug_cfg(kinetics_dir, "AUG.RE_PROB", "1.0")  # AUG.ENABLE False: the other keys idle
    assert not cfg.AUG.ENABLE and build_clip_augment(cfg) is None
    dataset = build_dataset("kinetics", cfg, "train")
    assert dataset.clip_augment is None
    for index in (0, 1):
        frames, expected, drawn, expected_drawn = item_and_unaugmented(cfg, dataset, index, 5)
        assert torch.equal(frames, expected)
        assert drawn[0] == expected_drawn[0] and drawn[1] == expected_drawn[1]
        assert torch.equal(drawn[2], expected_drawn[2])


def item_and_unaugmented(cfg, dataset, index: int, seed: int):
    """(the dataset's frames of ``index``, train_view's without augmentation, each with the
    generator states after it), both from ``set_seed(seed)``."""
    set_seed(seed)
    frames = dataset[index][0]
    drawn = generator_states()
    set_seed(seed)
    data = cfg.DATA
    expected = transform.train_view(
        dataset.load_frames(index, -1),
        tuple(data.TRAIN_JITTER_SCALES),
        data.TRAIN_CROP_SIZE,
        data.INV_UNIFORM_SAMPLE,
        data.RANDOM_FLIP,
        data.MEAN,
        data.STD,
    )
    return frames, expected, drawn, generator_states()


def test_validation_and_test_items_are_never_augmented(kinetics_dir):
    on, off = aug_cfg(kinetics_dir, *AUG_ON), aug_cfg(kinetics_dir)
    val = build_dataset("kinetics", on, "val")
    assert val.clip_augment is None
    frames, expected, drawn, expected_drawn = item_and_unaugmented(on, val, 1, 2)
    assert torch.equal(frames, expected) and drawn[:2] == expected_drawn[:2]
    test_on, test_off = (build_dataset("kinetics", cfg, "test") for cfg in (on, off))
    assert test_on.clip_augment is None
    assert all(torch.equal(test_on[i][0], test_off[i][0]) for i in (0, 3))


def test_a_train_item_with_aug_is_augmented_in_the_models_layout(kinetics_dir):
    augmented = build_dataset("kinetics", aug_cfg(kinetics_dir, *AUG_ON), "train")
    assert augmented.clip_augment is not None
    plain = build_dataset("kinetics", aug_cfg(kinetics_dir), "train")
    set_seed(0)
    frames = augmented[0][0]
    set_seed(0)
    unaugmented = plain[0][0]
    assert frames.shape == (3, 4, 32, 32) and frames.dtype == torch.float32
    assert frames.is_contiguous() and torch.isfinite(frames).all()
    assert not torch.equal(frames, unaugmented)


@pytest.mark.parametrize("name", ["kinetics", "howto100m"])
def test_several_clips_per_video_each_draw_their_own_augmentation(kinetics_dir, name):
    cfg = aug_cfg(kinetics_dir, *AUG_ON, "DATA.TRAIN_CROP_NUM_TEMPORAL", "2")
    dataset = build_dataset(name, cfg, "train")
    set_seed(1)
    clips = dataset[0][0]
    assert len(clips) == 2 and all(clip.shape == (3, 4, 32, 32) for clip in clips)
    assert not torch.equal(clips[0], clips[1])


def test_randaugment_sees_rgb_and_the_channels_are_reversed_after_it(kinetics_dir):
    """DATA.REVERSE_INPUT_CHANNEL: the BGR item is the RGB item's channels reversed (the
    default MEAN and STD are the same for all channels)."""
    const = [*AUG_ON, "AUG.RE_MODE", "const"]
    rgb = build_dataset("kinetics", aug_cfg(kinetics_dir, *const), "train")
    bgr_cfg = aug_cfg(kinetics_dir, *const, "DATA.REVERSE_INPUT_CHANNEL", "True")
    bgr = build_dataset("kinetics", bgr_cfg, "train")
    set_seed(7)
    expected = rgb[1][0].flip(0)
    set_seed(7)
    assert torch.equal(bgr[1][0], expected)


def test_randaugment_has_no_flip_so_ssv2_stays_unflipped():
    assert not [name for name in NAME_TO_OP if "flip" in name.lower() or "mirror" in name.lower()]
    for aa_type in ("rand-m9-n2", "rand-m9-n2-inc1"):
        names = [op.name for op in build_rand_augment(aa_type, HPARAMS).ops]
        assert "TranslateXRel" in names and not [n for n in names if "Flip" in n]


def test_hparams_are_those_of_timms_create_transform():
    hparams = rand_augment_hparams(224, [0.45, 0.45, 0.45], "bilinear")
    assert hparams == {
        "translate_const": 100,
        "img_mean": (115, 115, 115),
        "interpolation": Image.Resampling.BILINEAR,
    }


@pytest.mark.parametrize("aa_type", ["auto-m9", "original", "rand-x1", "rand-m9-foo", "rand-m-1"])
def test_aa_type_the_checks_refuse_is_a_config_error_naming_the_key(aa_type):
    with pytest.raises(ConfigError, match="AUG.AA_TYPE"):
        aug_cfg("", "AUG.AA_TYPE", aa_type)


@pytest.mark.parametrize("aa_type", ["rand-w0", "rand-m7.5", "rand-p.5", "rand-mmax1.5"])
def test_aa_type_that_timm_cannot_read_fails_before_any_clip_naming_the_key(kinetics_dir, aa_type):
    """Strings of the checks' form that timm's parser rejects: the train dataset's construction
    (in the main process) fails, if the checks have not already."""
    with pytest.raises(ConfigError, match="AUG.AA_TYPE"):
        build_dataset("kinetics", aug_cfg(kinetics_dir, *AUG_ON, "AUG.AA_TYPE", aa_type), "train")
