"""``prepare_dataset.py resize``: sizes, timestamps, audio, the mirrored tree, unreadable inputs
and names, folder mistakes, resuming after kill -9 and Ctrl-C, a full disk (reencode.py,
resize.py, parallel_jobs.py and the verb's command line)."""

import argparse
import errno
import hashlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction

import av
import numpy as np
import pytest

from helpers import PROGRAM, REPO_ROOT, write_truncated_copy, write_truncated_faststart_video
from timesformer.cli.prepare_dataset import main
from timesformer.cli.prepare_resize import (
    add_encoding_arguments,
    add_random_access_arguments,
    encode_settings,
)
from timesformer.datasets.preparation import reencode
from timesformer.datasets.preparation.reencode import (
    EncodeSettings,
    nearest_even,
    output_size,
    random_access_settings,
)
from timesformer.datasets.synthetic_video import moving_texture_video, write_video

SHORT_SIDE = 32
VFR_PTS = [0, 40, 120, 160, 200, 320, 360, 440, 480, 520, 600, 640]
"""Timestamps (ms) of the variable-frame-rate video: frames 40, 80 and 120 ms apart."""
GOOD = {  # input: (output, frames, output width, output height)
    "landscape.mp4": ("landscape.mp4", 12, 42, 32),  # 64x48
    "sub/portrait.mkv": ("sub/portrait.mp4", 12, 32, 42),  # 48x64
    "sub/deeper/odd.mov": ("sub/deeper/odd.mp4", 10, 42, 32),  # 51x39: 41.8 -> 42, not 40
    "vfr.mp4": ("vfr.mp4", len(VFR_PTS), 42, 32),  # 64x48
    "with_audio.mp4": ("with_audio.mp4", 12, 42, 32),  # 64x48
}
BAD_NAMES = {b"bad\xff.mp4": "not valid UTF-8", b"ctl\x01.mp4": "control character"}


def write_odd_size_video(path: str, num_frames: int = 10) -> str:
    """A 51x39 (odd sides) PNG-in-QuickTime video at 25 fps: RGB frames, no chroma subsampling."""
    with av.open(path, "w") as container:
        stream = container.add_stream("png", rate=25)
        stream.width, stream.height, stream.pix_fmt = 51, 39, "rgb24"
        for image in moving_texture_video(num_frames, 39, 51):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return path


def write_vfr_video(path: str) -> str:
    """A 64x48 H.264 mp4 whose frames lie at :data:`VFR_PTS` milliseconds."""
    with av.open(path, "w") as container:
        stream = container.add_stream("libx264", rate=25, width=64, height=48)
        stream.codec_context.time_base = Fraction(1, 1000)
        for pts, image in zip(VFR_PTS, moving_texture_video(len(VFR_PTS), 48, 64), strict=True):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def write_video_with_audio(path: str, num_frames: int = 12) -> str:
    """A 64x48 H.264 mp4 at 25 fps with an AAC audio track as long."""
    with av.open(path, "w") as container:
        video = container.add_stream("libx264", rate=25, width=64, height=48)
        audio = container.add_stream("aac", rate=48000)
        for image in moving_texture_video(num_frames, 48, 64):
            container.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        samples = np.zeros((1, 48000 * num_frames // 25), dtype=np.float32)
        sound = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        sound.sample_rate = 48000
        container.mux(audio.encode(sound))
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
    return path


def file_hashes(folder: str) -> dict[str, str]:
    """sha256 of every file under ``folder``, by relative path."""
    hashes = {}
    for root, _, names in os.walk(folder):
        for name in names:
            with open(os.path.join(root, name), "rb") as stream:
                hashes[os.path.relpath(os.path.join(root, name), folder)] = hashlib.sha256(
                    stream.read()
                ).hexdigest()
    return hashes


def frame_times(path: str) -> list[float]:
    """Every frame's time in seconds, decoded."""
    with av.open(path) as container:
        return [float(frame.time) for frame in container.decode(video=0)]


@pytest.fixture(scope="module")
def resized(tmp_path_factory):
    """A tree of the :data:`GOOD` videos, a text file under a video name, three truncated
    videos (an mp4 without its index, an mp4 and an mkv whose end is missing) and
    :data:`BAD_NAMES`; resized once. (input dir, output dir, exit status, input hashes
    before, report)."""
    source = str(tmp_path_factory.mktemp("videos"))
    os.makedirs(os.path.join(source, "sub", "deeper"))
    write_video(os.path.join(source, "landscape.mp4"), moving_texture_video(12, 48, 64), 25)
    write_video(os.path.join(source, "sub/portrait.mkv"), moving_texture_video(12, 64, 48), 25)
    write_odd_size_video(os.path.join(source, "sub/deeper/odd.mov"))
    write_vfr_video(os.path.join(source, "vfr.mp4"))
    write_video_with_audio(os.path.join(source, "with_audio.mp4"))
    with open(os.path.join(source, "sub", "notes.mp4"), "w") as stream:
        stream.write("not a video\n")
    write_truncated_copy(os.path.join(source, "landscape.mp4"), os.path.join(source, "cut.mp4"))
    write_truncated_faststart_video(os.path.join(source, "sub", "half.mp4"), num_frames=60)
    write_video(os.path.join(source, "whole.mkv"), moving_texture_video(60, 48, 64), 25)
    write_truncated_copy(os.path.join(source, "whole.mkv"), os.path.join(source, "short.mkv"))
    os.remove(os.path.join(source, "whole.mkv"))
    for name in BAD_NAMES:
        with open(os.path.join(os.fsencode(source), name), "wb") as stream:
            stream.write(b"never read")
    hashes = file_hashes(source)
    output = str(tmp_path_factory.mktemp("resized"))
    status = main(["resize", source, output, "--short-side", str(SHORT_SIDE), "--jobs", "2"])
    with open(os.path.join(output, "resize_report.json")) as stream:
        report = json.load(stream)
    return source, output, status, hashes, report


def test_sizes_keep_the_aspect_ratio_with_even_sides(resized):
    _, output, *_ = resized
    for name, (output_name, _, width, height) in GOOD.items():
        with av.open(os.path.join(output, output_name)) as container:
            stream = container.streams.video[0]
            assert (stream.width, stream.height) == (width, height), name
            assert stream.codec_context.name == "h264"
            assert stream.codec_context.pix_fmt == "yuv420p"


def test_frame_count_frame_rate_and_timestamps_are_kept(resized):
    source, output, *_ = resized
    for name, (output_name, frames, _, _) in GOOD.items():
        before, after = (os.path.join(source, name), os.path.join(output, output_name))
        times = frame_times(after)
        assert len(times) == frames, name
        np.testing.assert_allclose(times, frame_times(before), atol=1e-3, err_msg=name)
        with av.open(before) as original, av.open(after) as resized_video:
            rate = original.streams.video[0].average_rate
            assert resized_video.streams.video[0].average_rate == rate, name
    assert np.allclose(frame_times(os.path.join(output, "vfr.mp4")), np.array(VFR_PTS) / 1000)


def test_audio_is_dropped(resized):
    source, output, *_ = resized
    with av.open(os.path.join(source, "with_audio.mp4")) as container:
        assert len(container.streams.audio) == 1
    with av.open(os.path.join(output, "with_audio.mp4")) as container:
        assert len(container.streams.audio) == 0 and len(container.streams.video) == 1


def test_the_output_tree_mirrors_the_input_tree(resized):
    _, output, *_ = resized
    expected = {output_name for output_name, *_ in GOOD.values()} | {"resize_report.json"}
    assert set(file_hashes(output)) == expected


def test_unreadable_inputs_and_names_are_reported_and_the_rest_done(resized):
    _, _, status, _, report = resized
    assert status == 1
    reasons = {failure["input"]: failure["reason"] for failure in report["failed"]}
    assert set(reasons) == {
        "cut.mp4",
        "short.mkv",
        "sub/half.mp4",
        "sub/notes.mp4",
        "'bad\\udcff.mp4'",
        "'ctl\\x01.mp4'",
    }
    assert "cannot open" in reasons["sub/notes.mp4"] and "cannot open" in reasons["cut.mp4"]
    assert "decoding failed" in reasons["sub/half.mp4"]
    assert "of the 2.40 s its header gives" in reasons["short.mkv"]
    assert "not valid UTF-8" in reasons["'bad\\udcff.mp4'"]
    assert "control character" in reasons["'ctl\\x01.mp4'"]
    assert report["counts"] == {
        "found": 11,
        "done": 5,
        "skipped_already_done": 0,
        "failed": 6,
        "not_done": 0,
    }
    assert report["frames"] == sum(frames for _, frames, _, _ in GOOD.values())
    assert report["settings"]["short_side"] == SHORT_SIDE


def test_inputs_are_unchanged(resized):
    source, _, _, hashes, _ = resized
    assert file_hashes(source) == hashes


def test_output_size_rounds_the_long_side_to_the_nearest_even():
    assert nearest_even(41.85) == 42 and nearest_even(40.9) == 40 and nearest_even(0.3) == 2
    assert output_size(640, 360, EncodeSettings(320)) == (568, 320)  # 568.9 -> 568
    assert output_size(360, 640, EncodeSettings(320)) == (320, 568)
    assert output_size(64, 48, EncodeSettings(64)) == (86, 64)  # upscaled: 85.3 -> 86
    assert output_size(64, 48, EncodeSettings(64, only_larger=True)) == (64, 48)
    assert output_size(51, 39, EncodeSettings(320, only_larger=True)) == (50, 38)
    assert output_size(1280, 720, EncodeSettings(320, only_larger=True)) == (568, 320)


@pytest.mark.parametrize("inside", ["output_in_input", "input_in_output", "same"])
def test_nested_folders_are_a_one_line_error(tmp_path, capsys, inside):
    source = tmp_path / "videos"
    source.mkdir()
    write_video(str(source / "a.mp4"), moving_texture_video(2, 16, 16), 25)
    folders = {
        "output_in_input": (source, source / "resized"),
        "input_in_output": (source, tmp_path),
        "same": (source, source),
    }[inside]
    with pytest.raises(SystemExit) as stopped:
        main(["resize", *map(str, folders)])
    assert stopped.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"{PROGRAM} resize: error:") and "\n" not in error
    assert not (source / "resized").exists()


def test_an_odd_short_side_is_a_command_line_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["resize", str(tmp_path), str(tmp_path / "out"), "--short-side", "33"])
    assert stopped.value.code == 2 and "33 is odd" in capsys.readouterr().err


@pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="the patch reaches forked workers only"
)
def test_a_full_disk_stops_the_run_in_one_line(tmp_path, capsys, monkeypatch):
    source = tmp_path / "videos"
    source.mkdir()
    for name in ("a.mp4", "b.mp4"):
        write_video(str(source / name), moving_texture_video(4, 16, 16), 25)

    def disk_full(path):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr(reencode, "_flush_to_disk", disk_full)
    status = main(["resize", str(source), str(tmp_path / "out"), "--jobs", "1"])
    captured = capsys.readouterr()
    assert status == 1
    assert captured.err.startswith(f"{PROGRAM} resize: error: No space left on device")
    assert os.listdir(tmp_path / "out") == ["resize_report.json"]  # no video, no partial file
    with open(tmp_path / "out" / "resize_report.json") as stream:
        report = json.load(stream)
    assert report["disk_full"] and report["counts"]["failed"] == 0


def start_resize(source: str, output: str) -> subprocess.Popen:
    """The tool as a command (one job, x264's slowest usual preset: each video takes a while),
    returned once its first output is complete."""
    command = [sys.executable, os.path.join(REPO_ROOT, "tools", "prepare_dataset.py")]
    command += ["resize", source, output, "--jobs", "1", "--preset", "veryslow"]
    command += ["--short-side", "120"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(output, "v0.mp4")):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.005)
    return process


@pytest.fixture
def slow_tree(tmp_path) -> str:
    """Six 160x120 videos of 48 frames, v0 ... v5."""
    source = tmp_path / "videos"
    source.mkdir()
    for number in range(6):
        write_video(str(source / f"v{number}.mp4"), moving_texture_video(48, 120, 160), 25)
    return str(source)


def complete_outputs(output: str) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of each final output, each checked complete (all 48 frames decode)."""
    outputs = {}
    for name in sorted(os.listdir(output)):
        if name.endswith(".mp4"):
            assert len(frame_times(os.path.join(output, name))) == 48, name
            status = os.stat(os.path.join(output, name))
            outputs[name] = (status.st_ino, status.st_mtime_ns)
    return outputs


def test_a_rerun_after_kill_9_redoes_only_the_unfinished(slow_tree, tmp_path):
    output = str(tmp_path / "out")
    process = start_resize(slow_tree, output)
    process.kill()
    process.communicate()
    finished = complete_outputs(output)
    assert 1 <= len(finished) < 6
    assert main(["resize", slow_tree, output, "--jobs", "2", "--short-side", "120"]) == 0
    after = complete_outputs(output)
    assert set(after) == {f"v{number}.mp4" for number in range(6)}
    assert {name: after[name] for name in finished} == finished  # not redone
    assert sorted(os.listdir(output)) == sorted([*after, "resize_report.json"])  # no partial
    with open(os.path.join(output, "resize_report.json")) as stream:
        counts = json.load(stream)["counts"]
    assert counts["skipped_already_done"] == len(finished)
    assert counts["done"] == 6 - len(finished)


def test_ctrl_c_stops_cleanly_with_a_summary(slow_tree, tmp_path):
    output = str(tmp_path / "out")
    process = start_resize(slow_tree, output)
    process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Interrupted" in stdout and "videos done" in stdout
    finished = complete_outputs(output)
    assert sorted(os.listdir(output)) == sorted([*finished, "resize_report.json"])
    with open(os.path.join(output, "resize_report.json")) as stream:
        report = json.load(stream)
    assert report["interrupted"] and report["counts"]["done"] == len(finished) < 6


# ---------------------------------------------------------------------------- #
# Random access: key frames and B-frames (--gop, --b-frames, --[no-]reference-b-frames)
# ---------------------------------------------------------------------------- #


def x264_written_options(path: str) -> str:
    """The options x264 writes into its stream (an SEI message of the first frame)."""
    with open(path, "rb") as stream:
        data = stream.read()
    start = data.index(b"options: ")
    return data[start : data.index(b"\x00", start)].decode()


def test_default_settings_give_x264_the_options_of_today():
    assert EncodeSettings().x264_options() == {"preset": "medium", "crf": "23", "threads": "1"}
    assert EncodeSettings(gop=16, b_frames=0, reference_b_frames=False).x264_options() == {
        "preset": "medium",
        "crf": "23",
        "threads": "1",
        "g": "16",
        "bf": "0",
        "b-pyramid": "none",
    }
    assert EncodeSettings(fast_decode=True).x264_options()["tune"] == "fastdecode"


def test_random_access_settings_keep_the_others():
    settings = random_access_settings(EncodeSettings(64, crf=30, preset="fast", only_larger=True))
    assert settings == EncodeSettings(64, 30, "fast", True, 16, 3, False, True)


def resize_settings(*options: str) -> EncodeSettings:
    """The settings the resize verb's command line makes of ``options``."""
    parser = argparse.ArgumentParser()
    add_encoding_arguments(parser)
    add_random_access_arguments(parser)
    return encode_settings(parser.parse_args(list(options)))


def test_explicit_options_override_the_random_access_preset():
    assert resize_settings() == EncodeSettings()
    assert resize_settings("--random-access") == random_access_settings(EncodeSettings())
    assert resize_settings("--random-access", "--gop", "8", "--reference-b-frames") == (
        EncodeSettings(gop=8, b_frames=3, reference_b_frames=True, fast_decode=True)
    )
    assert resize_settings("--b-frames", "0", "--no-reference-b-frames") == EncodeSettings(
        b_frames=0, reference_b_frames=False
    )
    assert resize_settings("--random-access", "--no-fast-decode") == EncodeSettings(
        gop=16, b_frames=3, reference_b_frames=False, fast_decode=False
    )
    assert resize_settings("--fast-decode") == EncodeSettings(fast_decode=True)


@pytest.mark.parametrize(
    "options, message",
    [(["--gop", "0"], "0 is not positive"), (["--b-frames", "17"], "not between 0 and 16")],
)
def test_bad_key_frame_options_are_command_line_errors(tmp_path, capsys, options, message):
    with pytest.raises(SystemExit) as stopped:
        main(["resize", str(tmp_path), str(tmp_path / "out"), *options])
    assert stopped.value.code == 2 and message in capsys.readouterr().err


def test_random_access_resize_writes_close_key_frames_unreferenced_b_frames_and_fast_decode(
    tmp_path, capsys
):
    source = tmp_path / "videos"
    source.mkdir()
    write_video(str(source / "a.mp4"), moving_texture_video(60, 48, 64), 30)
    output = tmp_path / "out"
    assert main(["resize", str(source), str(output), "--short-side", "32", "--random-access"]) == 0
    path = str(output / "a.mp4")
    options = x264_written_options(path)
    assert "keyint=16 " in options and "bframes=3 " in options and "b_pyramid=0 " in options
    # x264's fastdecode tuning: CAVLC, no deblocking filter, no weighted prediction
    assert "cabac=0 " in options and "deblock=0:" in options and "weightp=0 " in options
    with av.open(path) as container:
        stream = container.streams.video[0]
        keys = [
            round(float(packet.pts * stream.time_base) * 30)
            for packet in container.demux(stream)
            if packet.is_keyframe
        ]
    assert keys[0] == 0 and max(np.diff([*keys, 60])) <= 16
    with open(output / "resize_report.json") as stream:
        report = json.load(stream)
    assert report["settings"]["gop"] == 16 and report["settings"]["reference_b_frames"] is False
    assert report["settings"]["fast_decode"] is True
    assert report["output_bytes"] == os.path.getsize(path)
    assert report["video_seconds"] == pytest.approx(2.0, abs=0.05)
    per_second = report["output_bytes"] / report["video_seconds"]
    assert abs(report["output_bytes_per_video_second"] - per_second) <= 1
    assert report["output_over_input"] == pytest.approx(
        os.path.getsize(path) / os.path.getsize(source / "a.mp4"), abs=1e-4
    )
    assert "KiB per second of video" in capsys.readouterr().out


def test_a_plain_resize_encodes_with_x264s_key_frames_and_b_pyramid(resized):
    _, output, _, _, report = resized
    options = x264_written_options(os.path.join(output, "landscape.mp4"))
    assert "keyint=250 " in options and "b_pyramid=2 " in options
    assert "cabac=1 " in options and "deblock=1:" in options
    assert report["settings"]["gop"] is None and report["settings"]["reference_b_frames"]
    assert report["settings"]["fast_decode"] is False
    assert report["output_bytes"] == sum(
        os.path.getsize(os.path.join(output, name)) for name, *_ in GOOD.values()
    )
