"""Decoding clips (decoder.py, video_container.py): the requested frames by seeking, the
original's test-clip frames, frames of another size, unusual pixel formats, broken files."""

from fractions import Fraction
from functools import partial

import av
import numpy as np
import pytest

from helpers import (
    all_frames,
    counted_frames,
    drawn,
    frame_numbers,
    original_test_clip_frames,
    write_counted_video,
    write_frame_number_video,
    write_resolution_change_video,
    write_truncated_copy,
    write_truncated_faststart_video,
)
from timesformer.datasets import decoder
from timesformer.datasets.decoder import decode_clips, decode_test_clip, decode_to_end
from timesformer.datasets.frame_clock import first_frame_pts
from timesformer.datasets.sampling import dense_clip_indices
from timesformer.datasets.synthetic_video import moving_texture_video, write_video
from timesformer.datasets.video_container import VideoReadError, open_video


def fixed(indices):
    return lambda _count, _fps: np.asarray(indices, dtype=np.int64)


@pytest.fixture(scope="module")
def long_video(tmp_path_factory):
    """60 frames at 30 fps with a key frame every 10 frames, so that seeking matters."""
    path = str(tmp_path_factory.mktemp("videos") / "gop10.mp4")
    return write_frame_number_video(path, 60, 48, 64, 30, options={"g": "10"})


def test_decodes_requested_frames_in_requested_order(long_video):
    with open_video(long_video) as container:
        frames = decode_clips(container, fixed([45, 12, 12, 59, 33]), 1)[0]
    assert frames.shape == (5, 48, 64, 3) and frames.dtype == np.uint8
    assert frame_numbers(frames) == [45, 12, 12, 59, 33]


def test_seek_to_late_clip_gives_exact_frames(long_video):
    with open_video(long_video) as container:
        frames = decode_clips(container, fixed([51, 52, 53, 57]), 1)[0]
    assert frame_numbers(frames) == [51, 52, 53, 57]


def test_indices_past_the_end_repeat_the_last_frame(tmp_path):
    path = write_frame_number_video(str(tmp_path / "v.mp4"), 10, 32, 32, 30)
    with open_video(path) as container:
        frames = decode_clips(container, fixed([8, 9, 15, 40]), 1)[0]
    assert frame_numbers(frames) == [8, 9, 9, 9]


@pytest.mark.parametrize("codec", ["libvpx", "libvpx-vp9"])
def test_webm_without_frame_count_decodes(tmp_path, codec):
    if codec not in av.codecs_available:
        pytest.skip(f"{codec} encoder not available")
    path = write_frame_number_video(str(tmp_path / "v.webm"), 30, 32, 48, 25, codec=codec)
    with open_video(path) as container:
        assert container.streams.video[0].frames == 0
        frames = decode_clips(
            container, lambda count, fps: np.array([0, count // 2, count - 1]), 1
        )[0]
    assert frame_numbers(frames) == [0, 15, 29]


def test_missing_empty_garbage_and_truncated_files_raise_with_reason(tmp_path, long_video):
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "garbage.mp4").write_bytes(b"this is not a video" * 100)
    truncated = write_truncated_copy(long_video, str(tmp_path / "truncated.mp4"))
    cases = {
        str(tmp_path / "missing.mp4"): "file not found",
        str(tmp_path / "empty.mp4"): "empty file",
        str(tmp_path / "garbage.mp4"): "",
        truncated: "",
    }
    for path, reason in cases.items():
        with pytest.raises(VideoReadError) as error:
            with open_video(path) as container:
                decode_clips(
                    container,
                    partial(
                        dense_clip_indices,
                        num_frames=4,
                        sampling_rate=2,
                        target_fps=30,
                        clip_idx=0,
                        num_clips=1,
                    ),
                    1,
                )
        assert path in str(error.value) and reason in error.value.reason


READ_AHEAD = 5
"""Packets a decoding pass reads past the last frame it gives: x264's B-frames are stored after
the frames they reference, which come later in display order."""
FIRST_FRAME_READS = 3
"""Packets read (not decoded) to find the first frame's timestamp, from the start of an x264
stream with B-frames (frame_clock.first_frame_pts)."""


class CountingContainer:
    """Forwards to a PyAV container and counts the video packets read from it (each a frame,
    decoded or skipped)."""

    def __init__(self, container):
        self._container = container
        self.read = 0

    def __getattr__(self, name):
        return getattr(self._container, name)

    def demux(self, *args, **kwargs):
        for packet in self._container.demux(*args, **kwargs):
            self.read += packet.size > 0
            yield packet


def test_late_clip_is_decoded_from_the_nearest_key_frame_not_from_the_start(long_video):
    with open_video(long_video) as container:
        counting = CountingContainer(container)
        frames = decode_clips(counting, fixed([52, 54, 56]), 1)[0]
    assert frame_numbers(frames) == [52, 54, 56]
    assert (
        counting.read <= FIRST_FRAME_READS + 7 + READ_AHEAD
    )  # key frame 50 .. 56, not 57 frames from 0


def test_stream_without_length_in_header_is_decoded_whole(tmp_path):
    path = write_frame_number_video(
        str(tmp_path / "raw.h264"), 30, 32, 48, 25
    )  # raw H.264: no duration
    with open_video(path) as container:
        assert container.duration is None and container.streams.video[0].frames == 0
        frames = decode_clips(
            container, lambda count, fps: np.array([0, count // 2, count - 1]), 1
        )[0]
    assert frame_numbers(frames) == [0, 15, 29]


# ---------------------------------------------------------------------------- #
# Test clips: the frames the original's PyAV decoder takes
# ---------------------------------------------------------------------------- #


def _test_clip(path, clip_idx, num_clips=10, num_frames=8, sampling_rate=32):
    with open_video(path) as container:
        frames = decode_test_clip(container, num_frames, sampling_rate, 30, clip_idx, num_clips)
    return counted_frames(frames)


@pytest.mark.parametrize("fps", [25, Fraction(30000, 1001), 30], ids=["25", "29.97", "30"])
def test_test_clips_take_the_originals_frames(fps, tmp_path):
    # 10 s (12 s at 25 fps) with a key frame every 30 frames: 10 views of 8 x 32 frames.
    path = write_counted_video(str(tmp_path / "v.mp4"), 300, fps, options={"g": "30"})
    views = [_test_clip(path, clip_idx) for clip_idx in range(10)]
    assert views == [original_test_clip_frames(path, 8, 32, 30, i, 10) for i in range(10)]
    if fps == 30:
        # View 1: start 44 * 1 / 10 = 4.4, pts int(4.4 * 512) = 2252: the first frame kept is
        # 5 (pts 2560), not 4; indexing the video by frame would give [4, 40, 77, 113, ...].
        assert views[1] == [5, 41, 77, 114, 150, 187, 223, 260]
        assert views[0] == [0, 36, 72, 109, 145, 182, 218, 255]


def test_test_clips_of_a_video_shorter_than_a_clip_repeat_its_last_frame(tmp_path):
    path = write_counted_video(str(tmp_path / "short.mp4"), 40, 30)
    for clip_idx in (0, 2):  # no room to move: every view is the same
        assert _test_clip(path, clip_idx, num_clips=3) == [0, 36, 39, 39, 39, 39, 39, 39]
    assert _test_clip(path, 1, num_clips=3) == original_test_clip_frames(path, 8, 32, 30, 1, 3)


@pytest.mark.parametrize("fps", [25, Fraction(30000, 1001), 30], ids=["25", "29.97", "30"])
def test_test_clips_of_a_stream_without_length_in_header_match_decoding_it_whole(fps, tmp_path):
    if "libvpx" not in av.codecs_available:
        pytest.skip("libvpx encoder not available")
    path = write_counted_video(str(tmp_path / "v.webm"), 120, fps, codec="libvpx")
    with av.open(path) as container:
        assert container.streams.video[0].duration is None  # the original decodes it all
    views = [_test_clip(path, i, num_clips=4, num_frames=4, sampling_rate=8) for i in range(4)]
    assert views == [original_test_clip_frames(path, 4, 8, 30, i, 4) for i in range(4)]


def test_frames_of_another_size_are_resized_to_the_first_frames(tmp_path):
    """A stream whose resolution changes (64x64, then 96x80) used to fail in np.stack."""
    path = write_resolution_change_video(str(tmp_path / "resized.ts"))
    with open_video(path) as container:
        frames = decode_clips(container, fixed([0, 5, 50, 55]), 1)[0]
    assert frames.shape == (4, 64, 64, 3)
    levels = frames[..., 1].mean(axis=(1, 2))
    assert (levels[:2] < 30).all() and (levels[2:] > 140).all()  # both parts are in the clip


@pytest.mark.parametrize("pix_fmt", ["gray16le", "yuv420p10le", "bgra"])
def test_unusual_pixel_formats_become_rgb_clips(tmp_path, pix_fmt):
    path = str(tmp_path / f"{pix_fmt}.mkv")
    with av.open(path, "w") as container:
        stream = container.add_stream("ffv1", rate=30)
        stream.width, stream.height, stream.pix_fmt = 32, 32, pix_fmt
        for t in range(6):
            image = np.full((32, 32, 3), 40 * t, dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    with open_video(path) as container:
        frames = decode_clips(container, fixed([1, 4]), 1)[0]
    assert frames.shape == (2, 32, 32, 3) and frames.dtype == np.uint8
    assert np.allclose(frames[..., 1].mean(axis=(1, 2)), [40, 160], atol=3)


def test_frames_that_cannot_become_a_clip_are_a_video_read_error(long_video, monkeypatch):
    def empty_frames(container, wanted, fps, seek):
        return {int(index): np.zeros((0, 0, 3), dtype=np.uint8) for index in wanted}

    monkeypatch.setattr(decoder, "_decode_wanted", empty_frames)
    with pytest.raises(VideoReadError, match=r"decoded frame has shape \(0, 0, 3\)"):
        with open_video(long_video) as container:
            decode_clips(container, fixed([0, 1]), 1)[0]


def test_decode_to_end_catches_a_file_cut_short(tmp_path, long_video):
    """Index at the front, data cut in half: it opens, and clips near the start decode."""
    path = write_truncated_faststart_video(str(tmp_path / "half.mp4"))
    with open_video(path) as container:
        assert container.streams.video[0].frames == 300
        assert decode_clips(container, fixed([0, 10]), 1)[0].shape == (2, 64, 64, 3)
    with pytest.raises(VideoReadError, match=r"half\.mp4: (decoding fails|the stream ends) after"):
        with open_video(path) as container:
            decode_to_end(container)
    with open_video(long_video) as container:
        assert decode_to_end(container) == 60


# ---------------------------------------------------------------------------- #
# Several clips of one video in one pass (DATA.TRAIN_CROP_NUM_TEMPORAL)
# ---------------------------------------------------------------------------- #


def test_decoding_passes_share_a_pass_between_overlapping_or_touching_clips():
    passes = decoder.decoding_passes(
        [np.array([40, 44, 48]), np.array([9, 3, 5]), np.array([6, 8, 10]), np.array([49, 50])]
    )
    assert [p.tolist() for p in passes] == [[3, 5, 6, 8, 9, 10], [40, 44, 48, 49, 50]]
    apart = decoder.decoding_passes([np.array([0, 2]), np.array([4, 6])])
    assert [p.tolist() for p in apart] == [[0, 2], [4, 6]]


def test_overlapping_clips_are_decoded_in_one_pass_each_frame_once(long_video):
    with open_video(long_video) as container:
        counting = CountingContainer(container)
        clips = decoder.decode_clips(counting, drawn([27, 21, 23], [24, 26, 31]), 2)
    assert clips.shape == (2, 3, 48, 64, 3)
    assert [frame_numbers(clip) for clip in clips] == [[27, 21, 23], [24, 26, 31]]
    assert (
        counting.read <= FIRST_FRAME_READS + 12 + READ_AHEAD
    )  # key frame 20 .. 31, once (not 24 packets)


def test_clips_apart_in_a_long_video_get_a_seek_each(long_video):
    with open_video(long_video) as container:
        counting = CountingContainer(container)
        clips = decoder.decode_clips(counting, drawn([52, 54, 56], [12, 14, 16]), 2)
    assert [frame_numbers(clip) for clip in clips] == [[52, 54, 56], [12, 14, 16]]
    assert (
        counting.read <= FIRST_FRAME_READS + 14 + 2 * READ_AHEAD
    )  # key frames 10 .. 16 and 50 .. 56, not 10 .. 56


def test_several_clips_of_a_stream_without_length_in_header(tmp_path):
    path = write_frame_number_video(str(tmp_path / "raw.h264"), 30, 32, 48, 25)
    with open_video(path) as container:
        clips = decoder.decode_clips(container, drawn([0, 29], [3, 3], [28, 1]), 3)
    assert [frame_numbers(clip) for clip in clips] == [[0, 29], [3, 3], [28, 1]]


def test_frames_convert_to_the_rgb_that_pyav_gives(tmp_path):
    """The decoder's one-context converter gives ``frame.to_ndarray(format="rgb24")``, bit for
    bit, on texture that moves (every pixel and frame differs)."""
    path = write_video(str(tmp_path / "v.mp4"), list(moving_texture_video(40, 48, 64)), fps=30)
    indices = [3, 17, 17, 39, 0]
    with open_video(path) as container:
        frames = decode_clips(container, fixed(indices), 1)[0]
    assert np.array_equal(frames, all_frames(path)[indices])


def test_videos_decode_with_one_thread_unless_asked_for_several(long_video):
    """DATA_LOADER.ENABLE_MULTI_THREAD_DECODE False: one decoding thread, a core per loader
    worker (FFmpeg's default is a pool of slice threads per video)."""
    with open_video(long_video, multi_thread_decode=False) as container:
        codec = container.streams.video[0].codec_context
        assert codec.thread_count == 1
        assert frame_numbers(decode_clips(container, fixed([3, 30]), 1)[0]) == [3, 30]
    with open_video(long_video, multi_thread_decode=True) as container:
        assert container.streams.video[0].thread_type == av.codec.context.ThreadType.AUTO


def test_first_frame_reads_are_those_the_decoder_tests_allow(long_video):
    with open_video(long_video) as container:
        counting = CountingContainer(container)
        assert first_frame_pts(counting) == 0
    assert counting.read == FIRST_FRAME_READS


# ---------------------------------------------------------------------------- #
# Frame 0 is the first decoded frame, whatever the stream's start time
# ---------------------------------------------------------------------------- #

FIRST_PTS_NOT_START = {
    "mpeg4_bframes.avi": ("mpeg4", {"bf": "2"}),  # first pts 1, start time 0
    "x264.avi": ("libx264", {}),  # AVI keeps decode times: shown frames' timestamps go back
    "mpeg4_bframes.mkv": ("mpeg4", {"bf": "2"}),
    "x264.ts": ("libx264", {}),  # MPEG-TS: the stream starts 1.4 s in
}


@pytest.mark.parametrize("name", FIRST_PTS_NOT_START)
def test_frame_indices_count_from_the_first_decoded_frame(tmp_path, name):
    codec, options = FIRST_PTS_NOT_START[name]
    path = write_video(
        str(tmp_path / name), list(moving_texture_video(40, 48, 64)), 30, codec, options
    )
    full = all_frames(path)
    clips = [[0, 1, 2, 39], [20, 30, 39, 39], [5, 5, 6, 7], [38, 39, 45, 50]]
    with open_video(path) as container:
        decoded = decoder.decode_clips(container, drawn(*clips), len(clips))
    for clip, indices in zip(decoded, clips, strict=True):
        assert np.array_equal(clip, full[np.minimum(indices, 39)])
    with open_video(path) as container:
        assert decode_to_end(container) == 40


def test_the_first_frame_timestamp_is_read_from_packets(tmp_path):
    path = write_video(
        str(tmp_path / "v.avi"), list(moving_texture_video(12, 48, 64)), 30, "mpeg4", {"bf": "2"}
    )
    with av.open(path) as container:
        stream = container.streams.video[0]
        first_decoded = next(container.decode(stream)).pts
        assert (stream.start_time, first_decoded) == (0, 1)
        assert first_frame_pts(container) == 1
