"""Windows' clips to their scores: the test view of each clip, the model over a batch of them,
the scores the tools show, then an optional centred mean over neighbouring windows.

Windows come in order and leave in order. A window's raw scores are known once its batch has
run; with ``smooth`` N (odd), window k's shown scores are the mean of the raw scores of windows
``k - N//2 .. k + N//2`` (those that exist and are not skipped), known once window ``k + N//2``
has run: a window leaves at most ``N//2`` windows after its batch.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from fvcore.common.config import CfgNode

from timesformer.datasets import transform
from timesformer.datasets.build import dataset_class
from timesformer.datasets.clip_dataset import VideoList
from timesformer.engine.inference import run_on_views, shown_scores
from timesformer.engine.video_windows import CutWindow


@dataclass
class ScoredWindow:
    """A window and its shown (K,) scores; ``scores`` None: skipped (a frame was lost, or the
    window was dropped)."""

    window: CutWindow
    scores: torch.Tensor | None


def window_view(cfg: CfgNode) -> Callable[[np.ndarray], torch.Tensor]:
    """The test loop's single-crop test view of a clip: (T, H, W, 3) uint8 RGB ->
    (3, T, S, S) float, S = DATA.TEST_CROP_SIZE, the centre crop of the frames scaled to the
    short side TEST.DATASET's test views use with one crop (Kinetics:
    DATA.TRAIN_JITTER_SCALES[0]), as ``ClipDataset`` transforms a test view."""
    data = cfg.DATA
    one_crop = cfg.clone()
    one_crop.TEST.NUM_SPATIAL_CROPS = 1
    dataset = dataset_class(cfg.TEST.DATASET)(one_crop, "test", VideoList([], []))
    short_side = max(dataset.test_short_side(), data.TEST_CROP_SIZE)

    def view(frames: np.ndarray) -> torch.Tensor:
        return transform.test_view(
            frames,
            data.TEST_CROP_SIZE,
            transform.CENTER_CROP,
            data.MEAN,
            data.STD,
            data.REVERSE_INPUT_CHANNEL,
            short_side=short_side,
        )

    return view


class CentredMean:
    """The mean of each window's scores with those of its ``size // 2`` neighbours on each side
    (``size`` odd), skipped windows left out of the means and kept skipped."""

    def __init__(self, size: int):
        self.half = size // 2
        self._raw: list[ScoredWindow] = []  # the last 2 * half windows run, and those to smooth
        self._next = 0  # position in _raw of the next window to leave

    def add(self, scored: ScoredWindow) -> list[ScoredWindow]:
        """Window ``scored`` (raw scores) in; the windows whose neighbours have all come out."""
        self._raw.append(scored)
        ready = []
        while self._next + self.half < len(self._raw):
            ready.append(self._smoothed(self._next))
            self._next += 1
        self._drop_old()
        return ready

    def finish(self) -> list[ScoredWindow]:
        """The windows left, their means over the neighbours there are."""
        ready = [self._smoothed(position) for position in range(self._next, len(self._raw))]
        self._raw, self._next = [], 0
        return ready

    def _smoothed(self, position: int) -> ScoredWindow:
        own = self._raw[position]
        if own.scores is None or not self.half:
            return own
        around = self._raw[max(position - self.half, 0) : position + self.half + 1]
        scores = torch.stack([other.scores for other in around if other.scores is not None])
        return ScoredWindow(own.window, scores.mean(dim=0))

    def _drop_old(self) -> None:
        """Keep the ``half`` windows before the next to leave (the neighbours it averages)."""
        drop = max(self._next - self.half, 0)
        self._raw, self._next = self._raw[drop:], self._next - drop


class WindowScorer:
    """Batches of cut windows in, scored windows out (in order).

    ``model``: (B, 3, T, S, S) -> (B, K) logits (run by
    :func:`~timesformer.engine.inference.run_on_views` on cfg's device and precision); each
    window's scores are those predict shows for a video of that one view
    (:func:`~timesformer.engine.inference.shown_scores`); ``smooth``: the size of the centred
    mean (1: none). Windows without a clip (lost frames, or dropped) leave skipped.
    """

    def __init__(self, cfg: CfgNode, model: torch.nn.Module, smooth: int = 1):
        self.cfg, self.model = cfg, model
        self.view = window_view(cfg)
        self.smoothing = CentredMean(smooth)

    def score(self, windows: list[CutWindow]) -> list[ScoredWindow]:
        """The clips of ``windows`` through the model as one batch; the windows whose (smoothed)
        scores are now known."""
        clips = [window.clip for window in windows if window.clip is not None]
        scores: list[torch.Tensor] = []
        if clips:
            views = torch.stack([self.view(clip) for clip in clips])
            scores = [
                shown_scores(row[None], self.cfg)
                for row in run_on_views(self.model, views, self.cfg)
            ]
        remaining = iter(scores)
        ready = []
        for window in windows:
            raw = ScoredWindow(window, next(remaining) if window.clip is not None else None)
            ready += self.smoothing.add(raw)
        return ready

    def finish(self) -> list[ScoredWindow]:
        """The windows left: every mean taken over the neighbours there are."""
        return self.smoothing.finish()
