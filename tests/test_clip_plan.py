"""Planning a clip's seeks (clip_plan.py) and the key-frame index it reads (keyframe_index.py):
the frames every encoding of the resize verb gives are those of a full decode, bit for bit,
with and without frame skipping; key frames every 250 frames (old files) keep one pass for
every training clip; close key frames split a clip into passes that decode fewer
frames; the index's key frames and reference flags; its cache."""

import os
import shutil
from functools import partial

import av
import numpy as np
import pytest
from av.video.frame import PictureType
from test_decoder import FIRST_PTS_NOT_START

from helpers import all_frames, drawn, tiny_cfg
from timesformer.datasets import decoder, frame_skipping
from timesformer.datasets.clip_dataset import VideoList
from timesformer.datasets.clip_plan import (
    MIN_SAVING,
    frames_decoded,
    pass_start,
    plan_passes,
    planned_frames,
)
from timesformer.datasets.decoder import decode_clips
from timesformer.datasets.frame_clock import FrameClock
from timesformer.datasets.keyframe_index import (
    KeyframeIndex,
    KeyframeIndexCache,
    read_keyframe_index,
)
from timesformer.datasets.kinetics import Kinetics
from timesformer.datasets.preparation.reencode import (
    EncodeSettings,
    random_access_settings,
    reencode_video,
)
from timesformer.datasets.sampling import spread_indices
from timesformer.datasets.synthetic_video import moving_texture_video, write_video
from timesformer.datasets.video_container import open_video

FRAMES = 96
# the resize verb's encodings: the default, --fast-decode, --gop, --random-access, B-frames
ENCODINGS = {
    "default": EncodeSettings(short_side=48),
    "default_fast_decode": EncodeSettings(short_side=48, fast_decode=True),
    "gop8": EncodeSettings(short_side=48, gop=8),
    "random_access": random_access_settings(EncodeSettings(short_side=48)),
    "gop8_unreferenced_b": EncodeSettings(short_side=48, gop=8, reference_b_frames=False),
    "gop16_5b_unreferenced": EncodeSettings(
        short_side=48, gop=16, b_frames=5, reference_b_frames=False
    ),
    "gop12_no_b": EncodeSettings(short_side=48, gop=12, b_frames=0),
}


@pytest.fixture(scope="module")
def encoded(tmp_path_factory):
    """{encoding name: path} of one 64x48 96-frame 30 fps video re-encoded each way."""
    folder = tmp_path_factory.mktemp("encodings")
    source = write_video(str(folder / "source.mp4"), moving_texture_video(FRAMES, 48, 64), 30)
    paths = {}
    for name, settings in ENCODINGS.items():
        paths[name] = str(folder / f"{name}.mp4")
        reencode_video(source, paths[name], settings)
    return paths


def random_clips(seed: int, count: int, frames: int = FRAMES) -> list[list[int]]:
    """``count`` clips of 4 to 8 sorted frame indices (repeats and a frame past the end
    allowed), spread over the whole video or part of it."""
    rng = np.random.default_rng(seed)
    clips = []
    for _ in range(count):
        start = int(rng.integers(0, frames - 8))
        end = int(rng.integers(start + 4, frames + 3))
        clips.append(sorted(rng.integers(start, end, size=int(rng.integers(4, 9))).tolist()))
    return clips


def decode_each(path: str, clips: list[list[int]], planned: bool = True) -> list[np.ndarray]:
    """Each clip decoded on its own, as a training clip is."""
    decoded = []
    for clip in clips:
        with open_video(path, multi_thread_decode=False) as container:
            indices = KeyframeIndexCache() if planned else None
            decoded.append(decode_clips(container, drawn(clip), 1, indices)[0])
    return decoded


def without_skipping(monkeypatch) -> None:
    """No frame skipped: the decoder treats no codec as skipping exactly."""
    monkeypatch.setattr(frame_skipping, "EXACT_SKIP_CODECS", frozenset())


def index_and_clock(path: str):
    with open_video(path) as container:
        clock = FrameClock.of_stream(container, decoder.video_fps(container.streams.video[0]))
        return read_keyframe_index(container, clock), clock


@pytest.mark.parametrize("skipping", [True, False], ids=["skipping", "no_skipping"])
@pytest.mark.parametrize("name", ENCODINGS)
def test_every_encoding_gives_the_frames_of_a_full_decode(encoded, name, skipping, monkeypatch):
    if not skipping:
        without_skipping(monkeypatch)
    full = all_frames(encoded[name])
    assert len(full) == FRAMES
    clips = random_clips(seed=len(name), count=12)
    for clip, frames in zip(clips, decode_each(encoded[name], clips), strict=True):
        assert np.array_equal(frames, full[np.minimum(clip, FRAMES - 1)]), (name, clip)


@pytest.mark.parametrize("name", ["gop8", "gop8_unreferenced_b", "random_access"])
def test_two_clips_of_one_video_give_the_frames_of_a_full_decode(encoded, name):
    full = all_frames(encoded[name])
    clips = [[2, 20, 41, 62, 66], [10, 30, 50, 70, 90]]
    with open_video(encoded[name]) as container:
        decoded = decode_clips(container, drawn(*clips), 2, KeyframeIndexCache())
    for clip, frames in zip(clips, decoded, strict=True):
        assert np.array_equal(frames, full[clip])


@pytest.mark.parametrize("skipping", [True, False], ids=["skipping", "no_skipping"])
@pytest.mark.parametrize("name", FIRST_PTS_NOT_START)
def test_the_decoders_test_streams_give_the_frames_of_a_full_decode(
    tmp_path, name, skipping, monkeypatch
):
    codec, options = FIRST_PTS_NOT_START[name]
    path = write_video(
        str(tmp_path / name), list(moving_texture_video(40, 48, 64)), 30, codec, {"g": "6"}
    )
    if not skipping:
        without_skipping(monkeypatch)
    full = all_frames(path)
    clips = [[0, 1, 2, 39], [3, 14, 27, 39], [5, 5, 6, 7], [38, 39, 45, 50], [1, 13, 25, 37]]
    for clip, frames in zip(clips, decode_each(path, clips), strict=True):
        assert np.array_equal(frames, full[np.minimum(clip, 39)]), clip


def test_close_key_frames_split_a_clip_into_passes_that_decode_fewer_frames(encoded):
    index, clock = index_and_clock(encoded["gop8_unreferenced_b"])
    wanted = np.array([3, 20, 37, 54, 71, 88])
    passes = plan_passes(index, clock, wanted)
    assert [part.tolist() for part in passes] == [[3], [20], [37], [54], [71], [88]]
    # about half the frames (x264's output varies a little from run to run on this machine)
    assert planned_frames(index, clock, passes) <= 0.6 * planned_frames(index, clock, [wanted])


def test_one_pass_where_a_clip_follows_one_key_frame(encoded):
    """Key frames every 250 frames (x264's default: old files) keep today's one pass."""
    index, clock = index_and_clock(encoded["default"])
    assert index.frame_index[index.key].tolist() == [0]
    for clip in random_clips(seed=3, count=20):
        wanted = np.unique(clip)
        assert [part.tolist() for part in plan_passes(index, clock, wanted)] == [wanted.tolist()]


@pytest.fixture(scope="module")
def old_file(tmp_path_factory):
    """(index, clock) of a 600-frame 30 fps video with x264's default key frames (every 250
    frames at most), as the files prepared before random access."""
    path = str(tmp_path_factory.mktemp("old") / "v.mp4")
    write_video(path, moving_texture_video(600, 16, 16), 30, options={"g": "250"})
    return index_and_clock(path)


def test_a_pass_is_split_only_where_it_saves_a_fifth(old_file):
    """Key frames 250 frames apart: a clip that reaches past the second one is split there only
    when that saves at least MIN_SAVING of one pass's cost."""
    index, clock = old_file
    first, second = index.frame_index[index.key].tolist()[:2]  # x264 may put one earlier
    assert first == 0 and 200 < second <= 250
    for wanted in ([10, second - 4, second - 1, second + 2], [10, second - 30, second + 5]):
        assert len(plan_passes(index, clock, np.array(wanted))) == 1, wanted
    apart = np.array([10, 20, 30, second + 40])  # the ~200 frames before the key frame skipped
    parts = plan_passes(index, clock, apart)
    assert [part.tolist() for part in parts] == [apart[:3].tolist(), apart[3:].tolist()]
    saved = 1 - planned_frames(index, clock, parts) / planned_frames(index, clock, [apart])
    assert saved > MIN_SAVING


def test_training_clips_of_old_files_keep_one_pass(old_file):
    """Every 8 x 32 training clip (8 frames over a 256-frame span, at a random place) of a file
    with x264's default key frames is read in one pass, as before the planner."""
    index, clock = old_file
    rng = np.random.default_rng(0)
    for start in rng.integers(0, 600 - 256, size=40):
        wanted = np.unique(spread_indices(float(start), float(start + 255), 8, 600))
        assert len(plan_passes(index, clock, wanted)) == 1, wanted


def test_frames_decoded_counts_what_a_pass_decodes(encoded, monkeypatch):
    """The cost model's count is within 3 of the frames the decoder gives (it decodes a few
    more, reordered, that it gives after the last wanted one)."""
    decoded = []

    def counted(*args):
        for frame in frame_skipping.decoded_frames(*args):
            decoded.append(frame.pts)
            yield frame

    monkeypatch.setattr(decoder, "decoded_frames", counted)
    for name in ("default", "gop8_unreferenced_b", "gop16_5b_unreferenced"):
        index, clock = index_and_clock(encoded[name])
        for clip in random_clips(seed=7, count=6):
            wanted = np.unique(clip)
            decoded.clear()
            decode_each(encoded[name], [clip], planned=False)
            start = pass_start(index, clock, int(wanted[0]))
            model = frames_decoded(index, start, wanted)
            assert abs(len(decoded) - model) <= 3, (name, clip)


def test_the_index_gives_key_frames_and_the_frames_nothing_references(encoded):
    for name, settings in ENCODINGS.items():
        path = encoded[name]
        index, _ = index_and_clock(path)
        with av.open(path) as container:
            frames = list(container.decode(video=0))
        b_frames = {frame.pts for frame in frames if frame.pict_type == PictureType.B}
        assert index.size == FRAMES and sorted(index.frame_index.tolist()) == list(range(FRAMES))
        keys = index.frame_index[index.key]
        assert keys[0] == 0 and np.diff([*keys, FRAMES]).max() <= (settings.gop or 250)
        unreferenced = set(index.pts[~index.reference].tolist())
        assert unreferenced <= b_frames, name  # only B-frames are never referenced
        if not settings.reference_b_frames or settings.b_frames == 0:
            assert unreferenced == b_frames, name
        if settings.b_frames == 0:
            assert not unreferenced


@pytest.mark.parametrize("extension", ["ts", "mkv"])
def test_the_index_reads_annex_b_and_matroska_streams(tmp_path, extension):
    """MPEG-TS keeps H.264 with start codes, Matroska with length prefixes (as mp4)."""
    path = write_video(
        str(tmp_path / f"v.{extension}"),
        list(moving_texture_video(40, 48, 64)),
        30,
        options={"g": "6", "b-pyramid": "none"},
    )
    index, _ = index_and_clock(path)
    with av.open(path) as container:
        b_frames = {
            frame.pts for frame in container.decode(video=0) if frame.pict_type == PictureType.B
        }
    assert len(b_frames) > 10 and set(index.pts[~index.reference].tolist()) == b_frames
    assert index.frame_index[index.key].tolist() == [0, 6, 12, 18, 24, 30, 36]


def test_avi_keeps_no_presentation_times_so_it_is_not_planned(tmp_path):
    path = write_video(str(tmp_path / "v.avi"), list(moving_texture_video(12, 48, 64)), 30)
    index, _ = index_and_clock(path)
    assert index is None


def test_an_index_covers_the_packets_from_a_clips_key_frame_to_the_next_after_it(encoded):
    with open_video(encoded["gop8"]) as container:
        clock = FrameClock.of_stream(container, 30.0)
        whole = read_keyframe_index(container, clock)
        stretch = read_keyframe_index(container, clock, 41, 50)
    keys = whole.frame_index[whole.key]
    start = keys[keys < 41].max()
    end = keys[keys > 50].min()
    assert sorted(stretch.frame_index.tolist()) == list(range(start, end))
    assert (whole.last, stretch.last) == (None, 50)
    assert stretch.covers(41, 50) and stretch.covers(45, 48)
    assert not stretch.covers(40, 50) and not stretch.covers(41, 51) and whole.covers(0, 200)


def test_the_cache_reads_a_video_once_and_again_when_it_changes(encoded, tmp_path, monkeypatch):
    reads = []

    def read(container, clock, first, last):
        reads.append((first, last))
        return KeyframeIndex(*(np.zeros(0),) * 4, first=first, last=last if last < 50 else None)

    monkeypatch.setattr("timesformer.datasets.keyframe_index.read_keyframe_index", read)
    cache = KeyframeIndexCache(capacity=2)
    path = str(tmp_path / "v.mp4")
    shutil.copy(encoded["gop8"], path)
    get = partial(_cached, cache)
    assert get(path, 10, 20) is get(path, 12, 20) and reads == [(10, 20)]
    get(path, 5, 20)  # not covered: read again
    get(path, 30, 60)  # read to the end: covers every later clip
    get(path, 80, 90)
    assert reads == [(10, 20), (5, 20), (30, 60)]
    shutil.copy(encoded["random_access"], path)  # rewritten in place: another size
    os.utime(path, ns=(1, 1))
    get(path, 80, 90)
    assert reads[-1] == (80, 90)
    get(encoded["gop8"], 0, 60), get(encoded["default"], 0, 60)  # two others: the first dropped
    assert len(cache) == 2
    get(path, 80, 90)
    assert len(reads) == 7


def _cached(cache: KeyframeIndexCache, path: str, first: int, last: int):
    with open_video(path) as container:
        clock = FrameClock.of_stream(container, 30.0)
        return cache.get(container, clock, first, last)


def test_the_training_loader_plans_its_clips(encoded, tmp_path):
    """Kinetics' training clips go through the planner, with the dataset's own cache (a loader
    worker's copy), and give the frames that one pass over their spans gives."""
    cfg = tiny_cfg("", str(tmp_path), "DATA.NUM_FRAMES", "8", "DATA.SAMPLING_RATE", "8")
    videos = VideoList([encoded["random_access"]], [0])
    planned, one_pass = Kinetics(cfg, "train", videos), Kinetics(cfg, "train", videos)
    one_pass.keyframe_indices = None  # decode_clips' one pass per span
    for seed in range(3):
        np.random.seed(seed)
        clips = planned.load_random_clips(0, 2)
        np.random.seed(seed)
        assert np.array_equal(clips, one_pass.load_random_clips(0, 2))
    assert len(planned.keyframe_indices) == 1
