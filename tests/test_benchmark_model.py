"""tools/benchmark_model.py on a tiny model: it runs, compares against the reference with the
same weights, and reports ratios (no timing is asserted)."""

import torch

from helpers import load_tool

benchmark_model = load_tool("benchmark_model")
Case = benchmark_model.Case

TINY = [
    "--embed-dim",
    "32",
    "--depth",
    "2",
    "--heads",
    "2",
    "--patch",
    "16",
    "--classes",
    "5",
    "--batch",
    "1",
    "--frames",
    "2",
    "--size",
    "32",
    "--steps",
    "1",
    "--repeats",
    "1",
    "--warmup",
    "1",
]


def tiny_args(*extra):
    args = benchmark_model.parse_args(TINY + list(extra))
    args.argv = TINY + list(extra)
    return args


def test_both_models_get_the_same_weights_and_agree():
    args = tiny_args()
    for attention in ("divided_space_time", "joint_space_time", "space_only"):
        case = Case(attention, 2)
        models = benchmark_model.build_models(args, case)
        with torch.no_grad():
            ours, reference = (
                benchmark_model.logits_of(
                    model.eval(), impl, benchmark_model.make_batch(args, case, impl)[0]
                )
                for impl, model in models.items()
            )
        assert ours.shape == reference.shape == (1, 5)
        if (
            attention != "space_only"
        ):  # the reference classifies each frame; its mean is another function
            torch.testing.assert_close(ours, reference, atol=1e-5, rtol=1e-5)


def test_a_case_reports_throughput_ratio_and_mfu():
    args = tiny_args("--no-memory")
    peak_flops = {"ours": 1e9, "reference": 1e9}
    rows = [
        benchmark_model.measure_case(args, Case("joint_space_time", 2), mode, peak_flops)
        for mode in ("train", "infer")
    ]
    for row in rows:
        assert row["clips_per_s"]["ours"] > 0 and row["clips_per_s"]["reference"] > 0
        assert row["speedup"] == row["clips_per_s"]["ours"] / row["clips_per_s"]["reference"]
        assert all(value > 0 for value in row["mfu"].values())
    table = benchmark_model.markdown_table(rows)
    assert table.count("\n") == 3 and "| joint_space_time | 2 | train |" in table


def test_peak_memory_comes_from_a_fresh_process():
    rise_mib, whole_mib = benchmark_model.peak_memory_in_fresh_process(
        TINY, Case("joint_space_time", 2), "ours", "train"
    )
    # The whole peak holds the interpreter, torch and the model: far more than one tiny step adds.
    assert 0 <= rise_mib < whole_mib and whole_mib > 50


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
    assert benchmark_model.markdown_table([row]).splitlines()[-1] == (
        "| joint_space_time | 32 | train | 2.00 | 1.00 | 2.00x | 80.0% | 50.0% | 300 | 1000 "
        "| 0.30x | 900 | 1600 |"
    )
