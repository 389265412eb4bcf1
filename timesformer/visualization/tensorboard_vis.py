"""TensorBoard scalars of a run (Train/loss, Train/lr, Train/Top1_err, Val/Top1_err, ...)."""

import os

from fvcore.common.config import CfgNode
from torch.utils.tensorboard import SummaryWriter

from timesformer.utils.logging import get_logger

logger = get_logger(__name__)


def tensorboard_log_dir(cfg: CfgNode) -> str:
    """TENSORBOARD.LOG_DIR under OUTPUT_DIR, or OUTPUT_DIR/runs-{TRAIN.DATASET}."""
    if cfg.TENSORBOARD.LOG_DIR:
        return os.path.join(cfg.OUTPUT_DIR, cfg.TENSORBOARD.LOG_DIR)
    return os.path.join(cfg.OUTPUT_DIR, f"runs-{cfg.TRAIN.DATASET}")


class TensorboardWriter:
    """Writes scalars to the run's TensorBoard folder."""

    def __init__(self, cfg: CfgNode):
        self.log_dir = tensorboard_log_dir(cfg)
        self.writer = SummaryWriter(log_dir=self.log_dir)
        logger.info("TensorBoard: tensorboard --logdir %s", self.log_dir)

    def add_scalars(self, scalars: dict[str, float], global_step: int) -> None:
        """Write each ``{"Train/loss": value, ...}`` entry at ``global_step``."""
        for tag, value in scalars.items():
            self.writer.add_scalar(tag, value, global_step)

    def close(self) -> None:
        self.writer.flush()
        self.writer.close()
