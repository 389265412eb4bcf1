"""tools/timeline.py (timesformer/cli/timeline.py and the engine modules under it) on a tiny model
and generated videos: the windows' scores equal the model's on each window decoded on its own,
the files written, the annotated copy, bad input, and the rolling buffer's memory."""

import csv
import io
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import av
import numpy as np
import pytest
import torch

from helpers import (
    TINY_RUN,
    TINY_WINDOW,
    WINDOW_FPS,
    corrupt_middle,
    drawn,
    tiny_cfg,
    write_window_setup,
)
from timesformer.cli import timeline as timeline_command
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
from timesformer.engine.window_scores import WindowScorer, window_view

FPS, WINDOW = WINDOW_FPS, TINY_WINDOW
ARGS = TINY_RUN + WINDOW
SECONDS = 4


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(folder, a 4 s 32x32 video at 16 fps, checkpoint of a random tiny 2-class model, cfg)."""
    folder = tmp_path_factory.mktemp("timeline")
    return folder, *write_window_setup(folder, SECONDS)


def _entries(cfg, checkpoint, video, stride, folder, **options) -> tuple[list, object]:
    """The windows of ``video``'s timeline (outputs in ``folder``), and the timeline."""
    request = TimelineRequest(stride=stride, top_k=2, output_dir=str(folder), **options)
    entries: list = []
    timeline, _ = video_timeline(cfg, checkpoint, video, request, on_entry=entries.append)
    return entries, timeline


def _expected_windows(duration: float, window: float, stride: float) -> int:
    return math.floor((duration - window) / stride + 1e-9) + 1


@pytest.mark.parametrize("stride", [0.5, 1.5], ids=["overlapping", "with-gaps"])
def test_each_window_scores_as_its_clip_decoded_on_its_own(stride, setup, tmp_path):
    _, video, checkpoint, cfg = setup
    entries, _ = _entries(cfg, checkpoint, video, stride, tmp_path, batch_size=3)
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


def test_window_zero_is_the_single_test_view(setup, tmp_path):
    """Window 0 is clip 0 of 1 of the test views (TEST.NUM_ENSEMBLE_VIEWS 1, one crop): the same
    frames and the same transform as predict's."""
    _, video, checkpoint, cfg = setup
    one_view = cfg.clone()
    one_view.TEST.NUM_ENSEMBLE_VIEWS, one_view.TEST.NUM_SPATIAL_CROPS = 1, 1
    entries, _ = _entries(cfg, checkpoint, video, 0.5, tmp_path)
    clip = views_of_files(one_view, [video])[0][0]
    logits = run_on_views(load_inference_model(cfg, checkpoint), clip[None], cfg)
    torch.testing.assert_close(entries[0].scores, shown_scores(logits, cfg))


def test_smoothing_is_the_centred_mean(setup, tmp_path):
    _, video, checkpoint, cfg = setup
    raw, _ = _entries(cfg, checkpoint, video, 0.5, tmp_path, batch_size=2)
    smooth, timeline = _entries(cfg, checkpoint, video, 0.5, tmp_path / "smooth", smooth=3)
    scores = torch.stack([entry.scores for entry in raw])
    assert len(smooth) == len(raw)
    for k, entry in enumerate(smooth):
        expected = scores[max(k - 1, 0) : k + 2].mean(dim=0)
        torch.testing.assert_close(entry.scores, expected)
    assert any("centred mean over 3" in note for note in timeline.notes)


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
    entries, _ = _entries(cfg, checkpoint, short, None, tmp_path)
    one_view = cfg.clone()
    one_view.TEST.NUM_ENSEMBLE_VIEWS, one_view.TEST.NUM_SPATIAL_CROPS = 1, 1
    clip = views_of_files(one_view, [short])[0][0]
    logits = run_on_views(load_inference_model(cfg, checkpoint), clip[None], cfg)
    torch.testing.assert_close(entries[0].scores, shown_scores(logits, cfg))


def test_a_stride_longer_than_the_video_gives_one_window(setup, tmp_path, capsys):
    _, video, checkpoint, _ = setup
    argv = ["--checkpoint", checkpoint, "--stride", "10", "--output-dir", str(tmp_path)]
    assert main([*argv, video, *ARGS]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 1 and "longer than the video" in captured.err


def test_a_corrupt_middle_is_skipped_and_the_rest_predicted(setup, tmp_path, capsys):
    _, video, checkpoint, _ = setup
    broken = corrupt_middle(video, tmp_path / "broken.mp4")
    assert main(["--checkpoint", checkpoint, "--stride", "0.5", broken, *ARGS]) == 0
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


def _free_port(kind=socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stream_to(url: str, seconds: float, stop: threading.Event, first_frame: int = 0):
    """Send a ``seconds`` long 32x32 H.264 video at FPS in MPEG-TS to ``url`` (udp:// or
    tcp://127.0.0.1:PORT), in real time (a key frame every half second), its first frame's
    timestamp that of frame ``first_frame``, after half a second (a TCP connection retried until
    the tool listens); ``stop`` ends it early."""
    time.sleep(0.5)
    with _opened_for_writing(url) as output:
        stream = output.add_stream("libx264", rate=FPS)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        stream.options = {"g": str(FPS // 2), "tune": "zerolatency"}
        started = time.monotonic()
        for index, image in enumerate(moving_texture_video(int(seconds * FPS), 32, 32)):
            if stop.is_set():
                break
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = first_frame + index
            output.mux(stream.encode(frame))
            time.sleep(max(started + (index + 1) / FPS - time.monotonic(), 0))
        output.mux(stream.encode(None))


def _opened_for_writing(url: str, patience: float = 20.0):
    deadline = time.monotonic() + patience
    while True:
        try:
            return av.open(url, "w", format="mpegts")
        except OSError:  # a refused connection: the tool is not listening yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _sender(port: int, seconds: float, protocol: str = "udp", first_frame: int = 0):
    """The thread sending :func:`_stream_to` to 127.0.0.1:``port``, and its stop event."""
    stop = threading.Event()
    url = f"{protocol}://127.0.0.1:{port}" + ("?pkt_size=1316" if protocol == "udp" else "")
    arguments = (url, seconds, stop, first_frame)
    thread = threading.Thread(target=_stream_to, args=arguments, daemon=True)
    thread.start()
    return thread, stop


def test_a_live_udp_stream_is_labelled_until_it_ends(setup, tmp_path, capsys):
    """The test streams a video to 127.0.0.1 over UDP; the tool reads it as it arrives, prints
    each window, and stops when no data has come for --timeout seconds."""
    _, _, checkpoint, _ = setup
    port = _free_port()
    sender, _ = _sender(port, seconds=3)
    argv = ["--checkpoint", checkpoint, "--stride", "0.5", "--timeout", "2"]
    argv += ["--output-dir", str(tmp_path), f"udp://127.0.0.1:{port}"]
    assert main([*argv, *ARGS]) == 0
    sender.join()
    captured = capsys.readouterr()
    printed = captured.out.splitlines()
    assert 2 <= len(printed) <= _expected_windows(3, 1.0, 0.5)  # joined at a key frame
    assert "no data for 2 s" in captured.err
    report = json.loads((tmp_path / "timeline.json").read_text())
    assert len(report["windows"]) == len(printed)
    assert not any(window["skipped"] for window in report["windows"])
    assert report["video"] == f"udp://127.0.0.1:{port}"


def test_a_tcp_sender_that_disconnects_ends_the_stream(setup, tmp_path, capsys):
    """The tool listens on TCP; the sender connects, streams 2 s (timestamps from 1 h on, as a
    stream joined late) and closes the connection: the run ends there, the windows so far
    written, their times counted from the first frame that arrived."""
    _, _, checkpoint, _ = setup
    port = _free_port(socket.SOCK_STREAM)
    sender, _ = _sender(port, seconds=2, protocol="tcp", first_frame=3600 * FPS)
    argv = ["--checkpoint", checkpoint, "--stride", "0.5", "--output-dir", str(tmp_path)]
    assert main([*argv, f"tcp://127.0.0.1:{port}?listen=1", *ARGS]) == 0
    sender.join()
    captured = capsys.readouterr()
    printed = captured.out.splitlines()
    assert len(printed) == _expected_windows(2, 1.0, 0.5)
    assert printed[0].split()[:2] == ["0.00-", "1.00"]
    assert "the stream ended after 2.00 s" in captured.err


def test_a_slow_model_drops_windows_and_counts_them(setup, tmp_path, capsys, monkeypatch):
    """Windows come 8 a second; a model that takes 0.3 s a batch cannot keep up: with at most
    one window waiting, the others are dropped, counted, and marked, and the scored ones still
    come out in order."""
    _, _, checkpoint, _ = setup
    score = WindowScorer.score

    def slow_score(self, windows):
        time.sleep(0.3)
        return score(self, windows)

    monkeypatch.setattr(WindowScorer, "score", slow_score)
    port = _free_port()
    sender, _ = _sender(port, seconds=4)
    argv = ["--checkpoint", checkpoint, "--stride", "0.125", "--timeout", "2"]
    argv += ["--batch-size", "1", "--max-waiting", "1", "--output-dir", str(tmp_path)]
    assert main([*argv, f"udp://127.0.0.1:{port}", *ARGS]) == 0
    sender.join()
    captured = capsys.readouterr()
    report = json.loads((tmp_path / "timeline.json").read_text())
    windows = report["windows"]
    dropped = [window for window in windows if window["dropped"]]
    scored = [window for window in windows if not window["skipped"]]
    assert dropped and scored and all(window["skipped"] for window in dropped)
    assert [window["window"] for window in windows] == list(range(len(windows)))
    assert f"{len(dropped)} window(s) dropped because the model was behind" in captured.err
    assert sum("dropped (the model was behind)" in line for line in captured.out.splitlines()) == (
        len(dropped)
    )


def test_ctrl_c_stops_a_live_run_with_its_outputs_written(setup, tmp_path):
    """SIGINT (Ctrl-C) during a live stream: the windows scored so far are written, complete,
    and the exit status is 130."""
    _, _, checkpoint, _ = setup
    port = _free_port()
    sender, stop = _sender(port, seconds=60)
    command = [sys.executable, "-m", "timesformer", "timeline", "--checkpoint", checkpoint]
    command += ["--stride", "0.5", "--output-dir", str(tmp_path), f"udp://127.0.0.1:{port}"]
    child = subprocess.Popen(
        [*command, *ARGS], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        first = child.stdout.readline()  # the first window's line: the run is under way
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        stop.set()
        child.kill()
    sender.join()
    assert first.split()[:2] == ["0.00-", "1.00"]
    assert child.returncode == 130, err
    assert "stopped by Ctrl-C" in err
    report = json.loads((tmp_path / "timeline.json").read_text())
    assert len(report["windows"]) == 1 + len(out.splitlines())
    rows = list(csv.DictReader(open(tmp_path / "timeline.csv")))
    assert len(rows) == len(report["windows"])
    assert (tmp_path / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_pipe_is_read_to_its_end(setup, tmp_path, capsys, monkeypatch):
    """``-``: an MPEG-TS stream on standard input, read until it ends."""
    _, _, checkpoint, _ = setup
    stream_file = tmp_path / "clip.ts"
    write_video(str(stream_file), list(moving_texture_video(3 * FPS, 32, 32)), FPS)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(open(stream_file, "rb")))
    argv = ["--checkpoint", checkpoint, "--stride", "0.5", "--input-format", "mpegts"]
    assert main([*argv, "--output-dir", str(tmp_path / "out"), "-", *ARGS]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == _expected_windows(3, 1.0, 0.5)
    assert "the stream ended after 3.00 s" in captured.err


def test_a_live_source_that_sends_nothing_is_one_line(setup, tmp_path, capsys):
    _, _, checkpoint, _ = setup
    argv = ["--checkpoint", checkpoint, "--timeout", "1", "--output-dir", str(tmp_path)]
    with pytest.raises(SystemExit) as stop:
        main([*argv, f"udp://127.0.0.1:{_free_port()}", *ARGS])
    assert stop.value.code != 0
    assert "nothing could be read within 1 s" in capsys.readouterr().err.strip().splitlines()[-1]
    assert not os.listdir(tmp_path)


def test_ctrl_c_stops_a_file_at_the_next_frame(setup, tmp_path, capsys, monkeypatch):
    """SIGINT after the first window is printed: the pass stops at the next frame, the windows
    scored by then (and those waiting for the model) are written, complete, exit status 130."""
    _, video, checkpoint, _ = setup
    printed = []

    def print_then_interrupt(entry):
        printed.append(entry)
        if len(printed) == 1:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(timeline_command, "print_entry", print_then_interrupt)
    argv = ["--checkpoint", checkpoint, "--stride", "0.25", "--batch-size", "1"]
    assert main([*argv, "--output-dir", str(tmp_path), video, *ARGS]) == 130
    report = json.loads((tmp_path / "timeline.json").read_text())
    assert 1 <= len(report["windows"]) == len(printed) < _expected_windows(SECONDS, 1.0, 0.25)
    assert any("stopped by Ctrl-C" in note for note in report["notes"])
    assert "stopped by Ctrl-C" in capsys.readouterr().err
