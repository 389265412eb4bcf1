"""The demo data: deterministic, reused when complete, and the square moves in the labelled
direction."""

import numpy as np

from timesformer.datasets.demo_data import (
    CLASS_NAMES,
    DIRECTIONS,
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
    for label, (dy, dx) in enumerate(DIRECTIONS):
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
