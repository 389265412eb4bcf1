"""Decoding without the frames nothing needs: frames that no other frame references and no clip
uses are skipped inside the decoder.

A frame of a compressed video is decoded from the frames it references, so the frames of a clip
cannot be decoded alone; but a frame that no other frame references, and that the clip does not
use, need not be decoded at all. FFmpeg's ``skip_frame = "NONREF"`` drops such a frame before
any work on it, and every other frame decodes bit for bit as it would without the skip (it
never reads the dropped one). In H.264 these are the frames whose ``nal_ref_idc`` is 0: with
x264's defaults (3 B-frames, B-pyramid) about half the frames of a video, so a training clip (8
frames of a 256-frame span) decodes about half of its span. Only H.264 skips: in HEVC "NONREF"
also drops sub-layer non-reference pictures that a higher temporal sub-layer may reference.
"""

from collections.abc import Callable, Generator

import av

EXACT_SKIP_CODECS = frozenset({"h264"})
"""Decoders whose "NONREF" skip drops only frames that no other frame references."""
DECODE_TIME_FORMATS = frozenset({"avi"})
"""Containers that keep no presentation times: the timestamps of reordered frames are decode
times, which cannot tell which frame a packet is shown as, so nothing is skipped."""


def decoded_frames(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    unused: Callable[[int], bool],
) -> Generator[av.VideoFrame, None, None]:
    """The frames ``container.decode(stream)`` gives from the container's position, in display
    order, less those that no other frame references and whose packet timestamp ``unused(pts)``
    calls unused (those are not decoded; only in :data:`EXACT_SKIP_CODECS` and outside
    :data:`DECODE_TIME_FORMATS`). Packets without a timestamp are decoded."""
    codec = stream.codec_context
    may_skip = codec.name in EXACT_SKIP_CODECS and container.format.name not in DECODE_TIME_FORMATS
    try:
        for packet in container.demux(stream):
            if may_skip:
                skip = packet.pts is not None and unused(packet.pts)
                codec.skip_frame = "NONREF" if skip else "DEFAULT"
            yield from packet.decode()
    finally:
        if may_skip:
            codec.skip_frame = "DEFAULT"


class SkippableFrames:
    """The frames a pass that wants the frame indices ``wanted`` may skip (any other), and the
    timestamps of those it offered the decoder to skip, so that the pass can tell whether a
    frame that a full decode would have given it in place of the frame in hand may be missing.

    A full decode gives a wanted index the first frame, in display order, whose index is that
    or later (or the stream's last frame). Several frames may have one index (variable frame
    rate): what counts is a frame's timestamp, not its index.

    Args:
        index_of: a packet's timestamp (in its stream's time base) -> its frame index.
        wanted: the frame indices the pass uses; None: no frame may be skipped.
    """

    def __init__(self, index_of: Callable[[int], int], wanted: set[int] | None):
        self._index_of = index_of
        self._wanted = wanted
        self.offered: list[int] = []
        """Timestamps of the packets the decoder was allowed to skip."""

    def unused(self, pts: int) -> bool:
        """Whether the frame at ``pts`` may be skipped (remembered when it may)."""
        if self._wanted is None or self._index_of(pts) in self._wanted:
            return False
        self.offered.append(pts)
        return True

    def skipped_before(self, pts: int, index: int) -> bool:
        """Whether a frame shown before the one at ``pts``, of frame index ``index`` or later, may
        have been skipped: a full decode would give it to a wanted ``index`` first."""
        return any(offered < pts and self._index_of(offered) >= index for offered in self.offered)

    def skipped_after(self, pts: int) -> bool:
        """Whether a frame shown after the one at ``pts`` may have been skipped: a full decode
        would not end the stream at ``pts``."""
        return any(offered > pts for offered in self.offered)
