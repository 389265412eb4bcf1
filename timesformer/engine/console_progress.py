"""The console of a training run (global rank 0): a live progress bar per epoch on a terminal,
a plain line every LOG_PERIOD iterations elsewhere (Slurm logs, files), and one line per epoch.

What a bar or a line shows is smoothed so that it does not swing: the loss is the median of the
last LOG_PERIOD iterations (as the json_stats ``loss``), clips/s and the share of time waiting
for data are sums over those iterations, and both ETAs are the time per iteration so far,
averaged since the epoch (its bar) or the run (its ETA, validation included) started, times
the iterations left. The json_stats lines in stdout.log are the meters', unchanged
(:mod:`timesformer.utils.meters`).
"""

import datetime
import os
import sys
import time
from collections.abc import Iterable
from typing import TypeVar

from fvcore.common.config import CfgNode
from tqdm import tqdm

from timesformer.utils import distributed as du
from timesformer.utils.meters import TrainMeter

T = TypeVar("T")


def shows_bar(mode: str, stream) -> bool:
    """Whether CONSOLE.PROGRESS ``mode`` shows a bar on ``stream`` ("auto": on a terminal)."""
    if mode == "auto":
        return bool(getattr(stream, "isatty", lambda: False)())
    return mode == "bar"


_BAR_FORMAT = (
    "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]"
)
"""tqdm's bar without its own rate: clips/s is in the postfix; ``remaining`` is the epoch's ETA."""

_FALLBACK_WIDTH = 120
"""Columns of the bar on a terminal that reports no width (a pseudo-terminal without a size)."""


def _terminal_width(stream) -> int:
    """The columns of the terminal ``stream`` writes to; 0 when it reports none."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 0


def loop_bar(iterable: Iterable[T], cfg: CfgNode, total: int, desc: str) -> Iterable[T]:
    """``iterable`` with a live bar on the console (``desc``, ``total`` steps) when the console
    shows bars (CONSOLE.PROGRESS; global rank 0 only), else ``iterable`` as it is (the loop then
    logs a line every LOG_PERIOD steps itself)."""
    if not (du.is_master_proc() and shows_bar(cfg.CONSOLE.PROGRESS, sys.stdout)):
        return iterable
    width = _terminal_width(sys.stdout)
    return tqdm(
        iterable,
        total=total,
        desc=desc,
        file=sys.stdout,
        smoothing=0,
        ncols=None if width else _FALLBACK_WIDTH,
        dynamic_ncols=bool(width),
        leave=False,
    )


def duration(seconds: float) -> str:
    """``H:MM:SS`` of ``seconds`` (whole seconds)."""
    return str(datetime.timedelta(seconds=int(max(seconds, 0))))


class TrainingProgress:
    """The bar or the lines of each epoch of a run that trains epochs ``start_epoch`` ..
    SOLVER.MAX_EPOCH - 1 of ``epoch_iters`` iterations, on ``stream`` (stdout by default).

    CONSOLE.PROGRESS "json" shows neither (the original's console: the json_stats lines).
    """

    def __init__(self, cfg: CfgNode, epoch_iters: int, start_epoch: int, stream=None):
        self.stream = stream or sys.stdout
        mode = cfg.CONSOLE.PROGRESS
        self.bar_mode = shows_bar(mode, self.stream)
        self.lines_mode = mode == "lines" or (mode == "auto" and not self.bar_mode)
        self.log_period = cfg.LOG_PERIOD
        self.max_epoch = cfg.SOLVER.MAX_EPOCH
        self.epoch_iters = epoch_iters
        self.run_iters = (self.max_epoch - start_epoch) * epoch_iters
        self.iters_done = 0
        self.run_start = time.monotonic()
        self.epoch_start = self.run_start
        self.bar: tqdm | None = None

    def start_epoch(self, epoch: int) -> None:
        """Open epoch ``epoch``'s bar (0-based ``epoch``), at 0 before the first batch."""
        self.epoch_start = time.monotonic()
        if self.bar_mode:
            self.bar = tqdm(
                total=self.epoch_iters,
                desc=f"Epoch {epoch + 1}/{self.max_epoch}",
                file=self.stream,
                smoothing=0,  # the average rate since the epoch started: no swinging ETA
                ncols=None if _terminal_width(self.stream) else _FALLBACK_WIDTH,
                dynamic_ncols=bool(_terminal_width(self.stream)),
                leave=False,
                bar_format=_BAR_FORMAT,
            )

    def update(self, epoch: int, cur_iter: int, meter: TrainMeter) -> None:
        """After iteration ``cur_iter`` (0-based) of ``epoch``, whose results ``meter`` holds."""
        self.iters_done += 1
        if self.bar is not None:
            self.bar.set_postfix_str(self._figures(meter, compact=True), refresh=False)
            self.bar.update(1)
        elif self.lines_mode and (cur_iter + 1) % self.log_period == 0:
            done = cur_iter + 1
            epoch_eta = (time.monotonic() - self.epoch_start) / done * (self.epoch_iters - done)
            line = (
                f"[{datetime.datetime.now():%m/%d %H:%M:%S}] Epoch {epoch + 1}/{self.max_epoch} "
                f"iter {done}/{self.epoch_iters}: {self._figures(meter)}, "
                f"epoch ETA {duration(epoch_eta)}"
            )
            tqdm.write(line, file=self.stream)
            self.stream.flush()

    def end_epoch(self) -> None:
        """Close the epoch's bar (the epoch's line follows it: :func:`epoch_line`)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def run_eta(self) -> float:
        """Seconds left in the run, at its average time per training iteration so far."""
        if not self.iters_done:
            return 0.0
        per_iter = (time.monotonic() - self.run_start) / self.iters_done
        return per_iter * (self.run_iters - self.iters_done)

    def _figures(self, meter: TrainMeter, compact: bool = False) -> str:
        """The smoothed loss, LR, clips/s, data-wait share and run ETA (``compact``: the bar's
        short form)."""
        run_eta = "run" if compact else "run ETA"
        return (
            f"loss {meter.loss.median():.4g}, lr {meter.lr:.3g}, "
            f"{meter.clips_per_second():.1f} clips/s, data {meter.data_wait_share():.0%}, "
            f"{run_eta} {duration(self.run_eta())}"
        )


def epoch_line(
    cfg: CfgNode, train_stats: dict, val_stats: dict | None, meter: TrainMeter, seconds: float
) -> str:
    """The one line of an epoch: its training loss and error, its validation (top-1 / top-5
    accuracy, top-5 only above 5 classes; or mAP) with the best so far, its time and clips/s.

    ``train_stats``, ``val_stats``: the epoch's ``train_epoch`` and ``val_epoch`` json_stats
    (``val_stats`` None when the epoch did not validate)."""
    parts = [f"Epoch {train_stats['epoch']}: train loss {train_stats['loss']:.4g}"]
    if "top1_err" in train_stats:
        parts[0] += f", top-1 err {train_stats['top1_err']:.2f}%"
    if val_stats is not None:
        parts.append(_validation_part(cfg, val_stats))
    parts.append(
        f"{duration(seconds)} at {meter.clips_per_second(epoch=True):.1f} clips/s "
        f"(data {meter.data_wait_share(epoch=True):.0%})"
    )
    return " | ".join(parts)


def _validation_part(cfg: CfgNode, val_stats: dict) -> str:
    if "map" in val_stats:
        return f"val mAP {val_stats['map']:.2f}% (best {val_stats['max_map']:.2f}%)"
    part = f"val top-1 {100 - val_stats['top1_err']:.2f}%"
    if cfg.MODEL.NUM_CLASSES > 5:
        part += f", top-5 {100 - val_stats['top5_err']:.2f}%"
    return part + f" (best {100 - val_stats['min_top1_err']:.2f}%)"
