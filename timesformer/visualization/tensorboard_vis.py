"""TensorBoard of a run: scalars (Train/loss, Train/lr, Train/Top1_err, Val/Top1_err, Val/mAP,
the epochs' Train/epoch_loss, throughput and memory, the test's Test/Top1_acc, ...; the top-5
ones only above 5 classes), figures of validation / test results (Val/Confusion Matrix,
Test/Per-class Accuracy, Val/Per-class AP, ...), and the run's hyperparameters with its final
metrics (the HParams tab)."""

import os
from typing import TYPE_CHECKING

import torch
from fvcore.common.config import CfgNode
from torch.utils.tensorboard import SummaryWriter

from timesformer.utils.logging import get_logger
from timesformer.utils.meters import TrainMeter, peak_memory_stats
from timesformer.visualization.class_names import read_class_names
from timesformer.visualization.eval_figures import (
    EvalFigureSettings,
    eval_figures,
    eval_figures_enabled,
)
from timesformer.visualization.plots import per_class_average_precision_figure

if TYPE_CHECKING:
    from timesformer.tracking import Trackers

logger = get_logger(__name__)

HPARAM_KEYS = (
    "TIMESFORMER.ATTENTION_TYPE",
    "TIMESFORMER.DEPTH",
    "TIMESFORMER.EMBED_DIM",
    "TIMESFORMER.DROP_PATH_RATE",
    "DATA.NUM_FRAMES",
    "DATA.SAMPLING_RATE",
    "DATA.TRAIN_CROP_SIZE",
    "SOLVER.OPTIMIZING_METHOD",
    "SOLVER.BASE_LR",
    "SOLVER.LR_POLICY",
    "SOLVER.MAX_EPOCH",
    "SOLVER.WEIGHT_DECAY",
    "SOLVER.LAYER_DECAY",
    "GLOBAL_BATCH_SIZE",
    "TRAIN.MIXED_PRECISION",
    "TRAIN.FINETUNE",
    "MIXUP.ENABLED",
    "AUG.ENABLE",
    "MODEL_EMA.ENABLE",
)
"""The config keys a run's HParams entry holds: those that tell runs of one task apart."""


def tensorboard_log_dir(cfg: CfgNode) -> str:
    """TENSORBOARD.LOG_DIR under OUTPUT_DIR, or OUTPUT_DIR/runs-{TRAIN.DATASET}."""
    if cfg.TENSORBOARD.LOG_DIR:
        return os.path.join(cfg.OUTPUT_DIR, cfg.TENSORBOARD.LOG_DIR)
    return os.path.join(cfg.OUTPUT_DIR, f"runs-{cfg.TRAIN.DATASET}")


class TensorboardWriter:
    """Writes scalars and figures to the run's TensorBoard folder, and the figures to the run's
    experiment ``trackers`` too (MLflow, W&B: they get the json_stats as their metrics).

    Raises ClassNamesError at construction when a TENSORBOARD.* class file of an
    enabled figure is bad, so a run fails before it trains.
    """

    def __init__(self, cfg: CfgNode, trackers: "Trackers | None" = None):
        self.eval_settings = EvalFigureSettings.from_cfg(cfg) if eval_figures_enabled(cfg) else None
        names_path, num_classes = cfg.TENSORBOARD.CLASS_NAMES_PATH, cfg.MODEL.NUM_CLASSES
        self.class_names = (  # of the per-class AP figure of a multi-label run
            read_class_names(names_path, num_classes)
            if names_path and cfg.DATA.MULTI_LABEL
            else [str(i) for i in range(num_classes)]
        )
        self.top5 = cfg.MODEL.NUM_CLASSES > 5
        """Whether the top-5 scalars are written (with 5 classes or fewer top-5 is always 100%)."""
        self.trackers = trackers
        self.log_dir = tensorboard_log_dir(cfg)
        self.writer = SummaryWriter(log_dir=self.log_dir)
        logger.info("TensorBoard: tensorboard --logdir %s", self.log_dir)

    def add_scalars(self, scalars: dict[str, float], global_step: int) -> None:
        """Write each ``{"Train/loss": value, ...}`` entry at ``global_step``."""
        for tag, value in scalars.items():
            self.writer.add_scalar(tag, value, global_step)

    def write_train_epoch(self, stats: dict, meter: TrainMeter, epoch: int) -> None:
        """At step ``epoch`` (0-based, as Val/): the epoch's ``train_epoch`` json_stats as
        Train/epoch_loss, Train/epoch_Top1_err (Top5 above 5 classes), its clips/s and share of
        time waiting for data (Train/clips_per_s, Train/data_wait_share) and the peak memory
        so far (Memory/...: :func:`~timesformer.utils.meters.peak_memory_stats`)."""
        scalars = {
            "Train/epoch_loss": stats["loss"],
            "Train/clips_per_s": meter.clips_per_second(epoch=True),
            "Train/data_wait_share": meter.data_wait_share(epoch=True),
        }
        if "top1_err" in stats:
            scalars["Train/epoch_Top1_err"] = stats["top1_err"]
            if self.top5:
                scalars["Train/epoch_Top5_err"] = stats["top5_err"]
        scalars.update({f"Memory/{key}": value for key, value in peak_memory_stats().items()})
        self.add_scalars(scalars, epoch)

    def add_figure(self, tag: str, figure, global_step: int) -> None:
        """Write a matplotlib figure as an image (and give it to the trackers)."""
        self.writer.add_figure(tag, figure, global_step, close=False)
        if self.trackers is not None:
            self.trackers.log_figure(tag, figure, global_step)

    def plot_eval(
        self, predictions: torch.Tensor, labels: torch.Tensor, global_step: int, split: str = "Val"
    ) -> None:
        """Write the enabled figures of top-1 ``predictions`` and ``labels`` (N,) under
        ``split/``."""
        if self.eval_settings is None:
            return
        for tag, figure in eval_figures(predictions, labels, self.eval_settings).items():
            self.add_figure(f"{split}/{tag}", figure, global_step)

    def plot_average_precisions(
        self, per_class_ap: torch.Tensor, global_step: int, split: str = "Val"
    ) -> None:
        """Write ``split/Per-class AP``, the bars of a multi-label evaluation's per-class AP
        (K,) (percent; NaN: no positive video)."""
        figure = per_class_average_precision_figure(per_class_ap, self.class_names)
        self.add_figure(f"{split}/Per-class AP", figure, global_step)

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()


def write_run_hparams(cfg: CfgNode, metrics: dict[str, float]) -> None:
    """With TENSORBOARD.ENABLE: the run's :data:`HPARAM_KEYS` values with its final
    ``metrics`` (``{"hparam/test_top1_acc": 87.5, ...}``), as the run ``hparams`` of its
    TensorBoard folder, so that the HParams tab of ``tensorboard --logdir`` over several runs'
    folders compares them."""
    if not cfg.TENSORBOARD.ENABLE or not metrics:
        return
    hparams = {}
    for key in HPARAM_KEYS:
        section, name = key.split(".") if "." in key else (None, key)
        hparams[key] = cfg[section][name] if section else cfg[name]
    writer = SummaryWriter(log_dir=tensorboard_log_dir(cfg))
    try:
        writer.add_hparams(hparams, metrics, run_name="hparams")
    finally:
        writer.close()


def write_test_results(
    cfg: CfgNode,
    stats: dict,
    video_scores: torch.Tensor,
    video_labels: torch.Tensor,
    per_class_ap: torch.Tensor | None = None,
    trackers: "Trackers | None" = None,
) -> None:
    """With TENSORBOARD.ENABLE: the test's metrics (``test_final`` ``stats``) as Test/Top1_acc
    and, above 5 classes, Test/Top5_acc (or Test/mAP), and its figures: of per-video scores
    (N, K) and labels (N,; -1 for skipped videos) when enabled; of a multi-label test, the
    per-class AP (K,). The figures go to ``trackers`` too."""
    if not cfg.TENSORBOARD.ENABLE:
        return
    writer = TensorboardWriter(cfg, trackers)
    try:
        if per_class_ap is not None:
            writer.add_scalars({"Test/mAP": stats["map"]}, 0)
            writer.plot_average_precisions(per_class_ap, global_step=0, split="Test")
            return
        scalars = {"Test/Top1_acc": stats["top1_acc"]}
        if writer.top5:
            scalars["Test/Top5_acc"] = stats["top5_acc"]
        writer.add_scalars(scalars, 0)
        writer.plot_eval(video_scores.argmax(dim=1), video_labels, global_step=0, split="Test")
    finally:
        writer.close()
