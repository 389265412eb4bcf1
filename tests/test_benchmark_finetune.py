"""tools/benchmark_finetune.py's command line and logic (timesformer/cli/benchmark_finetune.py,
timesformer/benchmarks/finetune_recipe.py) on a tiny run: one seed, one epoch, a few clips. It
checks that the report has its rows and figures, not which way wins, nor how fast."""

import json
import re

import pytest

from helpers import PROGRAM
from timesformer.benchmarks.finetune_recipe import (
    OPTION_PREFIXES,
    RECIPE,
    iteration_times,
    recipe_overrides,
)
from timesformer.cli import benchmark_finetune

TINY = [
    "--seeds",
    "0",
    "--epochs",
    "1",
    "--train-clips",
    "4",
    "--test-clips",
    "2",
    "--pretrain-clips",
    "4",
    "--pretrain-epochs",
    "1",
    "--timing-epochs",
    "2",
    "--timing-rounds",
    "1",
    "--num-workers",
    "0",
]
"""Four clips per class (two iterations of the demo's batch of 8): each timing run times one."""
NUMBER = r"[+-]?\d+\.\d"


def _table(text: str, header: str) -> dict[str, list[str]]:
    """The rows (first cell -> the other cells) of the markdown table after ``header``."""
    block = text.split(header, 1)[1].strip().split("\n\n")[0]
    rows = [line.strip("|").split("|") for line in block.splitlines()[2:]]
    return {cells[0].strip(): [cell.strip() for cell in cells[1:]] for cells in rows}


def test_tiny_run_reports_both_ways_and_the_cost_of_each_option(tmp_path, capsys):
    report_file = tmp_path / "report.json"
    argv = [*TINY, "--work-dir", str(tmp_path / "work"), "--json", str(report_file)]
    assert benchmark_finetune.main(argv) == 0
    out = capsys.readouterr().out
    assert "load average before: " in out
    accuracy = _table(out, "chance 25%:")
    assert list(accuracy) == ["plain", "recipe", "recipe - plain"]
    for cells in accuracy.values():
        assert len(cells) == 2 and all(re.fullmatch(NUMBER, cell) for cell in cells), cells
    plain, recipe = (float(accuracy[way][1]) for way in ("plain", "recipe"))
    assert float(accuracy["recipe - plain"][1]) == pytest.approx(recipe - plain, abs=0.11)
    cost = _table(out, "Cost per training step:")
    assert list(cost) == list(OPTION_PREFIXES)
    for cells in cost.values():
        assert all(re.fullmatch(r"\d+\.\d+|\d+", cell) for cell in cells), cells
    assert cost["plain"][1] == "1.00"
    assert list(_table(out, "The recipe:")) == [f"`{key}`" for key, _, _ in RECIPE]
    report = json.loads(report_file.read_text())
    assert report["seeds"] == [0] and 0 <= report["pretrained_top1"] <= 100
    assert report["difference"] == pytest.approx(recipe - plain, abs=0.11)


def test_each_option_times_its_own_keys_and_the_recipe_all():
    recipe_keys = recipe_overrides()[::2]
    assert recipe_keys == [key for key, _, _ in RECIPE]
    assert recipe_overrides(OPTION_PREFIXES["plain"]) == []
    alone = [recipe_overrides(OPTION_PREFIXES[option])[::2] for option in OPTION_PREFIXES]
    assert sorted(sum(alone[1:-1], [])) == sorted(recipe_keys)
    assert alone[-1] == recipe_keys


def test_iteration_times_leave_out_the_first_epoch_and_each_first_iteration(tmp_path):
    def record(epoch: str, iteration: str, seconds: float) -> str:
        stats = {"split": "train_iter", "epoch": epoch, "iter": iteration}
        stats.update(time_diff=seconds, data_time=seconds / 10)
        return f"[12/03 10:00:00][INFO] x:1: json_stats: {json.dumps(stats)}\n"

    lines = [record("1/2", "1/2", 9.0), record("1/2", "2/2", 8.0)]
    lines += [record("2/2", "1/2", 7.0), record("2/2", "2/2", 0.5), "another line\n"]
    (tmp_path / "stdout.log").write_text("".join(lines))
    assert iteration_times(str(tmp_path)) == ([0.5], [0.05])


def test_a_missing_pretrained_checkpoint_is_one_line(tmp_path, capsys):
    missing = tmp_path / "model.pyth"
    with pytest.raises(SystemExit) as exit_info:
        benchmark_finetune.main(["--pretrained", str(missing), "--work-dir", str(tmp_path)])
    assert exit_info.value.code == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert error == [f"{PROGRAM}: error: Checkpoint {missing}: no such file or directory."]
    assert list(tmp_path.iterdir()) == []  # stopped before generating any set
