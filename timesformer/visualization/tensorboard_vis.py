"""TensorBoard of a run: scalars (Train/loss, Train/lr, Train/Top1_err, Val/Top1_err, Val/mAP,
...) and figures of validation / test results (Val/Confusion Matrix, Test/Per-class Accuracy,
Val/Per-class AP, ...)."""

import os

import torch
from fvcore.common.config import CfgNode
from torch.utils.tensorboard import SummaryWriter

from timesformer.utils.logging import get_logger
from timesformer.visualization.class_names import read_class_names
from timesformer.visualization.eval_figures import (
    EvalFigureSettings,
    eval_figures,
    eval_figures_enabled,
)
from timesformer.visualization.plots import per_class_average_precision_figure

logger = get_logger(__name__)


def tensorboard_log_dir(cfg: CfgNode) -> str:
    """TENSORBOARD.LOG_DIR under OUTPUT_DIR, or OUTPUT_DIR/runs-{TRAIN.DATASET}."""
    if cfg.TENSORBOARD.LOG_DIR:
        return os.path.join(cfg.OUTPUT_DIR, cfg.TENSORBOARD.LOG_DIR)
    return os.path.join(cfg.OUTPUT_DIR, f"runs-{cfg.TRAIN.DATASET}")


class TensorboardWriter:
    """Writes scalars and figures to the run's TensorBoard folder.

    Raises ClassNamesError at construction when a TENSORBOARD.* class file of an
    enabled figure is bad, so a run fails before it trains.
    """

    def __init__(self, cfg: CfgNode):
        self.eval_settings = EvalFigureSettings.from_cfg(cfg) if eval_figures_enabled(cfg) else None
        names_path, num_classes = cfg.TENSORBOARD.CLASS_NAMES_PATH, cfg.MODEL.NUM_CLASSES
        self.class_names = (  # of the per-class AP figure of a multi-label run
            read_class_names(names_path, num_classes)
            if names_path and cfg.DATA.MULTI_LABEL
            else [str(i) for i in range(num_classes)]
        )
        self.log_dir = tensorboard_log_dir(cfg)
        self.writer = SummaryWriter(log_dir=self.log_dir)
        logger.info("TensorBoard: tensorboard --logdir %s", self.log_dir)

    def add_scalars(self, scalars: dict[str, float], global_step: int) -> None:
        """Write each ``{"Train/loss": value, ...}`` entry at ``global_step``."""
        for tag, value in scalars.items():
            self.writer.add_scalar(tag, value, global_step)

    def add_figure(self, tag: str, figure, global_step: int) -> None:
        """Write a matplotlib figure as an image."""
        self.writer.add_figure(tag, figure, global_step, close=False)

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


def write_test_figures(
    cfg: CfgNode,
    video_scores: torch.Tensor,
    video_labels: torch.Tensor,
    per_class_ap: torch.Tensor | None = None,
) -> None:
    """Test/ figures of per-video scores (N, K) and labels (N,; -1 for skipped videos), when
    enabled; of a multi-label test, the per-class AP (K,) when TENSORBOARD.ENABLE."""
    if per_class_ap is not None:
        if not cfg.TENSORBOARD.ENABLE:
            return
        writer = TensorboardWriter(cfg)
        try:
            writer.plot_average_precisions(per_class_ap, global_step=0, split="Test")
        finally:
            writer.close()
        return
    if not eval_figures_enabled(cfg):
        return
    writer = TensorboardWriter(cfg)
    try:
        writer.plot_eval(video_scores.argmax(dim=1), video_labels, global_step=0, split="Test")
    finally:
        writer.close()
