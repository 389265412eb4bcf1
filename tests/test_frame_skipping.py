"""Decoding without the frames nothing needs (frame_skipping.py, and the decoder's passes that
use it): fewer frames are decoded, and every frame a clip takes is that of a full decode, bit for
bit, also where a wanted index has no frame of its own."""

from fractions import Fraction

import av
import numpy as np
import pytest

from helpers import all_frames, counted_frames, drawn, original_test_clip_frames
from timesformer.datasets import decoder
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


def write_gap_video(path: str, timestamps: list[int]) -> str:
    """A 30 fps counted video (:func:`helpers.counted_frames`: frame n reads back as n) whose
    n-th frame is shown at ``timestamps[n] / 30`` s, with :data:`FIXED_B_FRAMES`."""
    with av.open(path, "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 30)
        stream.options = FIXED_B_FRAMES
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
    path = write_gap_video(str(tmp_path / "gap.mp4"), [*range(10), *range(11, 30)])
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


def test_skippable_frames_remember_what_they_offered():
    skippable = SkippableFrames(index_of=lambda pts: pts // 10, wanted={2, 5})
    assert [skippable.unused(pts) for pts in (20, 30, 41, 55, 70)] == [
        False,
        True,
        True,
        False,
        True,
    ]
    assert skippable.offered == {3, 4, 7}
    assert skippable.maybe_skipped(2, 4) and not skippable.maybe_skipped(5, 7)
    assert skippable.maybe_skipped(6) and not skippable.maybe_skipped(8)
    nothing = SkippableFrames(index_of=lambda pts: pts, wanted=None)
    assert not nothing.unused(3) and not nothing.offered
