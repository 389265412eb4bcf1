"""timesformer/benchmarks/model_speed.py on a tiny model: a case's throughput, ratio and MFU, and
the table of them (no timing is asserted)."""

from helpers import tiny_benchmark_args
from timesformer.benchmarks.model_pair import Case
from timesformer.benchmarks.model_speed import markdown_table, measure_case


def test_a_case_reports_throughput_ratio_and_mfu():
    args = tiny_benchmark_args("--no-memory")
    peak_flops = {"ours": 1e9, "reference": 1e9}
    rows = [
        measure_case(args, Case("joint_space_time", 2), mode, peak_flops)
        for mode in ("train", "infer")
    ]
    for row in rows:
        assert row["clips_per_s"]["ours"] > 0 and row["clips_per_s"]["reference"] > 0
        assert row["speedup"] == row["clips_per_s"]["ours"] / row["clips_per_s"]["reference"]
        assert all(value > 0 for value in row["mfu"].values())
    table = markdown_table(rows)
    assert table.count("\n") == 3 and "| joint_space_time | 2 | train |" in table


def test_table_shows_both_peaks_when_memory_was_measured():
    row = {
        "attention": "joint_space_time",
        "frames": 32,
        "mode": "train",
        "speedup": 2.0,
        "clips_per_s": {"ours": 2.0, "reference": 1.0},
        "mfu": {"ours": 0.8, "reference": 0.5},
        "peak_mib": {"ours": 300.0, "reference": 1000.0},
        "memory_ratio": 0.3,
        "total_peak_mib": {"ours": 900.0, "reference": 1600.0},
    }
    assert markdown_table([row]).splitlines()[-1] == (
        "| joint_space_time | 32 | train | 2.00 | 1.00 | 2.00x | 80.0% | 50.0% | 300 | 1000 "
        "| 0.30x | 900 | 1600 |"
    )
