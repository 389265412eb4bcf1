"""Decoded frames into clips: their RGB images, and stacking them into (T, H, W, 3) arrays."""

from typing import Callable

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter


def rgb_converter() -> Callable[[av.VideoFrame], np.ndarray]:
    """A function from a decoded frame to its (H, W, 3) uint8 RGB image, the image
    ``frame.to_ndarray(format="rgb24")`` gives, through one swscale context built once for the
    frames of a decode (``to_ndarray`` builds one per frame, with a thread pool) and one thread
    (a loader worker has a core of its own)."""
    reformatter = VideoReformatter()
    return lambda frame: reformatter.reformat(frame, format="rgb24", threads=1).to_ndarray()


def frames_to_clip(images: list[np.ndarray]) -> np.ndarray:
    """Stack (H, W, 3) uint8 RGB frames into a (T, H, W, 3) clip, resizing (bilinear) any frame
    whose size differs from the first one's, as in a stream whose resolution changes.

    Raises:
        ValueError: a frame is empty (no pixels) or not (H, W, 3).
    """
    for image in images:
        if image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            raise ValueError(f"a decoded frame has shape {image.shape}; expected (H, W, 3)")
    height, width = images[0].shape[:2]
    return np.stack(
        [
            image
            if image.shape[:2] == (height, width)
            else cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
            for image in images
        ]
    )


def frames_to_clips(images: dict[int, np.ndarray], clips: list[np.ndarray]) -> np.ndarray:
    """Stack the images of each clip's frame indices into (len(clips), T, H, W, 3) uint8
    (:func:`frames_to_clip` over all of them: every frame takes the first one's size).

    Args:
        images: (H, W, 3) uint8 RGB image of each frame index the clips use.
        clips: each clip's (T,) frame indices.
    """
    frames = frames_to_clip([images[index] for clip in clips for index in clip])
    return frames.reshape(len(clips), -1, *frames.shape[1:])
