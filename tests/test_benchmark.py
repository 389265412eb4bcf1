"""tools/benchmark.py on tiny videos: the loader with one and several clips per video, the decode
floor, the fractions and the CPU cores per GPU it derives (no timing is asserted)."""

import json
import os

import pytest

from helpers import REPO_ROOT
from timesformer.benchmarks import synthetic_videos
from timesformer.benchmarks.loader_speed import LOADER_NAMES
from timesformer.cli import benchmark

KINETICS_CFG = os.path.join(REPO_ROOT, "configs", "Kinetics", "TimeSformer_divST_8x32_224.yaml")
TINY_LOADER = [
    *("NUM_GPUS", "0", "DATA_LOADER.NUM_WORKERS", "0", "BENCHMARK.NUM_EPOCHS", "2"),
    *("TRAIN.BATCH_SIZE", "2", "DATA.NUM_FRAMES", "4", "DATA.SAMPLING_RATE", "2"),
    *("DATA.TRAIN_CROP_SIZE", "32", "DATA.TRAIN_JITTER_SCALES", "[32, 40]"),
]


def write_gpu_benchmark(path, clips_per_s: float) -> str:
    """What ``tools/benchmark_model.py --json`` writes, as far as benchmark.py reads it."""
    with open(path, "w") as stream:
        json.dump({"rows": [{"clips_per_s": {"ours": clips_per_s, "reference": 1.0}}]}, stream)
    return str(path)


def test_loader_rows_against_the_floor_and_the_gpu(kinetics_dir, tmp_path, capsys):
    gpu = write_gpu_benchmark(tmp_path / "gpu.json", 120.0)
    report = tmp_path / "loader.json"
    status = benchmark.main(
        ["--cfg", KINETICS_CFG, "--clips-per-video", "1,3", "--gpu-clips-per-s-from", gpu]
        + ["--json", str(report), *TINY_LOADER, "DATA.PATH_TO_DATA_DIR", kinetics_dir]
        + ["DATA.PATH_PREFIX", kinetics_dir]
    )
    assert status == 0
    figures = json.loads(report.read_text())
    rows = figures["rows"]
    assert [(row["loader"], row["clips_per_video"]) for row in rows] == [
        ("timesformer", 1),
        ("timesformer", 3),
        ("naive", 1),
    ]
    floor = figures["floor"]
    assert [video[0] for video in floor["videos"]] == [60, 40, 8]
    # A clip spans 8 frames at 30 fps: 8 frames of the 60-frame video, 6 or 7 of the 24-fps one
    # (6.4 on average), all 8 frames of the 60-fps video shorter than its 16-frame span.
    frames_per_clip = floor["frames_per_clip"]
    assert (8 + 6 + 8) / 3 < frames_per_clip["1"] < (8 + 7 + 8) / 3
    assert frames_per_clip["3"] < frames_per_clip["1"]  # 3 clips share the frames they cover
    assert floor["clips_per_s"] == pytest.approx(floor["frames_per_s"] / frames_per_clip["1"])
    timed = floor["frames_per_s_timings"]  # while each of the 3 loaders ran
    assert len(timed) == 3 and min(timed) <= floor["frames_per_s"] <= max(timed)
    for row, during in zip(rows, timed, strict=True):
        assert row["floor_clips_per_s"] == pytest.approx(
            during / frames_per_clip[str(row["clips_per_video"])]
        )
        assert row["workers"] == 1 and row["clips_per_s_per_worker"] == row["clips_per_s"] > 0
        assert row["floor_fraction"] == pytest.approx(
            row["clips_per_s_per_worker"] / row["floor_clips_per_s"]
        )
        assert row["cores_per_gpu"] == pytest.approx(120.0 / row["clips_per_s_per_worker"])
    output = capsys.readouterr().out
    assert f"| {LOADER_NAMES['timesformer']} | 3 |" in output
    assert "1 clip per video:" in output and "of the decode floor per worker" in output
    assert "3 clips per video / 1:" in output and "GPU training speed: 120.0 clips/s" in output


def test_synthetic_videos_without_the_long_one_and_a_missing_gpu_figure(
    tmp_path, monkeypatch, capsys
):
    """gpu_check.sh's flags; a GPU figure that cannot be read is named after the loader figures,
    exit status 1."""
    for name, value in (("SHORT_SECONDS", 1), ("HEIGHT", 32), ("WIDTH", 48)):
        monkeypatch.setattr(synthetic_videos, name, value)
    missing = tmp_path / "bench_divided_bf16.json"
    with pytest.raises(SystemExit) as exit_info:
        benchmark.main(
            ["--cfg", KINETICS_CFG, "--synthetic", "--no-long-video", "--num-videos", "2"]
            + ["--cache-dir", str(tmp_path / "cache"), "--gpu-clips-per-s-from", str(missing)]
            + ["--json", str(tmp_path / "loader.json"), *TINY_LOADER]
        )
    assert exit_info.value.code == 1
    assert sorted(os.listdir(tmp_path / "cache")) == ["short"]
    assert len(os.listdir(tmp_path / "cache" / "short")) == 3  # 2 videos and train.csv
    captured = capsys.readouterr()
    assert "| naive PyAV (decode all to RGB, then index) | 1 |" in captured.out
    assert f": error: --gpu-clips-per-s-from {missing}: no GPU clips/s" in captured.err
    figures = json.loads((tmp_path / "loader.json").read_text())
    assert figures["gpu_clips_per_s"] is None and len(figures["rows"]) == 3
    assert all(row["cores_per_gpu"] is None for row in figures["rows"])


def test_the_loader_with_aug_beside_it_without(kinetics_dir, tmp_path, capsys):
    """--compare-aug: ours and the naive loader without AUG, ours with it at the first K."""
    report = tmp_path / "loader.json"
    status = benchmark.main(
        ["--cfg", KINETICS_CFG, "--clips-per-video", "2,1", "--compare-aug", "--json", str(report)]
        + [*TINY_LOADER, "DATA.PATH_TO_DATA_DIR", kinetics_dir, "DATA.PATH_PREFIX", kinetics_dir]
        + ["AUG.RE_PROB", "1.0"]
    )
    assert status == 0
    rows = json.loads(report.read_text())["rows"]
    assert [(row["loader"], row["clips_per_video"], row["aug"]) for row in rows] == [
        ("timesformer", 2, False),
        ("timesformer", 1, False),
        ("timesformer+aug", 2, True),
        ("naive", 1, False),
    ]
    output = capsys.readouterr().out
    assert f"| {LOADER_NAMES['timesformer+aug']} | 2 |" in output
    assert "with AUG / without (2 clip(s) per video):" in output
