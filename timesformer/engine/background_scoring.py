"""The model's side of a streaming pass, in a thread of its own: the decoding thread puts cut
windows in, the model scores them in batches meanwhile, and the decoding thread takes the
scored ones out, in window order.

A video file's windows all get scored: :meth:`BackgroundScorer.put` waits while ``max_waiting``
windows are waiting, so decoding runs at most that far ahead of the model. A live source cannot
wait: with ``drop_when_behind``, a window that finds ``max_waiting`` windows waiting drops the
oldest of them (its clip freed, counted in ``dropped``; it leaves skipped, in its place). The
model then takes the waiting windows, up to ``batch_size``, as soon as it is free, and a window
is scored within about ``ceil(max_waiting / batch_size) + 1`` model runs of its last frame
arriving, however slow the model: the latency is bounded, and what the model cannot keep up
with is dropped, not queued.
"""

import threading
from collections import deque
from dataclasses import replace

from timesformer.engine.video_windows import CutWindow
from timesformer.engine.window_scores import ScoredWindow, WindowScorer


class BackgroundScorer:
    """``scorer`` run on batches of at most ``batch_size`` waiting windows in a daemon thread;
    ``max_waiting``: the windows with a clip that may wait (a file's: at least ``batch_size``).

    Use from one (the decoding) thread: :meth:`put` each window, :meth:`take` what is scored
    so far, :meth:`finish` at the end; an error of the model's thread is raised again there.
    """

    def __init__(
        self,
        scorer: WindowScorer,
        batch_size: int,
        max_waiting: int,
        drop_when_behind: bool = False,
    ):
        self.scorer, self.batch_size = scorer, batch_size
        self.drop_when_behind = drop_when_behind
        self.max_waiting = max(max_waiting, 1 if drop_when_behind else batch_size)
        self.dropped = 0
        self._waiting: deque[CutWindow] = deque()  # put, not yet taken by the model
        self._scored: list[ScoredWindow] = []
        self._changed = threading.Condition()
        self._closing = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="timeline-model", daemon=True)
        self._thread.start()

    def put(self, window: CutWindow) -> None:
        """Window ``window`` in (see the module's docstring for when it waits, or drops)."""
        with self._changed:
            while self._clips_waiting() >= self.max_waiting and self._error is None:
                if self.drop_when_behind:
                    self._drop_oldest()
                else:
                    self._changed.wait()
            self._raise_error()
            self._waiting.append(window)
            self._changed.notify_all()

    def take(self) -> list[ScoredWindow]:
        """The windows scored since the last call, in order."""
        with self._changed:
            self._raise_error()
            scored, self._scored = self._scored, []
        return scored

    def finish(self) -> list[ScoredWindow]:
        """Wait for every window put to be scored; the windows not yet taken, the smoothing's
        last ones included."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        self._thread.join()
        return self.take() + self.scorer.finish()

    def _clips_waiting(self) -> int:
        return sum(window.clip is not None for window in self._waiting)

    def _drop_oldest(self) -> None:
        for position, window in enumerate(self._waiting):
            if window.clip is not None:
                self._waiting[position] = replace(window, clip=None, dropped=True)
                self.dropped += 1
                return

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _next_batch(self) -> list[CutWindow] | None:
        """(Holding the lock.) The next windows to score, up to ``batch_size`` clips among
        them, once there are enough (a live source: one; a file: a full batch, or the rest at
        the end); None when everything put has been taken."""
        enough = 1 if self.drop_when_behind else self.batch_size
        while not (self._waiting and (self._clips_waiting() >= enough or self._closing)):
            if self._closing and not self._waiting:
                return None
            self._changed.wait()
        batch, clips = [], 0
        while self._waiting and clips < self.batch_size:
            window = self._waiting.popleft()
            batch.append(window)
            clips += window.clip is not None
        self._changed.notify_all()
        return batch

    def _run(self) -> None:
        while True:
            with self._changed:
                batch = self._next_batch()
            if batch is None:
                return
            try:
                scored = self.scorer.score(batch)
            except BaseException as error:  # raised again in the decoding thread
                with self._changed:
                    self._error = error
                    self._changed.notify_all()
                return
            with self._changed:
                self._scored += scored
