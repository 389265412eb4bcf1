"""Frame indices of a video stream's timestamps: frame 0 is the first frame a decoder gives, in
every container.

A stream's ``start_time`` is not always its first frame's timestamp: MPEG-4 part 2 with B-frames
in AVI starts at 0 while its first frame is shown at pts 1 (the packets carry decode times from
0), and an mp4 without an edit list shows its first frame a B-frame delay after 0. Counting from
``start_time`` would then make frame i the decoder's frame i - 1, and never pick the last one.
The first frame's timestamp is read from the stream's first packets, without decoding them.
"""

import itertools
from dataclasses import dataclass

import av

MAX_REORDER_PACKETS = 64
"""Packets read at most to find the first frame's timestamp; decoders reorder far fewer frames
(H.264 at most 16), so the first frame is among them."""


def first_frame_pts(container: av.container.InputContainer) -> int | None:
    """The timestamp of the first frame the decoder gives from the first video stream: the
    smallest pts of its first packets that the demuxer does not discard (an edit list's
    leading frames), read until a packet's decode time reaches that pts (every packet has
    ``dts <= pts``, and dts never decreases, so no later packet is shown earlier). None when
    those packets carry no pts. Leaves the container at an arbitrary position: seek before
    decoding."""
    stream = container.streams.video[0]
    container.seek(0, stream=stream, backward=True)
    first = None
    for packet in itertools.islice(container.demux(stream), MAX_REORDER_PACKETS):
        if packet.pts is not None and not packet.is_discard:
            first = packet.pts if first is None else min(first, packet.pts)
        if first is not None and packet.dts is not None and packet.dts >= first:
            break
    return first


@dataclass(frozen=True)
class FrameClock:
    """``pts -> frame index`` of a stream at ``fps``: the time after the first frame's (PyAV's
    ``frame.time``, in floats, not Fractions, cheap enough for every packet), times ``fps``,
    rounded.

    Attributes:
        time_base: the stream's time base, as (numerator, denominator).
        fps: the frame rate indices count at.
        first_pts: the first frame's timestamp, frame 0.
    """

    time_base: tuple[int, int]
    fps: float
    first_pts: int

    @classmethod
    def of_stream(cls, container: av.container.InputContainer, fps: float) -> "FrameClock":
        """The clock of the first video stream, frame 0 at :func:`first_frame_pts` (else at the
        stream's start time). Leaves the container at an arbitrary position.

        Raises:
            ValueError: the stream has no time base.
        """
        stream = container.streams.video[0]
        time_base = stream.time_base
        if time_base is None:  # a decoding error (DECODING_ERRORS): the video cannot be timed
            raise ValueError("its video stream has no time base")
        first = first_frame_pts(container)
        if first is None:
            first = stream.start_time or 0
        return cls((time_base.numerator, time_base.denominator), fps, first)

    def index_of(self, pts: int) -> int:
        """The frame index of a frame shown at ``pts``."""
        numerator, denominator = self.time_base
        return int(round(float(pts - self.first_pts) * numerator / denominator * self.fps))

    def pts_before(self, index: int) -> int:
        """A timestamp half a frame before frame ``index`` is shown (where a seek for it goes)."""
        numerator, denominator = self.time_base
        return self.first_pts + int((index - 0.5) / self.fps * denominator / numerator)
