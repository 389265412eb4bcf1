"""Validation of a multi-label model (DATA.MULTI_LABEL): the mean average precision of one view
per video, logged as ``val_epoch``."""

import torch
from fvcore.common.config import CfgNode
from fvcore.common.timer import Timer

from timesformer.utils import distributed as du
from timesformer.utils.logging import log_json_stats
from timesformer.utils.meters import memory_stats
from timesformer.utils.metrics import average_precisions


class MultiLabelValMeter:
    """Collects one epoch's validation scores and multi-hot labels, of every process, and
    logs their mAP (``map``, percent; ``max_map`` the best of the run's epochs so far), the
    counterpart of :class:`~timesformer.utils.meters.ValMeter`'s top-k errors. ``per_class_ap``
    (K,): each class's AP of the last logged epoch (NaN: no positive video)."""

    def __init__(self, cfg: CfgNode):
        self.max_epoch = cfg.SOLVER.MAX_EPOCH
        self.max_map = float("-inf")
        self.per_class_ap: torch.Tensor | None = None
        self.reset()

    def reset(self) -> None:
        self.scores: list[torch.Tensor] = []
        self.labels: list[torch.Tensor] = []
        self.decode_failures = 0
        self.timer = Timer()

    def add_batch(self, scores: torch.Tensor, labels: torch.Tensor) -> None:
        """scores: (B, K) logits, labels: (B, K) multi-hot, of this process's batch."""
        self.scores.append(scores.detach().float())
        self.labels.append(labels.float())

    def _gathered(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(scores (N, K), labels (N, K)) of all processes, on the CPU; call on every process."""
        scores, labels = du.all_gather([torch.cat(self.scores), torch.cat(self.labels)])
        return scores.cpu(), labels.cpu()

    def log_epoch(self, epoch: int) -> dict:
        """Log and return the ``val_epoch`` stats (every process takes part in the gathering)."""
        scores, labels = self._gathered()
        mean_ap, self.per_class_ap = average_precisions(scores, labels)
        self.max_map = max(self.max_map, mean_ap)
        stats = {
            "split": "val_epoch",
            "epoch": f"{epoch + 1}/{self.max_epoch}",
            "map": mean_ap,
            "max_map": self.max_map,
            "samples": len(scores),
            "time_diff": self.timer.seconds(),
            "decode_failures": self.decode_failures,
            **memory_stats(),
        }
        log_json_stats(stats)
        return stats
