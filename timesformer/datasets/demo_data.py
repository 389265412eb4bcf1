"""The demo dataset: short clips whose label is a direction of motion, and nothing else.

Each clip shows a textured square travelling left or right (in the four-direction set of
``DemoSpec.directions`` 4, also up or down) over a noisy background that drifts in an
unrelated random direction. The square starts anywhere and wraps around the frame edges, so
in every frame of every class it is equally likely to be anywhere: a single frame says
nothing about the label. Neither does the unordered set of frames of the two-direction demo:
played backwards, a clip of one class is an equally likely clip of the other. Only the
frames' order tells the label, so a model that attends across time can learn it, and a
per-frame model that averages its frames stays at chance (50%). With four directions the
unordered set tells the axis (the square's positions line up horizontally or vertically),
and only the order tells the way along it; single frames still say nothing (chance 25%).
Between the frames the demo configs sample (every second one) the square moves 4 pixels,
well under half its checker period, so its texture never appears to move backwards.

The set is written as real H.264 mp4 files with Kinetics-format split files
(``train.csv``, ``val.csv``, ``test.csv``: ``relative/path label``) and a
``classes.txt`` (one class name per line), deterministically for a seed, and
only when the folder does not already hold the same set.
"""

import json
import os
from dataclasses import asdict, dataclass

import numpy as np

from timesformer.datasets.synthetic_video import write_video

MOTION_NAMES = ("moving left", "moving right", "moving up", "moving down")
# (dy, dx) unit step of each motion, in the order of MOTION_NAMES.
MOTION_STEPS = ((0, -1), (0, 1), (-1, 0), (1, 0))
CLASS_NAMES = MOTION_NAMES[:2]
"""The demo's classes (``DemoSpec.directions`` 2, the default)."""
MANIFEST = "manifest.json"
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class DemoSpec:
    """What the generated set looks like; a folder is reused only for an equal spec."""

    clips_per_class: dict  # split -> clips of each class
    size: int = 64  # frame side, pixels
    num_frames: int = 16
    fps: int = 30
    object_size: int = 16
    cell_size: int = 8  # checkerboard cells of the square, pixels
    speed: float = 2.0  # pixels per frame
    seed: int = 0
    version: int = 3  # of the generator: a folder written by another version is rewritten
    directions: int = 2  # classes: 2 (left, right: the demo) or 4 (also up, down)


def class_names(spec: DemoSpec) -> tuple[str, ...]:
    """The class names of the set ``spec`` describes, in label order."""
    if spec.directions not in (2, 4):
        raise ValueError(f"DemoSpec.directions is {spec.directions}; expected 2 or 4")
    return MOTION_NAMES[: spec.directions]


def _manifest(spec: DemoSpec) -> dict:
    """The spec as the manifest records it. ``directions`` at its default is left out, so that
    a two-direction set written before the field existed is still reused."""
    fields = asdict(spec)
    if spec.directions == 2:
        del fields["directions"]
    return fields


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """(size, size, 3) float low-contrast texture of 8-pixel blocks, tileable (it wraps as it
    drifts)."""
    coarse = rng.uniform(60, 120, size=(size // 8, size // 8, 3))
    return np.kron(coarse, np.ones((8, 8, 1)))


def _object_texture(rng: np.random.Generator, side: int, cell: int) -> np.ndarray:
    """(side, side, 3) float checkerboard of ``cell``-pixel cells of a random bright and a random
    dark color."""
    first, second = rng.uniform(200, 255, size=3), rng.uniform(0, 40, size=3)
    cells = (np.add.outer(np.arange(side) // cell, np.arange(side) // cell) % 2).astype(bool)
    return np.where(cells[..., None], first, second)


def render_clip(label: int, rng: np.random.Generator, spec: DemoSpec) -> np.ndarray:
    """(num_frames, size, size, 3) uint8 RGB frames of one clip of class ``label``.

    The square starts anywhere and wraps around the frame edges, so at every
    moment its position is uniform over the frame, whatever the class.
    """
    size, side, frames = spec.size, spec.object_size, spec.num_frames
    step = np.array(MOTION_STEPS[label], dtype=float) * spec.speed
    start = rng.uniform(0, size, size=2)
    background, texture = _background(rng, size), _object_texture(rng, side, spec.cell_size)
    drift = rng.integers(-1, 2, size=2)
    clip = np.empty((frames, size, size, 3), dtype=np.uint8)
    for t in range(frames):
        frame = np.roll(background, shift=tuple(drift * t), axis=(0, 1))
        frame = frame + rng.normal(0, 8, size=frame.shape)
        top, left = np.round(start + step * t).astype(int) % size
        rows, cols = (top + np.arange(side)) % size, (left + np.arange(side)) % size
        frame[np.ix_(rows, cols)] = texture
        clip[t] = np.clip(frame, 0, 255).astype(np.uint8)
    return clip


def _is_complete(root: str, spec: DemoSpec) -> bool:
    try:
        with open(os.path.join(root, MANIFEST)) as stream:
            return json.load(stream) == _manifest(spec)
    except (OSError, ValueError):
        return False


def generate_demo_dataset(root: str, spec: DemoSpec, progress=None) -> bool:
    """Write the demo set to ``root`` unless it already holds it; returns whether it wrote.

    ``progress(done, total)`` is called after each clip when given. The manifest
    is written last, so an interrupted generation is redone from scratch.
    """
    if _is_complete(root, spec):
        return False
    names = class_names(spec)
    total = sum(spec.clips_per_class[split] for split in SPLITS) * len(names)
    done = 0
    for split_number, split in enumerate(SPLITS):
        folder = os.path.join(root, "videos", split)
        os.makedirs(folder, exist_ok=True)
        lines = []
        for label, name in enumerate(names):
            for index in range(spec.clips_per_class[split]):
                rng = np.random.default_rng([spec.seed, split_number, label, index])
                relative = os.path.join(
                    "videos", split, f"{name.replace(' ', '_')}_{index:04d}.mp4"
                )
                write_video(
                    os.path.join(root, relative), render_clip(label, rng, spec), fps=spec.fps
                )
                lines.append(f"{relative} {label}\n")
                done += 1
                if progress is not None:
                    progress(done, total)
        with open(os.path.join(root, f"{split}.csv"), "w") as stream:
            stream.writelines(lines)
    with open(os.path.join(root, "classes.txt"), "w") as stream:
        stream.write("\n".join(names) + "\n")
    with open(os.path.join(root, MANIFEST), "w") as stream:
        json.dump(_manifest(spec), stream, indent=1)
    return True
