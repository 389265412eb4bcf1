"""How complete a tree of videos is against an official list: which listed videos it holds, which
are missing, which cannot be read (decoded to their end, in parallel), and which of its videos
the list does not know (extra).

A listed video is looked up by its stem (file name without extension) anywhere under the tree,
so a class folder or a flat folder, the official extension or a re-encoded one (``.mp4``), all
count. When several files have the stem, the one at the official place is taken (else the first
by path); the others are extra.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial

from tqdm import tqdm

from timesformer.datasets.decoder import decode_to_end
from timesformer.datasets.preparation.official_lists import OfficialList, OfficialVideo
from timesformer.datasets.preparation.parallel_jobs import worker_pool
from timesformer.datasets.preparation.video_names import is_video
from timesformer.datasets.video_container import VideoReadError, open_video

NO_LABEL = "(no label)"
"""The class counted for listed videos without a label (Kinetics' test list)."""


def index_tree(tree: str) -> dict[str, list[str]]:
    """stem -> paths (relative to ``tree``, ``/``-separated, sorted) of every video file under
    ``tree`` (hidden files and folders left out; symlinked folders below ``tree`` are not
    followed, so that a link loop cannot trap the walk)."""
    index: dict[str, list[str]] = {}
    for folder, folders, names in os.walk(tree):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        relative = os.path.relpath(folder, tree)
        for name in sorted(names):
            if is_video(name):
                path = name if relative == "." else f"{relative.replace(os.sep, '/')}/{name}"
                index.setdefault(os.path.splitext(name)[0], []).append(path)
    return {stem: sorted(paths) for stem, paths in index.items()}


@dataclass
class Located:
    """Where the listed videos are in a tree.

    Attributes:
        found: (listed video, its path relative to the tree) of each one present.
        missing: the listed videos the tree lacks.
        extra: paths of the tree's videos that no list names (nor ``known_stems``), sorted.
    """

    found: list[tuple[OfficialVideo, str]] = field(default_factory=list)
    missing: list[OfficialVideo] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)


def locate(official: OfficialList, index: dict[str, list[str]], split: str | None) -> Located:
    """Look up the listed videos (of ``split`` only, when given) in ``index``
    (:func:`index_tree`); extra are judged against every listed video, whatever its split."""
    located = Located()
    taken: set[str] = set()
    for video in official.videos:
        candidates = index.get(video.stem, [])
        if not candidates:
            if split in (None, video.split):
                located.missing.append(video)
            continue
        official_place = os.path.splitext(video.name)[0]
        path = min(candidates, key=lambda path: (os.path.splitext(path)[0] != official_place, path))
        taken.add(path)
        if split in (None, video.split):
            located.found.append((video, path))
    located.extra = sorted(
        path
        for stem, paths in index.items()
        for path in paths
        if path not in taken and stem not in official.known_stems
    )
    return located


def unreadable_reason(path: str, multi_thread_decode: bool = False) -> str:
    """Why the video ``path`` cannot be read to its end (``""`` when it can): opened with
    :func:`~timesformer.datasets.video_container.open_video`, every frame decoded with
    :func:`~timesformer.datasets.decoder.decode_to_end`."""
    try:
        with open_video(path, multi_thread_decode) as container:
            decode_to_end(container)
    except VideoReadError as error:
        return error.reason
    except Exception as error:  # the check's job is to report every failure, whatever its kind
        return f"{type(error).__name__}: {error}"
    return ""


def _reasons(paths: list[str], jobs: int) -> Iterator[str]:
    """:func:`unreadable_reason` of each of ``paths``, in order: in this process for
        ``jobs`` 1 (the codec's threads at work), else in ``jobs`` processes of one thread each
    (all stopped on Ctrl-C or an error)."""
    if jobs <= 1:
        yield from (unreadable_reason(path, multi_thread_decode=True) for path in paths)
        return
    with worker_pool(jobs) as pool:
        yield from pool.imap(partial(unreadable_reason, multi_thread_decode=False), paths, 4)


def find_unreadable(tree: str, paths: list[str], jobs: int) -> dict[str, str]:
    """path -> reason of each of ``paths`` (relative to ``tree``) that does not decode to its
    end, checked in ``jobs`` processes with a progress bar on stderr."""
    files = [os.path.join(tree, path) for path in paths]
    reasons = tqdm(_reasons(files, jobs), total=len(paths), desc="decoding", unit="video")
    return {path: reason for path, reason in zip(paths, reasons, strict=True) if reason}
