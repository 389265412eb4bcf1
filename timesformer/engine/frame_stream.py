"""One pass over a video's frames, in display order, that goes on past undecodable packets.

Packets are demuxed and decoded one by one (PyAV raises on a corrupt packet); a packet that
fails is counted and the pass goes on with the next, so that a damaged stretch in the middle of
a file costs its own frames only. A frame's index is its timestamp on the stream's
:class:`~timesformer.datasets.frame_clock.FrameClock` (the decoder's indices), so frames lost
to errors leave a gap in the indices instead of shifting the frames after them; a frame without
a timestamp, or whose timestamp does not move past the previous frame's, is counted on (the
previous index + 1), but after a decoding error such a frame (one the damaged references made
the decoder give out of order) is dropped.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import av

from timesformer.datasets.frame_clock import FrameClock
from timesformer.datasets.video_container import DECODING_ERRORS, error_reason
from timesformer.datasets.video_source import LiveClock


@dataclass
class StreamFrame:
    """A decoded frame and its index; ``lost_before``: frames between the previous decoded frame
    and this one were lost to decoding errors (a packet failed in between)."""

    index: int
    frame: av.VideoFrame
    lost_before: bool


@dataclass
class DecodingErrors:
    """What went wrong in a pass: packets that failed (their count, the first reason, the time
    of the first and the last), and why the pass stopped early (empty: it reached the end;
    ``stalled``: no data came within the source's timeout)."""

    failed_packets: int = 0
    first_reason: str = ""
    first_time: float = 0.0
    last_time: float = 0.0
    stopped: str = ""
    stalled: bool = False

    def add_failure(self, time: float, error: Exception) -> None:
        """Count a packet of the frame at ``time`` seconds that failed with ``error``."""
        if not self.failed_packets:
            self.first_reason, self.first_time = error_reason(error), time
        self.failed_packets += 1
        self.first_time, self.last_time = min(self.first_time, time), max(self.last_time, time)


def stream_frames(
    container: av.container.InputContainer,
    clock: FrameClock | LiveClock,
    errors: DecodingErrors,
    from_start: bool = True,
) -> Iterator[StreamFrame]:
    """Every frame of the first video stream that decodes, once each, in display order, from
    the start (``from_start``: seek there first; else from where the container is, a live
    source); failures are recorded in ``errors``. A demuxer that fails (a file cut off or
    damaged in its structure, a live source that stalls) ends the pass, ``errors.stopped``
    saying where and why."""
    stream = container.streams.video[0]
    if from_start:
        container.seek(0, stream=stream, backward=True)
    packets = container.demux(stream)
    previous, failed_ahead, error_since = -1, set(), False
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except DECODING_ERRORS as error:
            errors.stalled = isinstance(error, av.error.ExitError)  # the interrupt's timeout
            errors.stopped = f"after {(previous + 1) / clock.fps:.2f} s: {error_reason(error)}"
            return
        try:
            frames = packet.decode()
        except DECODING_ERRORS as error:
            index = clock.index_of(packet.pts) if packet.pts is not None else previous + 1
            errors.add_failure(index / clock.fps, error)
            failed_ahead.add(index)
            error_since = True
            continue
        for frame in frames:
            index = clock.index_of(frame.pts) if frame.pts is not None else previous + 1
            if index <= previous:
                if errors.failed_packets:  # shown out of order after a decoding error
                    continue
                index = previous + 1
            # A packet shown later than the frame it failed after (decode order is not display
            # order) still marks the gap it falls in.
            lost = error_since or any(previous < q < index for q in failed_ahead)
            failed_ahead = {q for q in failed_ahead if q > index}
            error_since = False
            yield StreamFrame(index, frame, lost and index > previous + 1)
            previous = index
