"""Writing small videos with PyAV, for tests, benchmarks and demo data."""

from fractions import Fraction
from typing import Iterable

import av
import numpy as np


def write_video(
    path: str,
    frames_uint8_THWC: np.ndarray | Iterable[np.ndarray],
    fps: float,
    codec: str = "libx264",
    options: dict[str, str] | None = None,
) -> str:
    """Encode RGB frames into a video file (container from the extension: .mp4, .webm, .mkv).

    Args:
        path: output file.
        frames_uint8_THWC: (T, H, W, 3) uint8 RGB frames, or an iterable of
            (H, W, 3) frames (to write long videos without holding them in memory).
            H and W must be even for the yuv420p codecs (libx264, libvpx, ...).
        fps: frame rate (e.g. 30, 24, 29.97).
        codec: an encoder PyAV has (see ``av.codecs_available``), e.g. libx264,
            mpeg4, libvpx (VP8), libvpx-vp9.

    Returns:
        ``path``.
    """
    with av.open(path, mode="w") as container:
        stream = None
        for image in frames_uint8_THWC:
            if stream is None:
                stream = _add_stream(
                    container, codec, fps, height=image.shape[0], width=image.shape[1]
                )
                stream.options = dict(options or {})
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(image, dtype=np.uint8), format="rgb24"
            )
            container.mux(stream.encode(frame))
        if stream is None:
            raise ValueError(f"{path}: no frames to write")
        container.mux(stream.encode(None))
    return path


def _add_stream(container, codec: str, fps: float, height: int, width: int):
    if height % 2 or width % 2:
        raise ValueError(f"frame size {width}x{height}: width and height must be even for {codec}")
    stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
    stream.width, stream.height = width, height
    stream.pix_fmt = "yuv420p"
    return stream


def moving_texture_video(
    num_frames: int, height: int, width: int, seed: int = 0
) -> Iterable[np.ndarray]:
    """(H, W, 3) uint8 frames of a smooth random texture panning across the frame.

    Compresses like real footage (motion, changing grain), unlike flat or noise
    frames; yields frames one by one so minutes-long videos need little memory.
    """
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 232, size=(height // 8 + 1, width // 8 + 1, 3), dtype=np.uint8)
    texture = np.repeat(np.repeat(coarse, 8, axis=0), 8, axis=1)[:height, :width]
    grains = rng.integers(0, 24, size=(16, height, width, 3), dtype=np.uint8)
    for t in range(num_frames):
        yield np.roll(texture, shift=(t // 3, 2 * t), axis=(0, 1)) + grains[t % len(grains)]
