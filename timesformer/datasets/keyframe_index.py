"""The frames of a stretch of a video stream as the decoder meets them, read from its packets
without decoding: where each is shown, whether a seek can land on it (a key frame) and whether
another frame may reference it (so that skipping non-reference frames cannot drop it).

An index covers the packets a clip's passes can read: from the key frame a seek for its first
frame lands on to the first key frame shown after its last frame (the packets after it are
shown later), so that reading it costs about what demuxing the clip's span costs (no decoding:
about 1.4 ms for the 300 packets of a 10 s 30 fps video at 568x320), whatever the video's
length. :class:`KeyframeIndexCache` keeps the last index read of each of the last videos a
loader worker read, so that a video read again (its clips of a later epoch, in a small dataset)
is not demuxed again when the index covers the new clip.
"""

import os
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

import av
import numpy as np

from timesformer.datasets.frame_clock import FrameClock
from timesformer.datasets.frame_skipping import DECODE_TIME_FORMATS, EXACT_SKIP_CODECS

H264_SLICE_TYPES = range(1, 6)
"""H.264 NAL unit types of coded slices (5: of an IDR picture); ``nal_ref_idc`` 0 in a slice's
header marks a picture that no other picture references."""
CACHED_VIDEOS = 1024
"""Videos whose index :class:`KeyframeIndexCache` keeps by default (about 5 kB each for 10 s at
30 fps)."""


@dataclass(frozen=True)
class KeyframeIndex:
    """The packets of a stretch of a video stream, in decode order (the order of its packets).

    Attributes:
        frame_index: (N,) int64, the frame index (of the stream's
            :class:`~timesformer.datasets.frame_clock.FrameClock`) each packet is shown as.
        pts: (N,) int64, each packet's timestamp.
        key: (N,) bool, the packets a seek can land on (key frames).
        reference: (N,) bool, the packets another frame may reference: all of them where the
            decoder skips nothing (:data:`~timesformer.datasets.frame_skipping.
            EXACT_SKIP_CODECS`), so that a frame counts as decoded whenever it is read.
        first: the frame whose seek the stretch starts from.
        last: the last frame the stretch covers; None: it reaches the stream's end.
    """

    frame_index: np.ndarray
    pts: np.ndarray
    key: np.ndarray
    reference: np.ndarray
    first: int
    last: int | None

    @property
    def size(self) -> int:
        """Packets (frames) in the stretch."""
        return len(self.frame_index)

    def covers(self, first: int, last: int) -> bool:
        """Whether the stretch holds every packet a pass for frames ``first .. last`` reads."""
        return self.first <= first and (self.last is None or last <= self.last)


def read_keyframe_index(
    container: av.container.InputContainer, clock: FrameClock, first: int = 0, last: int = -1
) -> KeyframeIndex | None:
    """The :class:`KeyframeIndex` of the first video stream's packets (not decoded) from where a
    seek for frame ``first`` lands (:meth:`FrameClock.pts_before`; the start for frame 0) to the
    first key frame shown after frame ``last`` (-1: to the stream's end). None when the stretch
    holds no packet, a packet has no timestamp or shares one with another (the decoder then
    counts frames), or the container keeps decode times only
    (:data:`~timesformer.datasets.frame_skipping.DECODE_TIME_FORMATS`): no plan then. Leaves
    the container at an arbitrary position: seek before decoding."""
    if container.format.name in DECODE_TIME_FORMATS:
        return None
    stream = container.streams.video[0]
    codec = stream.codec_context
    reads_references = codec.name in EXACT_SKIP_CODECS
    length_size = _nal_length_size(codec.extradata) if reads_references else None
    container.seek(
        max(clock.pts_before(first), 0) if first > 0 else 0, stream=stream, backward=True
    )
    pts: list[int] = []
    frame_index: list[int] = []
    key: list[bool] = []
    reference: list[bool] = []
    reached_end = True
    for packet in container.demux(stream):
        if packet.size == 0:
            continue  # the demuxer's end-of-stream packet
        if packet.pts is None:
            return None
        index = clock.index_of(packet.pts)
        if packet.is_keyframe and pts and 0 <= last < index:
            reached_end = False
            break
        pts.append(packet.pts)
        frame_index.append(index)
        key.append(packet.is_keyframe)
        reference.append(not reads_references or _is_reference(packet, length_size))
    if not pts or len(set(pts)) < len(pts):  # two frames at one time: not a display order
        return None
    return KeyframeIndex(
        frame_index=np.asarray(frame_index, dtype=np.int64),
        pts=np.asarray(pts, dtype=np.int64),
        key=np.asarray(key, dtype=bool),
        reference=np.asarray(reference, dtype=bool),
        first=first,
        last=None if reached_end else last,
    )


def _nal_length_size(extradata: bytes | None) -> int | None:
    """Bytes of each NAL unit's length prefix in an H.264 stream stored as in mp4 (``avcC``
    extradata, first byte 1); None: Annex B (start codes), as in MPEG-TS or raw H.264."""
    if extradata and extradata[0] == 1 and len(extradata) > 4:
        return (extradata[4] & 3) + 1
    return None


def _is_reference(packet: av.Packet, length_size: int | None) -> bool:
    """Whether the first coded slice of an H.264 ``packet`` has a non-zero ``nal_ref_idc``
    (True when the packet holds no slice it can parse: it is then never assumed skippable)."""
    data = memoryview(packet)
    headers = (
        _annex_b_headers(bytes(data))
        if length_size is None
        else _length_prefixed_headers(data, length_size)
    )
    for header in headers:
        if header & 0x1F in H264_SLICE_TYPES:
            return header >> 5 != 0
    return True


def _length_prefixed_headers(data: memoryview, length_size: int) -> Iterator[int]:
    """The first byte (the header) of each NAL unit of a length-prefixed packet."""
    start = 0
    while start + length_size < len(data):
        length = int.from_bytes(data[start : start + length_size], "big")
        yield data[start + length_size]
        start += length_size + length


def _annex_b_headers(data: bytes) -> Iterator[int]:
    """The first byte (the header) of each NAL unit of an Annex B packet (start codes
    ``00 00 01``)."""
    start = data.find(b"\x00\x00\x01")
    while 0 <= start < len(data) - 3:
        yield data[start + 3]
        start = data.find(b"\x00\x00\x01", start + 3)


class KeyframeIndexCache:
    """The last :class:`KeyframeIndex` read of each of the last ``capacity`` videos (least
    recently used dropped first), each keyed by its path, size and modification time, so that a
    file rewritten in place is read again.

    One per dataset (``ClipDataset.keyframe_indices``): each loader worker has its own copy.
    """

    def __init__(self, capacity: int = CACHED_VIDEOS):
        self.capacity = capacity
        self._indices: OrderedDict[tuple, KeyframeIndex | None] = OrderedDict()

    def get(
        self, container: av.container.InputContainer, clock: FrameClock, first: int, last: int
    ) -> KeyframeIndex | None:
        """The index of ``container``'s file covering frames ``first .. last``: the cached one
        when it covers them (or the file cannot be planned: None), else
        :func:`read_keyframe_index` (which leaves the container at an arbitrary position)."""
        key = _file_key(container.name, clock)
        if key is not None and key in self._indices:
            self._indices.move_to_end(key)
            cached = self._indices[key]
            if cached is None or cached.covers(first, last):
                return cached
        index = read_keyframe_index(container, clock, first, last)
        if key is not None:
            self._indices[key] = index
            self._indices.move_to_end(key)
            if len(self._indices) > self.capacity:
                self._indices.popitem(last=False)
        return index

    def __len__(self) -> int:
        return len(self._indices)


def _file_key(path: str, clock: FrameClock) -> tuple | None:
    """``(path, size, mtime in ns, clock)`` of a file; None when it cannot be stat'ed (not a
    file: never cached)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (path, status.st_size, status.st_mtime_ns, clock)
