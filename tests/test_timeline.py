"""tools/timeline.py (timesformer/cli/timeline.py and the engine modules under it) on a tiny model
and generated videos: the windows' scores equal the model's on each window decoded on its own,
the files written, the annotated copy, bad input, and the rolling buffer's memory."""

import csv
import json
import math
import os

import av
import numpy as np
import pytest
import torch

from helpers import TINY_RUN, drawn, tiny_cfg
from timesformer.cli.timeline import main
from timesformer.datasets.decoder import decode_clips, video_fps
from timesformer.datasets.frame_clock import FrameClock
from timesformer.datasets.synthetic_video import moving_texture_video, write_video
from timesformer.datasets.video_container import open_video
from timesformer.engine.frame_stream import DecodingErrors, stream_frames
from timesformer.engine.inference import (
    load_inference_model,
    run_on_views,
    shown_scores,
    views_of_files,
)
from timesformer.engine.timeline import TimelineRequest, video_timeline
from timesformer.engine.video_windows import WindowBuffer, WindowPlan
from timesformer.engine.window_scores import window_view
from timesformer.models.build import build_bare_model

FPS = 16
WINDOW = ["DATA.NUM_FRAMES", "4", "DATA.SAMPLING_RATE", "4", "DATA.TARGET_FPS", "16"]
"""Windows of 4 frames 4 apart at 16 fps: 1 s, 16 frames of the FPS videos."""
ARGS = TINY_RUN + WINDOW
SECONDS = 4


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(folder, a 4 s 32x32 video at 16 fps, checkpoint of a random tiny 2-class model, cfg)."""
    folder = tmp_path_factory.mktemp("timeline")
    video = write_video(
        str(folder / "clip.mp4"), list(moving_texture_video(SECONDS * FPS, 32, 32)), fps=FPS
    )
    cfg = tiny_cfg("", str(folder / "out"), *WINDOW)
    torch.manual_seed(0)
    model = build_bare_model(cfg)
    torch.nn.init.normal_(model.model.blocks[0].temporal_fc.weight, std=0.2)
    checkpoint = str(folder / "tiny.pyth")
    torch.save({"model_state": model.state_dict()}, checkpoint)
    return folder, video, checkpoint, cfg


def _request(cfg, stride, **options) -> TimelineRequest:
    return TimelineRequest(stride=stride, top_k=2, **options)


def _expected_windows(duration: float, window: float, stride: float) -> int:
    return math.floor((duration - window) / stride + 1e-9) + 1


@pytest.mark.parametrize("stride", [0.5, 1.5], ids=["overlapping", "with-gaps"])
def test_each_window_scores_as_its_clip_decoded_on_its_own(stride, setup):
    _, video, checkpoint, cfg = setup
    timeline, _ = video_timeline(cfg, checkpoint, video, _request(cfg, stride, batch_size=3))
    entries = timeline.entries
    assert len(entries) == _expected_windows(SECONDS, 1.0, stride)
    assert [e.start for e in entries] == pytest.approx([k * stride for k in range(len(entries))])
    assert [e.end - e.start for e in entries] == pytest.approx([1.0] * len(entries))
    model, view = load_inference_model(cfg, checkpoint), window_view(cfg)
    plan = WindowPlan.of_video(cfg, FPS, stride)
    for entry in entries:
        with open_video(video) as container:  # seeks to the window's frames, decodes them alone
            clip = decode_clips(container, drawn(plan.indices(entry.window)), 1)[0]
        logits = run_on_views(model, view(clip)[None], cfg)
        torch.testing.assert_close(entry.scores, shown_scores(logits, cfg), rtol=1e-5, atol=1e-6)


def test_window_zero_is_the_single_test_view(setup):
    """Window 0 is clip 0 of 1 of the test views (TEST.NUM_ENSEMBLE_VIEWS 1, one crop): the same
    frames and the same transform as predict's."""
    _, video, checkpoint, cfg = setup
    one_view = cfg.clone()
    one_view.TEST.NUM_ENSEMBLE_VIEWS, one_view.TEST.NUM_SPATIAL_CROPS = 1, 1
    timeline, _ = video_timeline(cfg, checkpoint, video, _request(cfg, 0.5))
    clip = views_of_files(one_view, [video])[0][0]
    logits = run_on_views(load_inference_model(cfg, checkpoint), clip[None], cfg)
    torch.testing.assert_close(timeline.entries[0].scores, shown_scores(logits, cfg))


def test_smoothing_is_the_centred_mean(setup):
    _, video, checkpoint, cfg = setup
    raw, _ = video_timeline(cfg, checkpoint, video, _request(cfg, 0.5, batch_size=2))
    smooth, _ = video_timeline(cfg, checkpoint, video, _request(cfg, 0.5, smooth=3))
    scores = torch.stack([entry.scores for entry in raw.entries])
    for k, entry in enumerate(smooth.entries):
        expected = scores[max(k - 1, 0) : k + 2].mean(dim=0)
        torch.testing.assert_close(entry.scores, expected)
    assert any("centred mean over 3" in note for note in smooth.notes)


def test_files_stdout_and_the_annotated_copy(setup, tmp_path, capsys):
    _, video, checkpoint, _ = setup
    names = tmp_path / "names.txt"
    names.write_text("left\nright\n")
    output_video = str(tmp_path / "annotated.mp4")
    argv = ["--checkpoint", checkpoint, "--class-names", str(names), "--stride", "0.5"]
    argv += ["--top-k", "2", "--output-dir", str(tmp_path / "out"), "--output-video", output_video]
    assert main([*argv, video, *ARGS]) == 0
    lines = capsys.readouterr().out.splitlines()
    count = _expected_windows(SECONDS, 1.0, 0.5)
    assert len(lines) == count and lines[0].split()[:2] == ["0.00-", "1.00"]
    assert lines[0].split()[3] in ("left", "right")

    with open(tmp_path / "out" / "timeline.csv") as stream:
        rows = list(csv.DictReader(stream))
    report = json.loads((tmp_path / "out" / "timeline.json").read_text())
    assert len(rows) == len(report["windows"]) == count
    for k, (row, window) in enumerate(zip(rows, report["windows"], strict=True)):
        assert float(row["start_s"]) == pytest.approx(0.5 * k) == window["start_s"]
        assert float(row["end_s"]) == pytest.approx(0.5 * k + 1) == window["end_s"]
        assert row["skipped"] == "0" and not window["skipped"]
        assert [entry["name"] for entry in window["top_k"]] == [row["name_1"], row["name_2"]]
        assert float(row["score_1"]) == pytest.approx(window["top_k"][0]["score"], abs=1e-6)
    assert report["window_s"] == pytest.approx(1.0) and report["smooth"] == 1
    with open(tmp_path / "out" / "timeline.png", "rb") as stream:
        assert stream.read(8) == b"\x89PNG\r\n\x1a\n"

    with av.open(output_video) as container, av.open(video) as source:
        copy, original = container.streams.video[0], source.streams.video[0]
        assert copy.codec_context.name == "h264"
        assert copy.average_rate == original.average_rate == FPS
        assert sum(1 for _ in container.decode(copy)) == SECONDS * FPS


def test_default_output_folder_is_next_to_the_video(setup, tmp_path, capsys):
    _, video, checkpoint, _ = setup
    copy = tmp_path / "walk.mp4"
    copy.write_bytes(open(video, "rb").read())
    assert main(["--checkpoint", checkpoint, "--stride", "1.5", str(copy), *ARGS]) == 0
    assert sorted(os.listdir(tmp_path / "walk.timeline")) == [
        "timeline.csv",
        "timeline.json",
        "timeline.png",
    ]
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_a_video_shorter_than_a_window_gets_one_padded_window(setup, tmp_path, capsys):
    _, _, checkpoint, cfg = setup
    short = write_video(str(tmp_path / "short.mp4"), list(moving_texture_video(8, 32, 32)), FPS)
    assert main(["--checkpoint", checkpoint, short, *ARGS]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 1
    assert "shorter than one window" in captured.err
    report = json.loads((tmp_path / "short.timeline" / "timeline.json").read_text())
    assert [w["padded"] for w in report["windows"]] == [True]
    assert report["windows"][0]["end_s"] == pytest.approx(0.5)
    # The padded window is the single test view of the short video (its last frame repeated).
    timeline, _ = video_timeline(cfg, checkpoint, short, _request(cfg, None))
    one_view = cfg.clone()
    one_view.TEST.NUM_ENSEMBLE_VIEWS, one_view.TEST.NUM_SPATIAL_CROPS = 1, 1
    clip = views_of_files(one_view, [short])[0][0]
    logits = run_on_views(load_inference_model(cfg, checkpoint), clip[None], cfg)
    torch.testing.assert_close(timeline.entries[0].scores, shown_scores(logits, cfg))


def test_a_stride_longer_than_the_video_gives_one_window(setup, tmp_path, capsys):
    _, video, checkpoint, _ = setup
    argv = ["--checkpoint", checkpoint, "--stride", "10", "--output-dir", str(tmp_path)]
    assert main([*argv, video, *ARGS]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 1 and "longer than the video" in captured.err


def test_a_corrupt_middle_is_skipped_and_the_rest_predicted(setup, tmp_path, capsys):
    _, video, checkpoint, _ = setup
    data = bytearray(open(video, "rb").read())
    for i in range(int(len(data) * 0.4), int(len(data) * 0.45)):
        data[i] = (data[i] * 7 + 13) % 256
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(bytes(data))
    assert main(["--checkpoint", checkpoint, "--stride", "0.5", str(broken), *ARGS]) == 0
    captured = capsys.readouterr()
    report = json.loads((tmp_path / "broken.timeline" / "timeline.json").read_text())
    skipped = [window["skipped"] for window in report["windows"]]
    assert len(skipped) == _expected_windows(SECONDS, 1.0, 0.5)
    assert skipped[0] is False and skipped[-1] is False and any(skipped)
    assert all(w["top_k"] == [] for w in report["windows"] if w["skipped"])
    assert "could not be decoded" in captured.err and "skipped" in captured.out


@pytest.mark.parametrize(
    "make_argv, message",
    [
        (lambda tmp, video: ["--output-dir", str(_a_file(tmp)), video], "is a file, not a folder"),
        (lambda tmp, video: [str(tmp / "missing.mp4")], "missing.mp4: file not found"),
        (lambda tmp, video: ["--smooth", "2", video], "--smooth must be an odd number"),
        (lambda tmp, video: ["--output-video", str(tmp / "x.gif"), video], "--output-video"),
    ],
    ids=["unwritable-output", "missing-video", "even-smooth", "video-format"],
)
def test_bad_input_is_one_line(make_argv, message, setup, tmp_path, capsys):
    _, video, checkpoint, _ = setup
    with pytest.raises(SystemExit) as stop:
        main(["--checkpoint", checkpoint, *make_argv(tmp_path, video), *ARGS])
    assert stop.value.code != 0
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing decoded
    assert message in captured.err.strip().splitlines()[-1]  # after argparse's usage, if any


def _a_file(folder):
    path = folder / "taken"
    path.write_text("")
    return path


def test_the_buffer_holds_only_the_open_windows_frames(tmp_path):
    """A 60 s video: the rolling buffer never holds more frames than the windows overlapping the
    latest frame take, however long the video."""
    frames = (np.full((16, 16, 3), t % 256, dtype=np.uint8) for t in range(60 * FPS))
    video = write_video(str(tmp_path / "long.mp4"), frames, FPS)
    cfg = tiny_cfg("", str(tmp_path), *WINDOW)
    plan = WindowPlan.of_video(cfg, FPS, 0.25)  # windows of 16 frames, every 4 frames
    bound = (math.ceil(plan.span / (plan.stride * FPS)) + 1) * plan.num_frames
    buffer, cut, held = WindowBuffer(plan), 0, []
    with open_video(video) as container:
        clock = FrameClock.of_stream(container, video_fps(container.streams.video[0]))
        for decoded in stream_frames(container, clock, DecodingErrors()):
            rgb = decoded.frame.to_ndarray(format="rgb24")
            cut += len(buffer.add(decoded.index, lambda image=rgb: image))
            held.append(buffer.held_frames)
    assert cut == _expected_windows(60, 1.0, 0.25) and len(held) == 60 * FPS
    assert buffer.peak_held_frames <= bound == 20
    assert max(held) <= bound and max(held[: 10 * FPS]) == max(held)
