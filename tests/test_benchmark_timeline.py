"""tools/benchmark_timeline.py's logic (timesformer/benchmarks/timeline_speed.py) on 3 s and 6 s
videos with the demo model: the report's fields and the table, not the timings."""

import os

from timesformer.benchmarks.timeline_speed import measure_timeline, ratio_line, timeline_table


def test_report_names_each_run_and_the_peak_rss_ratio(tmp_path):
    report = measure_timeline(str(tmp_path), [3.0, 6.0], [])
    assert report["machine"].startswith(f"{os.cpu_count()} cores")
    assert report["load_average_before"].count(",") == 2
    assert report["load_average_after"].count(",") == 2
    assert [run["video_seconds"] for run in report["runs"]] == [3.0, 6.0]
    # windows of 8 frames 2 apart at 30 fps (0.53 s) every 0.27 s that end inside the video
    assert [run["windows"] for run in report["runs"]] == [10, 21]
    for run in report["runs"]:
        assert run["model"] == "demo"
        assert run["wall_seconds"] > 0 and run["windows_per_second"] > 0
        assert run["peak_rss_mib"] > 10
    ratio = report["runs"][1]["peak_rss_mib"] / report["runs"][0]["peak_rss_mib"]
    assert abs(report["peak_rss_ratio"] - ratio) < 0.01
    assert report["ratio_target"] == 1.10
    assert "| demo | 6 s | 21 |" in timeline_table(report)
    assert ratio_line(report).startswith("peak RSS, longest / shortest demo video: ")
    assert sorted(os.listdir(tmp_path / "videos")) == [
        "texture_3s_64x64_30fps.mp4",
        "texture_6s_64x64_30fps.mp4",
    ]
