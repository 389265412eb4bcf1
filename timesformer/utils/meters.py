"""Meters: running statistics of training, validation and multi-view testing, and their logs."""

import datetime
import resource
from collections import deque
from collections.abc import Callable

import numpy as np
import psutil
import torch
from fvcore.common.config import CfgNode
from fvcore.common.timer import Timer

from timesformer.config.checks import register_allowed_values
from timesformer.utils import distributed as du
from timesformer.utils.logging import get_logger, log_json_stats
from timesformer.utils.metrics import average_precisions, topk_accuracies, topks_correct

logger = get_logger(__name__)


class ScalarMeter:
    """A scalar's median over the last ``window`` values and its weighted mean overall."""

    def __init__(self, window: int):
        self.recent: deque[float] = deque(maxlen=window)
        self.total = 0.0
        self.count = 0

    def reset(self) -> None:
        self.recent.clear()
        self.total = 0.0
        self.count = 0

    def add(self, value: float, weight: int = 1) -> None:
        self.recent.append(value)
        self.total += value * weight
        self.count += weight

    def median(self) -> float:
        return float(np.median(self.recent)) if self.recent else 0.0

    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0


def memory_stats() -> dict:
    """Resident memory of this process (GB) and, on GPU, the peak allocated CUDA memory (GB)."""
    stats = {"ram_gb": psutil.Process().memory_info().rss / 1024**3}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        stats["gpu_mem_gb"] = torch.cuda.max_memory_allocated() / 1024**3
    return stats


def peak_memory_stats() -> dict:
    """The peak memory of this process so far (GB): resident CPU memory (``peak_rss_gb``) and,
    on CUDA, the largest allocated and reserved memory of its device (``gpu_allocated_gb``,
    ``gpu_reserved_gb``)."""
    stats = {"peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        stats["gpu_allocated_gb"] = torch.cuda.max_memory_allocated() / 1024**3
        stats["gpu_reserved_gb"] = torch.cuda.max_memory_reserved() / 1024**3
    return stats


class TrainMeter:
    """Training statistics of one epoch; logs ``train_iter`` and ``train_epoch`` json_stats
    (with DATA.MULTI_LABEL, without the top-k errors, which need one label per clip)."""

    def __init__(self, epoch_iters: int, cfg: CfgNode):
        self.multi_label = cfg.DATA.MULTI_LABEL
        self.epoch_iters = epoch_iters
        self.max_iters = cfg.SOLVER.MAX_EPOCH * epoch_iters
        self.max_epoch = cfg.SOLVER.MAX_EPOCH
        self.log_period = cfg.LOG_PERIOD
        self.loss = ScalarMeter(cfg.LOG_PERIOD)
        self.top1_err = ScalarMeter(cfg.LOG_PERIOD)
        self.top5_err = ScalarMeter(cfg.LOG_PERIOD)
        self.iter_time = ScalarMeter(cfg.LOG_PERIOD)
        self.data_time = ScalarMeter(cfg.LOG_PERIOD)
        self.clips = ScalarMeter(cfg.LOG_PERIOD)
        self.iter_timer = Timer()
        self.lr = 0.0
        self.decode_failures = 0

    def reset(self) -> None:
        meters = (
            self.loss,
            self.top1_err,
            self.top5_err,
            self.iter_time,
            self.data_time,
            self.clips,
        )
        for meter in meters:
            meter.reset()
        self.decode_failures = 0
        self.iter_timer.reset()

    def data_loaded(self) -> None:
        """Mark the end of waiting for the batch."""
        self.data_time.add(self.iter_timer.seconds())

    def update(
        self,
        loss: float,
        top1_err: float | None,
        top5_err: float | None,
        lr: float,
        batch_size: int,
    ) -> None:
        """Record one iteration's results (errors in percent; None with DATA.MULTI_LABEL) and
        restart the timer."""
        self.loss.add(loss, batch_size)
        if top1_err is not None and top5_err is not None:
            self.top1_err.add(top1_err, batch_size)
            self.top5_err.add(top5_err, batch_size)
        self.lr = lr
        self.iter_time.add(self.iter_timer.seconds())
        self.clips.add(batch_size)
        self.iter_timer.reset()

    def clips_per_second(self, epoch: bool = False) -> float:
        """Clips trained per second (of every process) over the last LOG_PERIOD iterations, or
        over the epoch so far."""
        clips = self.clips.total if epoch else sum(self.clips.recent)
        seconds = self.iter_time.total if epoch else sum(self.iter_time.recent)
        return clips / seconds if seconds > 0 else 0.0

    def data_wait_share(self, epoch: bool = False) -> float:
        """The share (0..1) of the iterations' time spent waiting for data, over the last
        LOG_PERIOD iterations, or over the epoch so far."""
        waited = self.data_time.total if epoch else sum(self.data_time.recent)
        seconds = self.iter_time.total if epoch else sum(self.iter_time.recent)
        return waited / seconds if seconds > 0 else 0.0

    def _eta(self, epoch: int, cur_iter: int) -> str:
        done = epoch * self.epoch_iters + cur_iter + 1
        seconds = self.iter_time.mean() * (self.max_iters - done)
        return str(datetime.timedelta(seconds=int(seconds)))

    def _errors(self, top1_err: float, top5_err: float) -> dict:
        return {} if self.multi_label else {"top1_err": top1_err, "top5_err": top5_err}

    def log_iter(self, epoch: int, cur_iter: int) -> dict | None:
        """Log and return the ``train_iter`` stats every LOG_PERIOD iterations (epoch, iteration
        0-based); None on the others."""
        if (cur_iter + 1) % self.log_period != 0:
            return None
        stats = {
            "split": "train_iter",
            "epoch": f"{epoch + 1}/{self.max_epoch}",
            "iter": f"{cur_iter + 1}/{self.epoch_iters}",
            "loss": self.loss.median(),
            **self._errors(self.top1_err.median(), self.top5_err.median()),
            "lr": self.lr,
            "time_diff": self.iter_time.median(),
            "data_time": self.data_time.median(),
            "eta": self._eta(epoch, cur_iter),
            **memory_stats(),
        }
        log_json_stats(stats)
        return stats

    def log_epoch(self, epoch: int) -> dict:
        """Log and return the ``train_epoch`` stats (means over the epoch)."""
        stats = {
            "split": "train_epoch",
            "epoch": f"{epoch + 1}/{self.max_epoch}",
            "loss": self.loss.mean(),
            **self._errors(self.top1_err.mean(), self.top5_err.mean()),
            "lr": self.lr,
            "time_diff": self.iter_time.mean(),
            "data_time": self.data_time.mean(),
            "eta": self._eta(epoch, self.epoch_iters - 1),
            "decode_failures": self.decode_failures,
            **memory_stats(),
        }
        log_json_stats(stats)
        return stats


class ValMeter:
    """Validation statistics of one epoch (one view per video); logs ``val_epoch``."""

    def __init__(self, cfg: CfgNode):
        self.max_epoch = cfg.SOLVER.MAX_EPOCH
        self.min_top1_err = 100.0
        self.reset()

    def reset(self) -> None:
        self.top1_correct = 0
        self.top5_correct = 0
        self.samples = 0
        self.decode_failures = 0
        self.timer = Timer()

    def update(self, top1_correct: int, top5_correct: int, batch_size: int) -> None:
        self.top1_correct += top1_correct
        self.top5_correct += top5_correct
        self.samples += batch_size

    def add_batch(self, scores: torch.Tensor, labels: torch.Tensor) -> None:
        """scores: (B, K), labels: (B,) of this process's batch; counted over all processes."""
        top1, top5 = topks_correct(scores.float(), labels, (1, 5))
        top1_sum, top5_sum, count = du.sum_over_processes(top1.item(), top5.item(), labels.numel())
        self.update(int(top1_sum), int(top5_sum), int(count))

    def log_epoch(self, epoch: int) -> dict:
        """Log and return the ``val_epoch`` stats."""
        samples = max(self.samples, 1)
        top1_err = 100.0 * (1 - self.top1_correct / samples)
        self.min_top1_err = min(self.min_top1_err, top1_err)
        stats = {
            "split": "val_epoch",
            "epoch": f"{epoch + 1}/{self.max_epoch}",
            "top1_err": top1_err,
            "top5_err": 100.0 * (1 - self.top5_correct / samples),
            "min_top1_err": self.min_top1_err,
            "samples": self.samples,
            "time_diff": self.timer.seconds(),
            "decode_failures": self.decode_failures,
            **memory_stats(),
        }
        log_json_stats(stats)
        return stats


def view_scores(logits: torch.Tensor, softmax: bool, multi_label: bool = False) -> torch.Tensor:
    """The scores of views that the ensemble combines, float32 (N, K): the logits (N, K) as they
    are (the original's TestMeter combines the model's raw outputs), or with ``softmax``
    (TEST.ENSEMBLE_SOFTMAX) their class probabilities; with ``multi_label``
    (DATA.MULTI_LABEL), each class's sigmoid probability (PySlowFast's multi-label test
    outputs; the maximum of views from zero is then the largest probability)."""
    logits = logits.float()
    if multi_label:
        return logits.sigmoid()
    return logits.softmax(dim=-1) if softmax else logits


ENSEMBLE_METHODS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "sum": torch.add,
    "max": torch.maximum,
}
"""TEST.ENSEMBLE_METHOD -> how a view's scores join a video's: ``method(combined, view)``."""

register_allowed_values("TEST.ENSEMBLE_METHOD", ENSEMBLE_METHODS.keys)


def combine_view(
    combined: torch.Tensor, view_scores: torch.Tensor, ensemble_method: str
) -> torch.Tensor:
    """A video's combined scores (K,) with one more view's scores (K,): their sum ("sum") or
    element-wise maximum ("max").

    A video's combined scores start at zero, as in the original's ``TestMeter`` (so "max" of
    raw logits is ``max(0, logit_1, ..., logit_V)`` per class, the original's result).
    """
    return ENSEMBLE_METHODS[ensemble_method](combined, view_scores)


def ensemble_views(
    view_logits: torch.Tensor, ensemble_method: str, softmax: bool, multi_label: bool = False
) -> torch.Tensor:
    """(V, K) logits of all views of one video -> its combined scores (K,), exactly as
    :class:`TestMeter` combines them (TEST.ENSEMBLE_METHOD, TEST.ENSEMBLE_SOFTMAX,
    DATA.MULTI_LABEL)."""
    combined = torch.zeros(view_logits.shape[1:])
    for scores in view_scores(view_logits, softmax, multi_label):
        combined = combine_view(combined, scores, ensemble_method)
    return combined


class IncompleteViewsError(RuntimeError):
    """Some videos did not receive all their test views."""


class TestMeter:
    """Combines the views of each test video and computes video-level accuracy (with
    ``multi_label``, the mean average precision).

    Each of ``num_videos`` videos has ``views_per_video`` views (temporal clips x spatial
    crops), dataset item ``i`` being view ``i % views_per_video`` of video
    ``i // views_per_video``. Views seen twice (padding of a distributed sampler) count
    once. Views labelled -1 come from videos skipped as unreadable.

    ``video_scores`` (num_videos, K): per video, the sum ("sum") or the maximum ("max") of
    its views' logits, from zero, as the original computes it; with ``softmax``
    (TEST.ENSEMBLE_SOFTMAX), of their class probabilities instead; with ``multi_label``
    (DATA.MULTI_LABEL), of each class's sigmoid probability. ``video_labels``: (num_videos,)
    class ids, or (num_videos, K) multi-hot with ``multi_label``; -1 until a view arrives.
    ``per_class_ap`` (K,): each class's average precision once :meth:`finalize` ran with
    ``multi_label`` (NaN for a class without positive videos).
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        num_videos: int,
        views_per_video: int,
        num_classes: int,
        ensemble_method: str,
        softmax: bool = False,
        multi_label: bool = False,
    ):
        self.num_videos = num_videos
        self.views_per_video = views_per_video
        self.ensemble_method = ensemble_method
        self.softmax = softmax
        self.multi_label = multi_label
        self.video_scores = torch.zeros((num_videos, num_classes))
        if multi_label:
            self.video_labels = torch.full((num_videos, num_classes), -1.0)
        else:
            self.video_labels = torch.full((num_videos,), -1, dtype=torch.long)
        self.seen = torch.zeros((num_videos, views_per_video), dtype=torch.bool)
        self.skipped = torch.zeros((num_videos,), dtype=torch.bool)
        self.per_class_ap: torch.Tensor | None = None

    def update(
        self, logits: torch.Tensor, labels: torch.Tensor, item_indices: torch.Tensor
    ) -> None:
        """logits: (N, K) model outputs of N views; labels: (N,), or (N, K) multi-hot;
        item_indices: (N,)."""
        scores = view_scores(logits.cpu(), self.softmax, self.multi_label)
        labels, item_indices = labels.cpu(), item_indices.cpu()
        unreadable = labels.reshape(len(labels), -1)[:, 0] < 0
        for score, label, skipped, item in zip(
            scores, labels, unreadable.tolist(), item_indices.tolist(), strict=True
        ):
            video, view = divmod(item, self.views_per_video)
            if skipped:
                self.skipped[video] = True
                continue
            if self.seen[video, view]:
                continue
            self.seen[video, view] = True
            self.video_labels[video] = label
            self.video_scores[video] = combine_view(
                self.video_scores[video], score, self.ensemble_method
            )

    def incomplete_videos(self) -> list[int]:
        """Indices of videos (not skipped) missing at least one view."""
        complete = self.seen.all(dim=1) | self.skipped
        return torch.nonzero(~complete).flatten().tolist()

    def finalize(self, video_names: list[str] | None = None) -> dict:
        """Check that every view arrived, then log and return the ``test_final`` stats:
        ``top1_acc``, ``top5_acc`` (percent), or with ``multi_label`` ``map`` (percent)."""
        missing = self.incomplete_videos()
        if missing:
            names = [video_names[i] if video_names else str(i) for i in missing[:20]]
            more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
            raise IncompleteViewsError(
                f"{len(missing)} test video(s) did not receive all {self.views_per_video} views: "
                f"{', '.join(names)}{more}."
            )
        kept = ~self.skipped
        scores, labels = self.video_scores[kept], self.video_labels[kept]
        if self.multi_label:
            mean_ap, self.per_class_ap = average_precisions(scores, labels)
            accuracy = {"map": mean_ap}
        else:
            top1, top5 = topk_accuracies(scores, labels, (1, 5))
            accuracy = {"top1_acc": top1, "top5_acc": top5}
        stats = {
            "split": "test_final",
            **accuracy,
            "videos": int(kept.sum()),
            "views_per_video": self.views_per_video,
            "skipped_videos": int(self.skipped.sum()),
        }
        if stats["skipped_videos"]:
            logger.warning("%d unreadable test video(s) were skipped.", stats["skipped_videos"])
        log_json_stats(stats)
        return stats
