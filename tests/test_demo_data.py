"""The demo data: deterministic, reused when complete, and the square moves in the labelled
direction; the four-direction set beside it."""

import json

import numpy as np

from timesformer.datasets.demo_data import (
    CLASS_NAMES,
    MOTION_NAMES,
    MOTION_STEPS,
    DemoSpec,
    generate_demo_dataset,
    render_clip,
)


def test_generator_is_deterministic_and_reuses_complete_sets(tmp_path):
    spec = DemoSpec(clips_per_class={"train": 1, "val": 1, "test": 1}, seed=3)
    assert generate_demo_dataset(str(tmp_path), spec) is True
    first = (tmp_path / "train.csv").read_text()
    assert generate_demo_dataset(str(tmp_path), spec) is False
    assert (tmp_path / "classes.txt").read_text().splitlines() == list(CLASS_NAMES)
    assert len(first.splitlines()) == len(CLASS_NAMES)
    clip = render_clip(1, np.random.default_rng(0), spec)
    assert clip.shape == (spec.num_frames, spec.size, spec.size, 3) and clip.dtype == np.uint8
    assert np.array_equal(clip, render_clip(1, np.random.default_rng(0), spec))


def test_square_moves_in_the_labelled_direction():
    spec = DemoSpec(clips_per_class={"train": 1, "val": 1, "test": 1})
    for label, (dy, dx) in enumerate(MOTION_STEPS):
        clip = render_clip(label, np.random.default_rng(label), spec).astype(float)
        # The square is the sharpest thing in a frame: follow the centre of its edges.
        centres = []
        for frame in clip[:4]:
            edges = (
                np.abs(np.diff(frame.mean(-1), axis=0))[:, :-1]
                + np.abs(np.diff(frame.mean(-1), axis=1))[:-1]
            )
            ys, xs = np.nonzero(edges > np.percentile(edges, 98))
            centres.append((np.median(ys), np.median(xs)))
        moves = np.diff(np.array(centres), axis=0)
        assert np.all(np.sign(np.round(moves @ np.array([dy, dx]))) >= 0), label


def test_four_directions_extend_the_demo_and_keep_its_clips_and_manifest(tmp_path):
    """``directions`` 4 adds up and down after left and right, whose clips stay those of the
    two-direction set; a two-direction manifest leaves the field out (sets written before it
    existed are reused)."""
    counts = {"train": 1, "val": 1, "test": 1}
    two, four = tmp_path / "two", tmp_path / "four"
    assert generate_demo_dataset(str(two), DemoSpec(clips_per_class=counts))
    assert generate_demo_dataset(str(four), DemoSpec(clips_per_class=counts, directions=4))
    assert CLASS_NAMES == MOTION_NAMES[:2]
    assert (four / "classes.txt").read_text().splitlines() == list(MOTION_NAMES)
    assert [line.split()[1] for line in (four / "test.csv").read_text().splitlines()] == list(
        "0123"
    )
    assert "directions" not in json.loads((two / "manifest.json").read_text())
    assert json.loads((four / "manifest.json").read_text())["directions"] == 4
    first = "videos/train/moving_left_0000.mp4"
    assert (two / first).is_file() and (four / first).is_file()
    # The clip a (split, class, index) renders is the same in both sets. (Its encoded bytes
    # are not compared: libx264's output varies from one encode to the next on some machines.)
    two_spec, four_spec = (
        DemoSpec(clips_per_class=counts),
        DemoSpec(clips_per_class=counts, directions=4),
    )
    for label in (0, 1):
        seeds = [two_spec.seed, 0, label, 0]
        assert np.array_equal(
            render_clip(label, np.random.default_rng(seeds), two_spec),
            render_clip(label, np.random.default_rng(seeds), four_spec),
        )
