"""The resize benchmark's logic on two tiny videos, one round (benchmarks/resize_speed.py and
its command line). Needs the ffmpeg command line: skipped without it on PATH."""

import json
import shutil

import pytest

from timesformer.benchmarks.resize_speed import METHODS, ffmpeg_command
from timesformer.cli.benchmark_resize import main
from timesformer.datasets.preparation.reencode import EncodeSettings
from timesformer.datasets.synthetic_video import moving_texture_video, write_video

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None, reason="the benchmark compares with the ffmpeg command line"
)


def test_the_ffmpeg_command_uses_the_resize_settings():
    command = ffmpeg_command("ffmpeg", "in.mkv", "out.mp4", (568, 320), EncodeSettings(crf=20))
    text = " ".join(command)
    assert "-vf scale=568:320:flags=bicubic" in text
    assert "-c:v libx264 -preset medium -crf 20 -threads 1 -an -pix_fmt yuv420p out.mp4" in text
    assert "-filter_threads 1 -threads 1 -i in.mkv" in text


@needs_ffmpeg
def test_the_report_has_every_figure(tmp_path, capsys):
    videos = tmp_path / "videos"
    videos.mkdir()
    for number in range(2):
        write_video(
            str(videos / f"v{number}.mp4"), moving_texture_video(8, 48, 64, seed=number), 25
        )
    report_path = tmp_path / "report.json"
    argv = ["--videos", str(videos), "--work-dir", str(tmp_path / "work"), "--rounds", "1"]
    assert main([*argv, "--short-side", "32", "--json", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert set(report["methods"]) == set(METHODS)
    for figures in report["methods"].values():
        assert figures["frames"] == 16 and figures["output_bytes"] > 0
        assert figures["frames_per_s"] > 0 and figures["cpu_seconds"] > 0
        assert len(figures["frames_per_s_per_round"]) == 1
    assert all(ratio > 0 for ratio in report["ratios"].values())
    assert report["output_sizes"] == ["42x32"] and report["videos"] == 2
    assert report["x264_options_match"]
    assert report["load_average_before"] and report["machine"]
    printed = capsys.readouterr().out
    assert "| ffmpeg CLI, one file at a time (-threads 1) |" in printed
    assert "target >= 0.9x" in printed and "target >= 1.8x" in printed
    assert not list((tmp_path / "work").iterdir())  # every pass's outputs removed
