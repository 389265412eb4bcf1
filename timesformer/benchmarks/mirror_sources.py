"""Videos like those Kinetics mirrors ship, and their prepared versions, for the loader
benchmark's ``--sources mirrors``: written once into the benchmark's cache and reused.

* ``source``: 10-second 1280x720 H.264 videos at 30 fps (a moving texture, x264's default
  settings: CRF 23, preset medium, a key frame every 250 frames, 3 B-frames, B-pyramid) with a
  stereo AAC audio stream (a 440 Hz tone at 48 kHz), as mirrors' mp4 files hold;
* ``prepared``: each re-encoded by ``prepare_dataset.py resize``'s own re-encoder
  (:func:`~timesformer.datasets.preparation.reencode.reencode_video`) to short side 320 with
  its default settings (audio dropped);
* ``fast_decode``: the same with x264's fast-decode tuning (``resize --fast-decode``);
* ``random_access``: the same with the training-set preset
  (:func:`~timesformer.datasets.preparation.reencode.random_access_settings`).

Each variant's folder is named after its format (size and rate, or x264's options), so that a
changed preset is written afresh rather than read stale, and holds a ``train.csv`` of its
videos.
"""

import os
from dataclasses import dataclass, replace
from fractions import Fraction

import av
import numpy as np
from av.video.reformatter import Interpolation, VideoReformatter

from timesformer.benchmarks.synthetic_videos import write_train_list
from timesformer.datasets.preparation.reencode import (
    EncodeSettings,
    random_access_settings,
    reencode_video,
)
from timesformer.datasets.synthetic_video import moving_texture_video
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)

AUDIO_RATE, TONE_HZ, TONE_AMPLITUDE = 48000, 440.0, 0.1


@dataclass(frozen=True)
class SourceFormat:
    """The source videos' format: ``width`` x ``height`` at ``fps`` (integer), ``seconds``
    long; the texture drawn at 1/``detail_scale`` of the size and scaled up (bicubic).

    Drawn at full size, the texture's per-pixel grain makes a 720p file of 4.9 Mbit/s whose
    short-side-320 re-encode keeps 4.2 (86%): grain at the prepared size, unlike footage. Drawn
    at half size (the default) the source's video is 2.9 Mbit/s, nearer the rates of YouTube's
    720p H.264 streams that the mirrors' files come from, and its re-encode 1.2 Mbit/s. Width
    and height are multiples of 2 x ``detail_scale``."""

    width: int = 1280
    height: int = 720
    fps: int = 30
    seconds: float = 10.0
    detail_scale: int = 2

    def folder_name(self) -> str:
        return (
            f"source_{self.width}x{self.height}_{self.fps}fps_{self.seconds:g}s"
            f"_detail{self.detail_scale}"
        )


MIRROR_SOURCE = SourceFormat()
"""The format of the mirrors' files that the benchmark writes."""

PREPARED_SHORT_SIDE = 320
"""The prepared versions' short side (``prepare_dataset.py resize``'s default)."""


def variant_settings(short_side: int = PREPARED_SHORT_SIDE) -> dict[str, EncodeSettings]:
    """The prepared variants' re-encoding settings: ``{"prepared": the defaults at
    ``short_side``, "fast_decode": those with fast decode, "random_access": the training-set
    preset of those}``."""
    prepared = EncodeSettings(short_side=short_side)
    return {
        "prepared": prepared,
        "fast_decode": replace(prepared, fast_decode=True),
        "random_access": random_access_settings(prepared),
    }


def prepared_folder_name(name: str, settings: EncodeSettings) -> str:
    """E.g. ``"prepared_320_preset=medium_crf=23"``: the variant and the x264 options that make
    it (its one thread left out)."""
    options = (f"{key}={value}" for key, value in settings.x264_options().items())
    return "_".join([name, str(settings.short_side), *(o for o in options if o != "threads=1")])


def tone_frame(first_sample: int, sample_count: int) -> av.AudioFrame:
    """``sample_count`` stereo float samples of the tone from sample ``first_sample`` on."""
    times = np.arange(first_sample, first_sample + sample_count) / AUDIO_RATE
    wave = (TONE_AMPLITUDE * np.sin(2 * np.pi * TONE_HZ * times)).astype(np.float32)
    frame = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
    frame.sample_rate, frame.time_base = AUDIO_RATE, Fraction(1, AUDIO_RATE)
    frame.pts = first_sample
    return frame


def write_source_video(path: str, source: SourceFormat, seed: int) -> str:
    """Write ``path``: an mp4 of ``source``'s format, H.264 with x264's defaults (a moving
    texture, :func:`~timesformer.datasets.synthetic_video.moving_texture_video` of ``seed``,
    scaled up from 1/``detail_scale`` of the size) and a stereo AAC stream of the same length
    (:func:`tone_frame`); returns ``path``."""
    samples_per_frame = AUDIO_RATE // source.fps
    scaler = VideoReformatter()
    with av.open(path, mode="w", format="mp4") as container:
        video = container.add_stream(
            "libx264", rate=source.fps, width=source.width, height=source.height
        )
        video.pix_fmt = "yuv420p"
        audio = container.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
        frame_count = round(source.seconds * source.fps)
        images = moving_texture_video(
            frame_count,
            source.height // source.detail_scale,
            source.width // source.detail_scale,
            seed=seed,
        )
        for number, image in enumerate(images):
            frame = scaler.reformat(
                av.VideoFrame.from_ndarray(image, format="rgb24"),
                source.width,
                source.height,
                "yuv420p",
                interpolation=Interpolation.BICUBIC,
            )
            container.mux(video.encode(frame))
            container.mux(audio.encode(tone_frame(number * samples_per_frame, samples_per_frame)))
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
    return path


def write_sources(folder: str, num_videos: int, source: SourceFormat) -> list[str]:
    """``folder``'s ``num_videos`` source videos (those missing written, each under a temporary
    name first) and its train.csv; their paths."""
    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, f"source_{number:03d}.mp4") for number in range(num_videos)]
    for number, path in enumerate(paths):
        if not os.path.exists(path):
            logger.info("Writing %s (%s)", path, source.folder_name())
            write_source_video(path + ".partial.mp4", source, seed=number)
            os.replace(path + ".partial.mp4", path)
    write_train_list(folder, paths)
    return paths


def write_prepared(folder: str, sources: list[str], settings: EncodeSettings) -> None:
    """``folder``: each of ``sources`` re-encoded with ``settings`` (those missing), and its
    train.csv."""
    destinations = [os.path.join(folder, os.path.basename(path)) for path in sources]
    for source, destination in zip(sources, destinations, strict=True):
        if not os.path.exists(destination):
            logger.info("Re-encoding %s -> %s", source, destination)
            reencode_video(source, destination, settings)
    write_train_list(folder, destinations)


def write_mirror_dataset(
    cache_dir: str,
    num_videos: int,
    source: SourceFormat = MIRROR_SOURCE,
    short_side: int = PREPARED_SHORT_SIDE,
) -> dict[str, str]:
    """Write (once) the source videos under ``cache_dir`` and their prepared versions at
    ``short_side``; ``{"source" | "prepared" | "fast_decode" | "random_access": its folder}``."""
    source_folder = os.path.join(cache_dir, source.folder_name())
    sources = write_sources(source_folder, num_videos, source)
    folders = {"source": source_folder}
    for name, settings in variant_settings(short_side).items():
        folders[name] = os.path.join(source_folder, prepared_folder_name(name, settings))
        write_prepared(folders[name], sources, settings)
    return folders


def bytes_per_video_second(paths: list[str]) -> float:
    """The files' bytes (audio included) over the seconds of their video streams."""
    seconds = 0.0
    for path in paths:
        with av.open(path) as container:
            stream = container.streams.video[0]
            seconds += float(stream.duration * stream.time_base)
    return sum(os.path.getsize(path) for path in paths) / seconds


def frame_size(path: str) -> tuple[int, int]:
    """``(width, height)`` of the video's first video stream."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        return stream.width, stream.height
