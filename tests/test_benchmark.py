"""tools/benchmark.py on tiny videos: the loader with one and several clips per video, the decode
floor, the fractions and the CPU cores per GPU it derives; --sources mirrors' source videos,
report and run (no timing is asserted)."""

import functools
import glob
import json
import os

import av
import pytest

from helpers import REPO_ROOT
from timesformer.benchmarks import mirror_sources, mirror_speed, synthetic_videos
from timesformer.benchmarks.gpu_estimate import estimate_note
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


TINY_SOURCE = mirror_sources.SourceFormat(width=64, height=48, fps=24, seconds=1.0)


def test_a_mirror_source_video_has_the_requested_format_and_an_audio_stream(tmp_path):
    path = mirror_sources.write_source_video(str(tmp_path / "source.mp4"), TINY_SOURCE, seed=0)
    with av.open(path) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (video.codec_context.name, video.width, video.height) == ("h264", 64, 48)
        assert video.average_rate == 24 and video.frames == 24
        assert (audio.codec_context.name, audio.rate, audio.channels) == ("aac", 48000, 2)
        assert float(audio.duration * audio.time_base) == pytest.approx(1.0, abs=0.05)
    assert mirror_sources.bytes_per_video_second([path]) == pytest.approx(os.path.getsize(path))


def variant(
    name: str, per_core: dict[int, float], bytes_per_second: float, drift: float = 1.0
) -> dict:
    """A result of ``measure_variants`` as far as the report reads it (its drift-corrected
    clips/s per core ``drift`` times those measured)."""
    rows = [
        {
            "loader": "timesformer",
            "clips_per_video": k,
            "clips_per_s_per_worker": rate,
            "clips_per_s_per_core_drift_corrected": drift * rate,
        }
        for k, rate in per_core.items()
    ]
    return {
        "variant": name,
        "frame_size": (568, 320),
        "bytes_per_video_second": bytes_per_second,
        "rows": rows,
        "rounds": [rows],
    }


def test_the_mirror_report_s_ratios_and_cores_per_gpu():
    results = [
        variant("source", {1: 0.5, 2: 0.8}, 360_000.0),
        variant("prepared", {1: 3.0, 2: 5.0}, 150_000.0, drift=0.5),
        variant("fast_decode", {1: 6.0, 2: 10.0}, 180_000.0),
        variant("random_access", {1: 7.5, 2: 15.0}, 225_000.0),
    ]
    ratios = mirror_speed.ratio_lines(results)
    assert ratios[0].startswith(
        "prepared / source, clips/s per core (1 clip(s) per video): 6.00x, drift-corrected 3.00x "
    )
    assert "file size 0.42x" in ratios[0]
    assert ratios[1].startswith(
        "fast-decode prepared / source, clips/s per core (1 clip(s) per video): 12.00x, "
        "drift-corrected 12.00x (target >= 5x); file size 0.50x"
    )
    assert "2.00x, drift-corrected 4.00x; file size 1.20x" in ratios[2]
    assert "2.50x, drift-corrected 5.00x (target >= 2x); file size 1.50x (target" in ratios[3]
    assert "15.00x, drift-corrected 15.00x; file size 0.62x" in ratios[4]
    assert ratios[-1].endswith(
        "2 clips per video / 1: 2.00x, drift-corrected 2.00x clips/s per core"
    )
    cores = mirror_speed.cores_lines(results, 500.0)
    assert "568x320 source (x264 defaults, AAC audio), 1 clip(s) per video: " in (cores[1])
    assert cores[1].endswith("500 / 0.50 = 1000 cores; 500 / 0.50 = 1000 cores")
    assert cores[3].endswith("500 / 3.00 = 167 cores; 500 / 1.50 = 333 cores")
    assert cores[-1].endswith("500 / 15.00 = 33 cores; 500 / 15.00 = 33 cores")
    assert len(cores) == 9
    assert "500 clips/s x 590 GFLOP = 295 TFLOP/s, 30% of one H200's" in estimate_note()


def test_mirror_sources_mode_end_to_end(tmp_path, monkeypatch, capsys):
    """--sources mirrors on 2 tiny videos, 2 rounds: the sources, both prepared versions, a
    loader row per K for each (the rounds' mean), the cores per GPU at the default rate; the
    videos are written once."""
    write = functools.partial(
        mirror_sources.write_mirror_dataset, source=TINY_SOURCE, short_side=32
    )
    monkeypatch.setattr(mirror_sources, "write_mirror_dataset", write)
    report = tmp_path / "mirrors.json"
    cache = str(tmp_path / "cache")
    status = benchmark.main(
        ["--cfg", KINETICS_CFG, "--sources", "mirrors", "--num-videos", "2", "--rounds", "2"]
        + ["--cache-dir", cache, "--json", str(report), *TINY_LOADER]
    )
    assert status == 0
    figures = json.loads(report.read_text())
    assert figures["gpu_clips_per_s"] == 500.0
    variants = figures["variants"]
    assert [result["variant"] for result in variants] == [
        "source",
        "prepared",
        "fast_decode",
        "random_access",
    ]
    assert [result["frame_size"] for result in variants] == [[64, 48], *[[42, 32]] * 3]
    for result in variants:
        assert [row["clips_per_video"] for row in result["rows"]] == [1, 2]
        assert len(result["floor"]["videos"]) == 2 and result["bytes_per_video_second"] > 0
        assert len(result["rounds"]) == 2 and len(result["floor"]["frames_per_s_timings"]) == 4
        for number, row in enumerate(result["rows"]):
            rates = [rows[number]["clips_per_s_per_worker"] for rows in result["rounds"]]
            assert row["clips_per_s_per_worker"] == pytest.approx(sum(rates) / 2)
            assert row["workers"] == 1  # DATA_LOADER.NUM_WORKERS 0 given: the main process
            frames_per_clip = result["floor"]["frames_per_clip"][str(row["clips_per_video"])]
            assert row["clips_per_s_per_core_drift_corrected"] == pytest.approx(
                row["floor_fraction"] * result["common_floor_frames_per_s"] / frames_per_clip
            )
            assert row["cores_per_gpu"] == pytest.approx(500.0 / row["clips_per_s_per_worker"])
    output = capsys.readouterr().out
    assert "GPU training speed: 500.0 clips/s (the default of --sources mirrors" in output
    assert "| 42x32 prepared (random-access preset) |" in output
    assert "| 42x32 prepared (default encoding, fast decode) |" in output
    assert "random-access / default prepared, clips/s per core (1 clip(s) per video):" in output
    assert "x (rounds: " in output and "Common decode floor, frames/s (the variants" in output
    folders = write(cache, 2)
    written = {
        path: os.stat(path).st_mtime_ns for path in glob.glob(f"{cache}/**/*.mp4", recursive=True)
    }
    assert len(written) == 8
    assert write(cache, 2) == folders  # nothing written again
    assert {path: os.stat(path).st_mtime_ns for path in written} == written


def test_the_mirror_sources_exclude_the_synthetic_videos(capsys):
    with pytest.raises(SystemExit) as exit_info:
        benchmark.parse_args(["--synthetic", "--sources", "mirrors"])
    assert exit_info.value.code == 2
    assert "not allowed with argument --synthetic" in capsys.readouterr().err
