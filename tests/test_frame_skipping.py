"""Decoding without the frames nothing needs (frame_skipping.py, and the decoder's passes that
use it): fewer frames are decoded, and every frame a clip takes is that of a full decode, bit for
bit, also where a wanted index has no frame of its own."""

from fractions import Fraction

import av
import numpy as np
import pytest

from helpers import all_frames, counted_frames, drawn, original_test_clip_frames
from timesformer.datasets import decoder, frame_skipping
from timesformer.datasets.decoder import decode_clips, decode_test_clip
from timesformer.datasets.frame_skipping import SkippableFrames, decoded_frames
from timesformer.datasets.synthetic_video import moving_texture_video, write_video
from timesformer.datasets.video_container import open_video

FIXED_B_FRAMES = {"x264-params": "bframes=3:b-adapt=0:b-pyramid=none:scenecut=0"}
"""x264 with 3 B-frames between references, none of them a reference: frames 1-3, 5-7, ... of
each group of pictures are the unreferenced ones."""


@pytest.fixture(scope="module")
def texture_video(tmp_path_factory):
    """60 frames of moving texture, x264's defaults (B-frames, some of them references)."""
    path = str(tmp_path_factory.mktemp("videos") / "texture.mp4")
    return write_video(path, list(moving_texture_video(60, 48, 64)), fps=30)


def images_by_pts(frames) -> dict[int, np.ndarray]:
    return {frame.pts: frame.to_ndarray(format="rgb24") for frame in frames}


def test_unreferenced_frames_are_skipped_and_the_others_decode_bit_for_bit(texture_video):
    with av.open(texture_video) as container:
        full = images_by_pts(container.decode(video=0))
    with av.open(texture_video) as container:
        stream = container.streams.video[0]
        kept = images_by_pts(decoded_frames(container, stream, unused=lambda pts: True))
        assert stream.codec_context.skip_frame == "DEFAULT"  # left as it was found
    assert 0 < len(kept) < 0.75 * len(full)
    assert all(np.array_equal(image, full[pts]) for pts, image in kept.items())


def test_a_decoder_whose_skip_is_not_exact_decodes_every_frame(tmp_path):
    """MPEG-4 part 2 with B-frames: its decoder is not on the list, so nothing is skipped."""
    path = write_video(
        str(tmp_path / "v.mp4"), list(moving_texture_video(24, 48, 64)), 30, "mpeg4", {"bf": "2"}
    )
    with av.open(path) as container:
        stream = container.streams.video[0]
        assert len(list(decoded_frames(container, stream, unused=lambda pts: True))) == 24


@pytest.mark.parametrize("multi_thread", [False, True], ids=["one_thread", "threads"])
def test_clips_are_the_frames_of_a_full_decode(texture_video, multi_thread):
    clips = [[3, 17, 17, 35], [44, 52, 59, 40], [9, 10, 11, 12]]
    with open_video(texture_video, multi_thread_decode=multi_thread) as container:
        decoded = decode_clips(container, drawn(*clips), len(clips))
    full = all_frames(texture_video)
    for clip, indices in zip(decoded, clips, strict=True):
        assert np.array_equal(clip, full[indices])


def test_test_clips_are_the_frames_of_a_full_decode(tmp_path):
    """Test clips skip the unreferenced frames before their window."""
    path = write_video(str(tmp_path / "v.mp4"), list(moving_texture_video(90, 48, 64)), fps=30)
    full = all_frames(path)
    for clip_idx in range(3):
        with open_video(path) as container:
            frames = decode_test_clip(container, 4, 8, 30, clip_idx, 3)
        assert np.array_equal(frames, full[original_test_clip_frames(path, 4, 8, 30, clip_idx, 3)])


def write_timed_video(
    path: str,
    timestamps: list[int],
    time_base: Fraction = Fraction(1, 30),
    x264_params: str = FIXED_B_FRAMES["x264-params"],
) -> str:
    """A counted video (:func:`helpers.counted_frames`: frame n reads back as n) whose n-th frame
    is shown at ``timestamps[n] * time_base`` s; x264 with :data:`FIXED_B_FRAMES` unless
    ``x264_params`` says otherwise. The container follows the extension (mp4, mkv)."""
    with av.open(path, "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        stream.codec_context.time_base = time_base
        stream.options = {"x264-params": x264_params}
        for number, timestamp in enumerate(timestamps):
            image = np.zeros((32, 48, 3), dtype=np.uint8)
            image[:16], image[16:] = 8 * (number % 32), 24 * (number // 32)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = timestamp
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def test_a_wanted_index_without_a_frame_takes_the_next_frame_even_if_unreferenced(
    tmp_path, monkeypatch
):
    """No frame at 10/30 s: index 10 takes the next frame, stored 10th (at 11/30 s), an
    unreferenced B-frame the pass had skipped; the pass is decoded again without skipping."""
    path = write_timed_video(str(tmp_path / "gap.mp4"), [*range(10), *range(11, 30)])
    with av.open(path) as container:
        stream = container.streams.video[0]
        shown = [frame.time for frame in decoded_frames(container, stream, lambda pts: True)]
    assert 11 / 30 not in shown and 12 / 30 not in shown  # frames 10 and 11 are skipped
    passes = []
    decode_wanted = decoder._decode_wanted
    monkeypatch.setattr(
        decoder,
        "_decode_wanted",
        lambda *args, **kwargs: (
            passes.append(kwargs.get("skip_unused", True)) or decode_wanted(*args, **kwargs)
        ),
    )
    with open_video(path) as container:
        clip = decode_clips(container, drawn([10]), 1)[0]
    assert counted_frames(clip) == [10]
    assert passes == [True, False]
    passes.clear()
    with open_video(path) as container:
        clip = decode_clips(container, drawn([6, 9, 13]), 1)[0]
    assert counted_frames(clip) == [6, 9, 12] and passes == [True]  # every index has its frame


def test_skippable_frames_remember_the_timestamps_they_offered():
    skippable = SkippableFrames(index_of=lambda pts: pts // 10, wanted={2, 5})
    assert [skippable.unused(pts) for pts in (20, 30, 41, 55, 70)] == [
        False,
        True,
        True,
        False,
        True,
    ]
    assert skippable.offered == [30, 41, 70]
    # Before the frame at 50, of index 3 or later: 30 and 41; of index 5 or later: none.
    assert skippable.skipped_before(50, 3) and not skippable.skipped_before(50, 5)
    # Two frames of one index: 41 was skipped before the frame at 45, both of index 4.
    assert skippable.skipped_before(45, 4) and not skippable.skipped_before(41, 4)
    assert skippable.skipped_after(69) and not skippable.skipped_after(70)
    nothing = SkippableFrames(index_of=lambda pts: pts, wanted=None)
    assert not nothing.unused(3) and not nothing.offered


# ---------------------------------------------------------------------------- #
# Variable frame rate: several frames of one index, gaps; skipping against a full decode
# ---------------------------------------------------------------------------- #

VFR_TIME_BASE = Fraction(1, 90000)
FRAME = 3000
"""One frame at 30 fps, in :data:`VFR_TIME_BASE`."""


def vfr_timestamps(pattern: str, num_frames: int, rng: np.random.Generator) -> list[int]:
    """Frame timestamps (in :data:`VFR_TIME_BASE`) of a variable-frame-rate stream:
    ``doubled``, every third frame followed a ninth of a frame later by another (two frames of
    one index); ``jitter``, intervals of half a frame to two frames; ``drops``, every fifth
    frame missing; ``slow_start``, 15 fps, then 30 fps, then 60 fps."""
    intervals = {
        "doubled": [FRAME // 9 if n % 3 == 2 else FRAME for n in range(num_frames)],
        "jitter": list(
            rng.choice([FRAME // 2, FRAME, FRAME, 3 * FRAME // 2, 2 * FRAME], num_frames)
        ),
        "drops": [2 * FRAME if n % 5 == 4 else FRAME for n in range(num_frames)],
        "slow_start": [
            2 * FRAME if n < num_frames // 3 else FRAME if n < 2 * num_frames // 3 else FRAME // 2
            for n in range(num_frames)
        ],
    }[pattern]
    return [0, *np.cumsum(intervals[:-1]).tolist()]


def decoded_both_ways(
    path: str, clips: list[list[int]], monkeypatch
) -> tuple[np.ndarray, np.ndarray]:
    """The clips decoded with frame skipping, and with none (a full decode of each pass)."""
    with open_video(path, multi_thread_decode=False) as container:
        skipping = decode_clips(container, drawn(*clips), len(clips))
    with monkeypatch.context() as patch:
        patch.setattr(frame_skipping, "EXACT_SKIP_CODECS", frozenset())
        with open_video(path, multi_thread_decode=False) as container:
            full = decode_clips(container, drawn(*clips), len(clips))
    return skipping, full


def random_clips(rng: np.random.Generator, path: str, count: int) -> list[list[int]]:
    """``count`` clips of 4 random frame indices, some past the header's length."""
    with av.open(path) as container:
        length = decoder.estimated_frame_count(
            container, decoder.video_fps(container.streams.video[0])
        )
    return [sorted(rng.integers(0, length + 3, 4).tolist()) for _ in range(count)]


@pytest.mark.parametrize("extension", ["mp4", "mkv"])
@pytest.mark.parametrize("pattern", ["doubled", "jitter", "drops", "slow_start"])
def test_variable_frame_rate_clips_are_the_frames_of_a_full_decode(
    tmp_path, monkeypatch, pattern, extension
):
    """Clips of every start position, one decode each (clips of one decode share a pass)."""
    timestamps = vfr_timestamps(pattern, 60, np.random.default_rng(2))
    path = write_timed_video(str(tmp_path / f"{pattern}.{extension}"), timestamps, VFR_TIME_BASE)
    for start in range(0, 64):
        clip = [start, start + 3, start + 7, start + 12]
        skipping, full = decoded_both_ways(path, [clip], monkeypatch)
        assert counted_frames(skipping[0]) == counted_frames(full[0]), clip
        assert np.array_equal(skipping, full), clip


def test_skipping_gives_a_full_decodes_frames_on_random_streams(tmp_path, monkeypatch):
    """A property sweep: random streams (frame-rate pattern, container, B-frames, B-pyramid, key
    frame interval, length) and random clip positions."""
    rng = np.random.default_rng(2026)
    for trial in range(40):
        pattern = str(rng.choice(["doubled", "jitter", "drops", "slow_start"]))
        extension = str(rng.choice(["mp4", "mkv"]))
        params = (
            f"bframes={rng.integers(0, 4)}:b-adapt=0:b-pyramid={rng.choice(['none', 'normal'])}"
            f":keyint={rng.integers(4, 40)}:scenecut=0"
        )
        timestamps = vfr_timestamps(pattern, int(rng.integers(12, 80)), rng)
        path = str(tmp_path / f"{trial}.{extension}")
        write_timed_video(path, timestamps, VFR_TIME_BASE, params)
        clips = random_clips(rng, path, 10)
        skipping, full = decoded_both_ways(path, clips, monkeypatch)
        for clip, skipped, whole in zip(clips, skipping, full, strict=True):
            assert np.array_equal(skipped, whole), (pattern, extension, params, clip)
