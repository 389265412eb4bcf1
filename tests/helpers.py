"""What the tests share: the tiny config builder, the videos and datasets they write, the tools'
command lines they run, and loading a tool script as a module (convert_checkpoint's).

Every config comes from :func:`tiny_cfg`: :data:`TINY_RUN` (a complete tiny CPU run),
then the overrides a test adds; :data:`TINY_MODEL` and :data:`TINY_VIDEO_DATA` are the
override sets of the model and the data-pipeline tests.
"""

import argparse
import json
import math
import os
import sys
from fractions import Fraction

import av
import numpy as np
import torch
import torch.nn.functional as F

from timesformer.cli import benchmark_model
from timesformer.cli.run_command import run_command_line
from timesformer.config import assert_and_infer_cfg, get_cfg
from timesformer.config.merge import merge_overrides
from timesformer.datasets.synthetic_video import moving_texture_video, write_video
from timesformer.engine.trainer import train
from timesformer.utils.distributed import get_rank, unwrap_model

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO_CFG = os.path.join(REPO_ROOT, "configs", "Demo", "TimeSformer_divST_tiny.yaml")
MEAN, STD = [0.45, 0.45, 0.45], [0.225, 0.225, 0.225]  # DATA.MEAN, DATA.STD defaults
ONE_LEVEL = 1.01 / (255 * 0.225)
"""One 8-bit level of a normalized pixel: how far our uint8 resizing may be from the original's
float resizing (see test_transform.py)."""
PROGRAM = os.path.basename(sys.argv[0])
"""The name a tool's main called here says its errors under: argparse names the program after
``sys.argv[0]``, as it does for ``tools/TOOL.py`` and (renamed) ``timesformer COMMAND``."""

# ---------------------------------------------------------------------------- #
# Configs
# ---------------------------------------------------------------------------- #

TINY_RUN = [
    "NUM_GPUS",
    "0",
    "TRAIN.BATCH_SIZE",
    "4",
    "TEST.BATCH_SIZE",
    "4",
    "GLOBAL_BATCH_SIZE",
    "4",
    "DATA_LOADER.NUM_WORKERS",
    "0",
    "TIMESFORMER.EMBED_DIM",
    "32",
    "TIMESFORMER.DEPTH",
    "1",
    "TIMESFORMER.NUM_HEADS",
    "2",
    "TIMESFORMER.DROP_PATH_RATE",
    "0.0",
    "TIMESFORMER.PRETRAINED_MODEL",
    "none",
    "DATA.NUM_FRAMES",
    "2",
    "DATA.SAMPLING_RATE",
    "2",
    "DATA.TRAIN_CROP_SIZE",
    "32",
    "DATA.TEST_CROP_SIZE",
    "32",
    "DATA.TRAIN_JITTER_SCALES",
    "[32, 40]",
    "MODEL.NUM_CLASSES",
    "2",
    "SOLVER.OPTIMIZING_METHOD",
    "sgd",
    "SOLVER.BASE_LR",
    "0.05",
    "SOLVER.LR_POLICY",
    "cosine",
    "SOLVER.MAX_EPOCH",
    "2",
    "SOLVER.WEIGHT_DECAY",
    "0.0",
    "TRAIN.EVAL_PERIOD",
    "1",
    "TRAIN.CHECKPOINT_PERIOD",
    "1",
    "TEST.NUM_ENSEMBLE_VIEWS",
    "2",
    "TEST.NUM_SPATIAL_CROPS",
    "1",
    "LOG_PERIOD",
    "1",
    "RNG_SEED",
    "0",
]
"""A complete tiny CPU run: 1 block of width 32, 2 frames of 32 px, 2 classes, 2 epochs, trained
from scratch (no ImageNet weights: no test touches the network)."""

TINY_MODEL = [
    "TIMESFORMER.EMBED_DIM",
    "32",
    "TIMESFORMER.DEPTH",
    "2",
    "TIMESFORMER.NUM_HEADS",
    "4",
    "TIMESFORMER.PATCH_SIZE",
    "8",
    "DATA.NUM_FRAMES",
    "4",
    "MODEL.NUM_CLASSES",
    "5",
    "TIMESFORMER.DROP_PATH_RATE",
    "0.1",
    "MODEL.HEAD_DROPOUT_RATE",
    "0.5",
]
"""The model tests' TimeSformer: 2 blocks of width 32, 4 heads, patches of 8, 4 frames of
32 px, 5 classes, the default drop path and head dropout 0.5 (so that both are at work)."""

TINY_VIDEO_DATA = [
    "DATA.NUM_FRAMES",
    "4",
    "DATA.NUM_RETRIES",
    "3",
    "MODEL.NUM_CLASSES",
    "5",
    "TRAIN.BATCH_SIZE",
    "2",
    "TEST.BATCH_SIZE",
    "3",
    "TEST.NUM_ENSEMBLE_VIEWS",
    "2",
    "TEST.NUM_SPATIAL_CROPS",
    "3",
]
"""The data-pipeline tests' clips of :data:`VIDEOS`: 4 frames 2 apart, 2 x 3 test views, 5
classes."""


def tiny_cfg(data_dir: str = "", output_dir: str = "", *overrides: str):
    """:data:`TINY_RUN` reading ``data_dir`` (split files and relative video paths) and writing to
    ``output_dir``, then ``overrides`` (``KEY VALUE`` strings, as on a command line); checked."""
    cfg = get_cfg()
    paths = [
        "DATA.PATH_TO_DATA_DIR",
        data_dir,
        "DATA.PATH_PREFIX",
        data_dir,
        "OUTPUT_DIR",
        output_dir,
    ]
    merge_overrides(cfg, TINY_RUN + paths + list(overrides))
    return assert_and_infer_cfg(cfg)


def tiny_args(data_dir: str, output_dir: str, *overrides: str) -> list[str]:
    """The ``KEY VALUE`` arguments of a tool for the :func:`tiny_cfg` run."""
    return TINY_RUN + ["DATA.PATH_TO_DATA_DIR", data_dir, "OUTPUT_DIR", output_dir, *overrides]


# ---------------------------------------------------------------------------- #
# Runs
# ---------------------------------------------------------------------------- #


def json_stats(output_dir: str) -> list[dict]:
    """The json_stats records of ``output_dir/stdout.log``, in order."""
    records = []
    with open(os.path.join(output_dir, "stdout.log")) as stream:
        for line in stream:
            if "json_stats: " in line:
                records.append(json.loads(line.split("json_stats: ", 1)[1]))
    return records


def train_and_save_rank_weights(cfg) -> None:
    """Train, then save this process's final weights to ``OUTPUT_DIR/rank{R}.pt`` (spawn target)."""
    model = train(cfg)
    torch.save(
        unwrap_model(model).state_dict(), os.path.join(cfg.OUTPUT_DIR, f"rank{get_rank()}.pt")
    )


def random_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A state dict of ``model``'s names and shapes, every tensor random (seed 0)."""
    generator = torch.Generator().manual_seed(0)
    return {
        name: torch.randn(t.shape, generator=generator) for name, t in model.state_dict().items()
    }


def assert_weights_equal(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Every tensor of ``model``'s state dict equals ``state``'s of the same name."""
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(tensor, state[name], msg=name)


def randomize_(model: torch.nn.Module) -> torch.nn.Module:
    """Give every parameter random values (zero-initialized ones would hide paths); returns it."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) * 0.2)
    return model


HF_FRAMES, HF_CROP, HF_CLASSES = 4, 32, 5
"""Clips and classes of :func:`tiny_hf_model`."""


def tiny_hf_model(attention_type: str):
    """A tiny Hugging Face TimeSformer with every parameter random (also time embeddings,
    temporal_dense)."""
    from transformers import TimesformerConfig, TimesformerForVideoClassification  # slow import

    config = TimesformerConfig(
        image_size=HF_CROP,
        patch_size=8,
        num_frames=HF_FRAMES,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        attention_type=attention_type,
        num_labels=HF_CLASSES,
    )
    model = TimesformerForVideoClassification(config).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) * 0.2)
    return model


def hf_clip() -> torch.Tensor:
    """A (2, 3, HF_FRAMES, HF_CROP, HF_CROP) batch for the :func:`tiny_hf_model` tests."""
    return torch.randn(
        2, 3, HF_FRAMES, HF_CROP, HF_CROP, generator=torch.Generator().manual_seed(1)
    )


def run_net(argv: list[str]) -> int:
    """What ``tools/run_net.py`` runs: the engine's command line with the train-then-test flow."""
    return run_command_line(argv, "train_then_test", "Train and/or test a TimeSformer model.")


TINY_BENCHMARK_MODEL = [
    "--embed-dim",
    "32",
    "--depth",
    "2",
    "--heads",
    "2",
    "--patch",
    "16",
    "--classes",
    "5",
    "--batch",
    "1",
    "--frames",
    "2",
    "--size",
    "32",
    "--steps",
    "1",
    "--repeats",
    "1",
    "--warmup",
    "1",
]
"""``tools/benchmark_model.py``'s flags for a tiny model, timed once."""


def tiny_benchmark_args(*extra: str) -> argparse.Namespace:
    """The model benchmark's settings for :data:`TINY_BENCHMARK_MODEL` and ``extra`` flags."""
    return benchmark_model.parse_args([*TINY_BENCHMARK_MODEL, *extra])


# ---------------------------------------------------------------------------- #
# Videos and datasets
# ---------------------------------------------------------------------------- #

FRAME_STEP = 4
"""Gray level step per frame of the frame-number videos: frame t has level 4 * t."""

# name: (frames, height, width, fps); portrait and landscape, 24-60 fps, one shorter than a clip.
VIDEOS = {
    "landscape_30fps.mp4": (60, 48, 64, 30),
    "portrait_24fps.mp4": (40, 64, 48, 24),
    "short_60fps.mp4": (8, 48, 64, 60),
}


def write_frame_number_video(
    path: str,
    num_frames: int,
    height: int,
    width: int,
    fps: float,
    red_ramp: bool = False,
    **kwargs,
) -> str:
    """A video whose frame t is flat gray level 4 * t (flat frames survive lossy coding almost
    exactly, see :func:`frame_numbers`); with ``red_ramp`` red rises to the right and down, so
    that crops at different places differ (H.264 only: VP8/VP9 then shift green too much to
    read frame numbers)."""
    levels = (np.arange(num_frames) * FRAME_STEP).clip(0, 255).astype(np.uint8)
    frames = np.broadcast_to(levels[:, None, None, None], (num_frames, height, width, 3)).copy()
    if red_ramp:
        frames[..., 0] = 2 * (np.arange(height)[:, None] + np.arange(width)[None, :])
    return write_video(path, frames, fps, **kwargs)


def drawn(*clips):
    """A decoder's ``choose_frames`` whose k-th call returns clip k's frame indices (as random
    draws would, one per clip)."""
    draws = iter(clips)
    return lambda _count, _fps: np.asarray(next(draws), dtype=np.int64)


def frame_numbers(frames_thwc) -> list[int]:
    """Recover the frame number of each decoded (T, H, W, 3) frame of a frame-number video
    (from the green channel, so that red and blue may carry other marks)."""
    return [int(round(float(frame[..., 1].mean()) / FRAME_STEP)) for frame in frames_thwc]


def write_counted_video(
    path: str, num_frames: int, fps: float, height: int = 32, width: int = 48, **kwargs
) -> str:
    """A video whose frame t reads back as t, up to 351 (:func:`counted_frames`): the top half is
    flat gray level 8 * (t % 32), the bottom half 24 * (t // 32); halves of 16 rows, so that
    each is its own codec blocks (H.264 and VP8/VP9 keep such levels within one)."""
    t = np.arange(num_frames)
    frames = np.empty((num_frames, height, width, 3), dtype=np.uint8)
    frames[:, :16] = (8 * (t % 32))[:, None, None, None]
    frames[:, 16:] = (24 * (t // 32))[:, None, None, None]
    return write_video(path, frames, fps, **kwargs)


def counted_frames(frames_thwc) -> list[int]:
    """The frame number of each decoded (T, H, W, 3) frame of a :func:`write_counted_video`."""
    return [
        int(round(float(frame[:16].mean()) / 8)) + 32 * int(round(float(frame[16:].mean()) / 24))
        for frame in frames_thwc
    ]


# ---------------------------------------------------------------------------- #
# The original's test views, written out (expected values of the data tests)
# ---------------------------------------------------------------------------- #


def original_test_clip_frames(path, num_frames, sampling_rate, target_fps, clip_idx, num_clips):
    """Frame numbers of a test clip as the original TimeSformer's datasets/decoder.py picks them
    (decode -> pyav_decode -> pyav_decode_stream -> get_start_end_idx -> temporal_sampling),
    written out over the timestamps of all the video's frames."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate)
        frames_length, duration = stream.frames, stream.duration
        all_pts = [frame.pts for frame in container.decode(stream)]
    clip_size = sampling_rate * num_frames / target_fps * fps
    if duration is None:  # decode_all_video, then get_start_end_idx over the decoded frames
        kept = list(range(len(all_pts)))
        start = max(len(kept) - clip_size, 0) * clip_idx / num_clips
    else:
        delta = max(frames_length - clip_size, 0)  # get_start_end_idx over the header's count
        start_idx = delta * clip_idx / num_clips
        end_idx = start_idx + clip_size - 1
        timebase = duration / frames_length
        start_pts, end_pts = int(start_idx * timebase), int(end_idx * timebase)
        kept = []  # pyav_decode_stream with buffer_size 0: one frame past end_pts is kept
        for number, pts in enumerate(all_pts):
            if pts < start_pts:
                continue
            kept.append(number)
            if pts > end_pts:
                break
        start = 0.0  # decode(): get_start_end_idx(len(frames), clip_sz, 0, 1)
    index = torch.linspace(start, start + clip_size - 1, num_frames)  # temporal_sampling
    index = torch.clamp(index, 0, len(kept) - 1).long()
    return [kept[i] for i in index.tolist()]


def original_test_view(frames_thwc, short_side: int, crop_size: int, spatial_idx: int, mean, std):
    """A test view as the original TimeSformer computes it (datasets/kinetics.py and ssv2.py:
    utils.tensor_normalize, then utils.spatial_sampling -> transform.
    random_short_side_scale_jitter(short_side, short_side) -> transform.uniform_crop), written
    out: normalized in float, then resized, then cropped.

    Returns:
        ((3, T, crop_size, crop_size) float view, (scaled height, scaled width, top, left)).
    """
    x = torch.as_tensor(np.asarray(frames_thwc)).float() / 255.0
    x = ((x - torch.tensor(mean)) / torch.tensor(std)).permute(3, 0, 1, 2)  # C T H W
    height, width = x.shape[2], x.shape[3]
    size = short_side
    if not ((width <= height and width == size) or (height <= width and height == size)):
        new_height, new_width = size, size
        if width < height:
            new_height = int(math.floor((float(height) / width) * size))
        else:
            new_width = int(math.floor((float(width) / height) * size))
        x = F.interpolate(x, size=(new_height, new_width), mode="bilinear", align_corners=False)
    height, width = x.shape[2], x.shape[3]
    y_offset = int(math.ceil((height - crop_size) / 2))
    x_offset = int(math.ceil((width - crop_size) / 2))
    if height > width:
        if spatial_idx == 0:
            y_offset = 0
        elif spatial_idx == 2:
            y_offset = height - crop_size
    else:
        if spatial_idx == 0:
            x_offset = 0
        elif spatial_idx == 2:
            x_offset = width - crop_size
    view = x[:, :, y_offset : y_offset + crop_size, x_offset : x_offset + crop_size]
    return view, (height, width, y_offset, x_offset)


def all_frames(path: str) -> np.ndarray:
    """Every frame of a video, decoded from the start: (N, H, W, 3) uint8 RGB."""
    with av.open(path) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


def write_truncated_copy(source: str, path: str) -> str:
    """The first third of ``source``: an mp4 whose index (moov atom) is missing."""
    with open(source, "rb") as stream:
        data = stream.read()
    with open(path, "wb") as stream:
        stream.write(data[: len(data) // 3])
    return path


def write_truncated_faststart_video(path: str, num_frames: int = 300, size: int = 64) -> str:
    """An H.264 mp4 whose index (moov) is at the front and whose second half is cut off: it opens
    and its header promises ``num_frames`` frames, but only the first part decodes."""
    full = path + ".full.mp4"
    with av.open(full, "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for image in moving_texture_video(num_frames, size, size):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with open(full, "rb") as stream:
        data = stream.read()
    os.remove(full)
    with open(path, "wb") as stream:
        stream.write(data[: len(data) // 2])
    return path


def write_resolution_change_video(path: str, frames_per_part: int = 30) -> str:
    """An MPEG-TS stream whose resolution changes mid-stream: ``frames_per_part`` frames of
    64x64 (gray levels 0, 4, 8, ...), then as many of 96x80 (width x height; levels 120, 124,
    ...), timestamps running on; made by joining two streams, as a cut-and-join tool would."""
    parts = []
    for part, (height, width, level) in enumerate(((64, 64, 0), (80, 96, 120))):
        part_path = f"{path}.{part}.ts"
        with av.open(part_path, "w", format="mpegts") as container:
            stream = container.add_stream("libx264", rate=30)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.time_base = Fraction(1, 30)
            for t in range(frames_per_part):
                image = np.full((height, width, 3), level + FRAME_STEP * t, dtype=np.uint8)
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                frame.pts, frame.time_base = part * frames_per_part + t, Fraction(1, 30)
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        with open(part_path, "rb") as stream:
            parts.append(stream.read())
        os.remove(part_path)
    with open(path, "wb") as stream:
        stream.write(b"".join(parts))
    return path


def write_kinetics_dir(
    folder: str, extra_lines: tuple[str, ...] = (), splits=("train", "val", "test")
) -> list[str]:
    """Write VIDEOS into ``folder`` plus ``{split}.csv`` files (label = position); returns the
    names."""
    names = list(VIDEOS)
    for name, (frames, height, width, fps) in VIDEOS.items():
        write_frame_number_video(
            os.path.join(folder, name), frames, height, width, fps, red_ramp=True
        )
    for split in splits:
        with open(os.path.join(folder, f"{split}.csv"), "w") as stream:
            stream.writelines(f"{name} {label}\n" for label, name in enumerate(names))
            stream.writelines(line + "\n" for line in extra_lines)
    return names


def write_color_dataset(
    root: str, videos_per_class: int = 4, size: int = 32, frames: int = 8
) -> str:
    """Videos whose label is their color (dark: 0, bright: 1), flat over space and time.

    Every crop, scale, flip or clip position of a video gives the same tensor, so
    runs are deterministic whatever the sampler order or augmentation draws.
    Writes ``root/{train,val,test}.csv``; returns ``root``.
    """
    os.makedirs(root, exist_ok=True)
    lines = []
    for label, level in ((0, 40), (1, 210)):
        for i in range(videos_per_class):
            clip = np.full((frames, size, size, 3), level + 6 * i, dtype=np.uint8)
            path = os.path.join(root, f"c{label}_{i}.mp4")
            write_video(path, clip, fps=30)
            lines.append(f"{path} {label}\n")
    for split in ("train", "val", "test"):
        with open(os.path.join(root, f"{split}.csv"), "w") as stream:
            stream.writelines(lines)
    return root


WINDOW_FPS = 16
TINY_WINDOW = ["DATA.NUM_FRAMES", "4", "DATA.SAMPLING_RATE", "4", "DATA.TARGET_FPS", "16"]
"""Sliding windows of 4 frames 4 apart at 16 fps: 1 s, 16 frames of a WINDOW_FPS video."""


def write_window_setup(folder, seconds: int) -> tuple[str, str, object]:
    """For the timeline tools' tests: a ``seconds`` long 32x32 moving-texture video at
    WINDOW_FPS in ``folder``, the checkpoint of a random tiny 2-class model (seed 0, its first
    temporal_fc drawn so that time matters), and the tiny cfg with TINY_WINDOW; (video,
    checkpoint, cfg)."""
    from timesformer.models.build import build_bare_model

    frames = list(moving_texture_video(seconds * WINDOW_FPS, 32, 32))
    video = write_video(str(folder / "clip.mp4"), frames, fps=WINDOW_FPS)
    cfg = tiny_cfg("", str(folder / "out"), *TINY_WINDOW)
    torch.manual_seed(0)
    model = build_bare_model(cfg)
    torch.nn.init.normal_(model.model.blocks[0].temporal_fc.weight, std=0.2)
    checkpoint = str(folder / "tiny.pyth")
    torch.save({"model_state": model.state_dict()}, checkpoint)
    return video, checkpoint, cfg


def corrupt_middle(video: str, path, start: float = 0.4, end: float = 0.5) -> str:
    """A copy of ``video`` (H.264 in mp4) at ``path`` in which every video packet shown from
    ``start`` to ``end`` (fractions of the duration) fails to decode: the 4-byte length of its
    first NAL unit (at the packet's offset in the file) is made larger than the packet, which
    FFmpeg's H.264 decoder rejects (scrambled bytes instead are often concealed without an
    error, depending on the encode); its path."""
    data = bytearray(open(video, "rb").read())
    with av.open(video) as container:
        stream = container.streams.video[0]
        duration = float(stream.duration * stream.time_base)
        for packet in container.demux(stream):
            if packet.pts is not None and packet.pos is not None:
                if start <= float(packet.pts * stream.time_base) / duration < end:
                    data[packet.pos : packet.pos + 4] = b"\xff\xff\xff\xff"
    with open(path, "wb") as stream:
        stream.write(bytes(data))
    return str(path)
