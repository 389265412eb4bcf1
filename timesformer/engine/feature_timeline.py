"""A long video's feature timeline: the CLS feature (before the head) of each of its sliding
windows, from one streaming pass over its frames.

Window ``k`` is the model's clip placed at ``k * stride`` seconds
(:class:`~timesformer.engine.video_windows.WindowPlan`: the frames the test views take for a
clip there; the video's windows are those that end inside it, and a video shorter than one
window gets one padded window, its last frame repeated), seen as the single-crop (centre) test
view (:func:`~timesformer.engine.window_scores.window_view`). Its row is the model's
``forward_features`` of that view: the feature tools/extract_features.py stores for a whole
video, of this one clip. The frames are decoded once, in order
(:class:`~timesformer.engine.window_pass.WindowPass`), and TEST.BATCH_SIZE windows go through
the model per run. A window over frames lost to decoding errors gets a row of NaN and is listed
in ``skipped``.

Memory stays flat however long the video: the pass's rolling buffer holds only the frames of
the windows still open, at most TEST.BATCH_SIZE views wait for the model, and no clip is kept
after its batch. What grows is the output alone, the (N, D) float32 features, kept in memory
until the video ends and then written at once: D * 4 bytes a window, about 2.6 MB per hour of
video for ViT-Base (D 768) at the default stride of an 8x32 model (4.3 s).
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
from fvcore.common.config import CfgNode

from timesformer.datasets.decoder import video_fps
from timesformer.datasets.frame_clock import FrameClock
from timesformer.datasets.video_container import decoding_errors_name, open_video
from timesformer.engine.frame_stream import DecodingErrors
from timesformer.engine.inference import run_on_views
from timesformer.engine.video_windows import CutWindow, WindowPlan
from timesformer.engine.window_pass import WindowPass
from timesformer.engine.window_scores import window_view
from timesformer.models.vit import VisionTransformer


@dataclass
class FeatureTimeline:
    """The features of a video's windows and where they lie.

    Attributes:
        features: (N, D) float32, row k the CLS feature of window k; NaN for skipped windows.
        window_s: a window's length in seconds (NUM_FRAMES * SAMPLING_RATE / TARGET_FPS).
        stride_s: seconds between the starts of consecutive windows.
        starts_s: (N,) window k's start, ``k * stride_s`` seconds.
        skipped: the windows (k) over frames that could not be decoded: their rows are NaN.
        padded: the video is shorter than one window: its one window repeats its last frame.
        duration_s: the video's decoded length, frames / fps.
        errors: the pass's decoding errors (failed packets, why it stopped early).
    """

    features: torch.Tensor
    window_s: float
    stride_s: float
    starts_s: list[float]
    skipped: list[int]
    padded: bool
    duration_s: float
    errors: DecodingErrors


def window_stride(cfg: CfgNode, stride: float | None) -> float:
    """The seconds between windows: ``stride``, else half a window (the windows' default,
    :meth:`WindowPlan.of_video`; a window's seconds do not depend on the video's frame rate,
    so any rate tells them)."""
    return WindowPlan.of_video(cfg, 1.0, stride).stride


class WindowFeatures:
    """Cut windows in, in order; at the end their (N, D) float32 CLS features, a NaN row for
    each window without a clip. The views of TEST.BATCH_SIZE windows go through
    ``vit.forward_features`` per run (on cfg's device and precision,
    :func:`~timesformer.engine.inference.run_on_views`)."""

    def __init__(self, cfg: CfgNode, vit: VisionTransformer):
        self.cfg, self.vit = cfg, vit
        self.view = window_view(cfg)
        self.batch_size = max(cfg.TEST.BATCH_SIZE, 1)
        self._waiting: list[torch.Tensor] = []  # (3, T, S, S) views of windows not yet run
        self._computed: list[torch.Tensor] = []  # (B, D) features of the batches run
        self._has_clip: list[bool] = []  # per window added

    def add(self, window: CutWindow) -> None:
        """Window ``window`` in; a full batch runs through the model now."""
        self._has_clip.append(window.clip is not None)
        if window.clip is None:
            return
        self._waiting.append(self.view(window.clip))
        if len(self._waiting) == self.batch_size:
            self._run_waiting()

    def finish(self) -> torch.Tensor:
        """(N, D) float32 features of the N windows added, the last batch run first."""
        self._run_waiting()
        features = torch.full((len(self._has_clip), self.vit.num_features), float("nan"))
        if self._computed:
            features[torch.tensor(self._has_clip)] = torch.cat(self._computed)
        return features

    def _run_waiting(self) -> None:
        if self._waiting:
            views = torch.stack(self._waiting)  # (B, 3, T, S, S)
            self._computed.append(run_on_views(self.vit.forward_features, views, self.cfg))
            self._waiting = []


def video_feature_timeline(
    cfg: CfgNode,
    vit: VisionTransformer,
    path: str,
    stride_s: float,
    on_window: Callable[[CutWindow], object] = lambda window: None,
) -> FeatureTimeline:
    """The feature timeline of the video file ``path``: windows every ``stride_s`` seconds
    through ``vit`` (in eval mode, on cfg's device); ``on_window`` is called with each window as
    it is cut (progress; what it returns is ignored).

    Raises:
        VideoReadError: the video cannot be opened, timed, or no frame of it decodes.
    """
    with open_video(path, cfg.DATA_LOADER.ENABLE_MULTI_THREAD_DECODE) as container:
        fps = video_fps(container.streams.video[0])
        with decoding_errors_name(container):
            clock = FrameClock.of_stream(container, fps)
        plan = WindowPlan.of_video(cfg, fps, stride_s)
        window_pass = WindowPass(container, clock, plan)
        features = WindowFeatures(cfg, vit)
        starts, skipped, padded = [], [], False
        for window in window_pass.windows():
            features.add(window)
            starts.append(round(plan.start_time(window.k), 6))
            if window.clip is None:
                skipped.append(window.k)
            padded = padded or window.padded
            on_window(window)
    return FeatureTimeline(
        features=features.finish(),
        window_s=plan.window_seconds,
        stride_s=plan.stride,
        starts_s=starts,
        skipped=skipped,
        padded=padded,
        duration_s=window_pass.buffer.frame_count / fps,
        errors=window_pass.errors,
    )
