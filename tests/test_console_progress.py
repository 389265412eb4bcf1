"""The console of a training run: a live bar per epoch on a terminal (a real pseudo-terminal
here), plain lines elsewhere, one line per epoch, the end-of-run summary, and the config and
json_stats in stdout.log alone (timesformer/engine/console_progress.py, run_summary.py)."""

import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest

from helpers import REPO_ROOT, json_stats, tiny_args, tiny_cfg, write_color_dataset
from timesformer.engine.console_progress import TrainingProgress, epoch_line, shows_bar
from timesformer.utils.meters import TrainMeter


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _trained_meter(cfg, iterations: int) -> TrainMeter:
    meter = TrainMeter(iterations, cfg)
    for _ in range(iterations):
        meter.data_loaded()
        meter.update(0.5, 25.0, 0.0, 0.01, batch_size=4)
    return meter


@pytest.mark.parametrize(
    "mode, terminal, bar", [("auto", True, True), ("auto", False, False), ("bar", False, True)]
)
def test_the_bar_is_shown_on_a_terminal_or_when_asked(mode, terminal, bar):
    assert shows_bar(mode, _Terminal() if terminal else io.StringIO()) is bar


def test_a_terminal_gets_a_bar_with_the_smoothed_figures():
    cfg = tiny_cfg()
    stream = _Terminal()
    progress = TrainingProgress(cfg, epoch_iters=4, start_epoch=0, stream=stream)
    progress.start_epoch(0)
    meter = _trained_meter(cfg, 4)
    for cur_iter in range(4):
        progress.update(0, cur_iter, meter)
    progress.bar.refresh()
    progress.end_epoch()
    text = stream.getvalue()
    assert "Epoch 1/2" in text and "4/4" in text and "\r" in text
    assert "loss 0.5, lr 0.01" in text and "clips/s, data" in text and "run 0:00:00]" in text


def test_elsewhere_a_plain_line_every_log_period():
    cfg = tiny_cfg("", "", "LOG_PERIOD", "2")
    stream = io.StringIO()
    progress = TrainingProgress(cfg, epoch_iters=4, start_epoch=0, stream=stream)
    progress.start_epoch(0)
    meter = _trained_meter(cfg, 4)
    for cur_iter in range(4):
        progress.update(0, cur_iter, meter)
    lines = stream.getvalue().splitlines()
    assert [line.split("] ", 1)[1].split(":")[0] for line in lines] == [
        "Epoch 1/2 iter 2/4",
        "Epoch 1/2 iter 4/4",
    ]
    assert "\r" not in stream.getvalue() and "epoch ETA" in lines[-1]


def test_json_mode_shows_no_progress():
    cfg = tiny_cfg("", "", "CONSOLE.PROGRESS", "json")
    stream = _Terminal()
    progress = TrainingProgress(cfg, epoch_iters=2, start_epoch=0, stream=stream)
    progress.start_epoch(0)
    progress.update(0, 0, _trained_meter(cfg, 1))
    assert stream.getvalue() == ""


def test_the_epoch_line_shows_top5_only_above_five_classes():
    cfg = tiny_cfg()
    train = {"epoch": "1/2", "loss": 0.25, "top1_err": 10.0}
    val = {"top1_err": 20.0, "top5_err": 0.0, "min_top1_err": 15.0}
    line = epoch_line(cfg, train, val, _trained_meter(cfg, 2), 62.0)
    assert line.startswith("Epoch 1/2: train loss 0.25, top-1 err 10.00% | val top-1 80.00%")
    assert "top-5" not in line and "(best 85.00%)" in line and "0:01:02 at" in line
    cfg.MODEL.NUM_CLASSES = 10
    assert "top-5 100.00%" in epoch_line(cfg, train, val, _trained_meter(cfg, 2), 1.0)


def _run(argv: list[str], terminal: bool) -> str:
    """``timesformer run ARGV`` in a fresh interpreter, its console a pseudo-terminal or a pipe;
    returns what the console got."""
    command = [sys.executable, "-m", "timesformer", "run", *argv]
    if not terminal:
        return subprocess.run(
            command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=600, check=True
        ).stdout
    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # 40 x 120
    with subprocess.Popen(command, stdout=child, stderr=child, cwd=REPO_ROOT) as process:
        os.close(child)
        chunks = []
        while True:
            try:
                chunk = os.read(parent, 65536)
            except OSError:  # the child side closed: the run ended
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=600) == 0
    os.close(parent)
    return b"".join(chunks).decode("utf-8", errors="replace")


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_a_run_shows_progress_epoch_lines_and_a_summary(tmp_path, terminal):
    data = write_color_dataset(str(tmp_path / "data"))
    out = str(tmp_path / "out")
    console = _run(
        [
            "--cfg",
            os.path.join(REPO_ROOT, "configs", "Demo", "TimeSformer_divST_tiny.yaml"),
            *tiny_args(data, out, "LOG_PERIOD", "2"),
        ],
        terminal,
    )
    if terminal:
        # tqdm's bar (its figures, drawn at most every 0.1 s, are the unit tests' above).
        assert re.search(r"\rEpoch 1/2: +\d+%\|.*\| \d/2 \[", console)
    else:
        assert "Epoch 1/2 iter 2/2:" in console and "\r" not in console
    assert "Epoch 1/2: train loss" in console and "Epoch 2/2: train loss" in console
    summary = console[console.index("Run summary:") :]
    records = json_stats(out)
    val = [r for r in records if r["split"] == "val_epoch"]
    best = min(val, key=lambda r: r["top1_err"])
    assert (
        f"best validation: top-1 {100 - best['top1_err']:.2f}% at epoch {best['epoch']}" in summary
    )
    test = records[-1]
    assert test["split"] == "test_final"
    assert f"test: top-1 {test['top1_acc']:.2f}% over 8 videos x 2 views" in summary
    assert f"checkpoints: {out}/checkpoints" in summary and "next: timesformer predict" in summary
    # The json_stats and the config are in stdout.log, not on the console.
    assert "json_stats" not in console and "Training with config" not in console
    assert f"Config: {out}/config.yaml" in console
    with open(os.path.join(out, "stdout.log")) as log:
        assert "Training with config:" in log.read()
    assert [r["split"] for r in records].count("train_iter") == 2  # LOG_PERIOD 2: 1 per epoch


def test_json_mode_is_the_originals_console(tmp_path):
    data = write_color_dataset(str(tmp_path / "data"))
    out = str(tmp_path / "out")
    console = _run(tiny_args(data, out, "CONSOLE.PROGRESS", "json", "SOLVER.MAX_EPOCH", "1"), False)
    assert "json_stats: " in console and "Training with config:" in console
    assert "iter 1/" not in console
