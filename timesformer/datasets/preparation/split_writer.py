"""Split files (``path label`` lines, the Kinetics dataset's format) and the class-names file
(``classes.json``, a JSON dict name -> id: what TENSORBOARD.CLASS_NAMES_PATH and predict read):
written atomically, never over existing files unasked, and read back to update them."""

import json
import os
from collections.abc import Iterable

from timesformer.datasets.preparation.errors import PreparationError, reading
from timesformer.datasets.preparation.listing import SPLITS
from timesformer.utils.file_io import atomic_write

CLASSES_FILE = "classes.json"
"""The class-names file written beside the split files."""

SEPARATOR = " "
"""Between a split file line's path and label (DATA.PATH_LABEL_SEPARATOR's default)."""


def split_file(folder: str, split: str) -> str:
    """The split file of ``split`` in ``folder``: ``folder/{split}.csv``."""
    return os.path.join(folder, f"{split}.csv")


def check_output_folder(folder: str, overwrite: bool, advice: str) -> None:
    """Raise PreparationError when ``folder`` is a file, or (unless ``overwrite``) already holds
    split files or :data:`CLASSES_FILE`, naming them; ``advice`` says how to go on (the flags
    that allow it)."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise PreparationError(f"{folder}: is a file; expected a folder for the split files")
    names = [f"{split}.csv" for split in SPLITS] + [CLASSES_FILE]
    present = [name for name in names if os.path.exists(os.path.join(folder, name))]
    if present and not overwrite:
        raise PreparationError(
            f"{folder}: already holds {', '.join(present)}; not overwritten: {advice}"
        )


def class_order(
    found: Iterable[str],
    official: list[str] | None = None,
    previous: list[str] | None = None,
    official_source: str = "",
) -> list[str]:
    """Class names in id order, for the classes ``found`` among the videos.

    Args:
        found: the class names of the videos.
        official: an official class list (``--classes``): its order, which must hold every
            class found.
        previous: the class order of an earlier listing (``--update``): kept as it is, the new
            classes after it, sorted by name; so no video's label changes.
        official_source: the file ``official`` comes from, for messages.

    Returns:
        ``official``; else ``previous`` and the new classes; else the classes found, sorted.

    Raises:
        PreparationError: a class found but not in ``official``, or a name listed twice there.
    """
    found = set(found)
    if official is not None:
        repeated = sorted({name for name in official if official.count(name) > 1})
        unknown = sorted(found - set(official))
        if repeated:
            raise PreparationError(f"{official_source}: class {repeated[0]!r} is listed twice")
        if unknown:
            raise PreparationError(
                f"{official_source}: class {unknown[0]!r} of the videos is not in the official "
                f"class list ({len(unknown)} such class(es): {', '.join(map(repr, unknown[:5]))})"
            )
        return list(official)
    kept = list(previous or [])
    return kept + sorted(found - set(kept))


def write_split_files(
    folder: str, lines_per_split: dict[str, list[tuple[str, int]]], class_names: list[str]
) -> None:
    """Write ``folder/{split}.csv`` (``path label`` lines, sorted by path) for each split of
    ``lines_per_split`` and ``folder/classes.json``, each atomically (UTF-8)."""
    for split, lines in lines_per_split.items():
        text = "".join(f"{path}{SEPARATOR}{label}\n" for path, label in sorted(lines))
        _write_text(split_file(folder, split), text)
    names = {name: class_id for class_id, name in enumerate(class_names)}
    _write_text(
        os.path.join(folder, CLASSES_FILE), json.dumps(names, indent=2, ensure_ascii=False) + "\n"
    )


def _write_text(path: str, text: str) -> None:
    with atomic_write(path, binary=False) as stream:
        stream.write(text)


def read_existing_splits(folder: str) -> dict[str, str]:
    """path -> split of every line of the split files already in ``folder`` (those missing
    count as empty): the text before each line's last :data:`SEPARATOR`.

    Raises:
        PreparationError: a line without a separator, or a path in two lines (file:line).
    """
    splits: dict[str, str] = {}
    where: dict[str, str] = {}
    for split in SPLITS:
        path = split_file(folder, split)
        if not os.path.isfile(path):
            continue
        with reading(path), open(path, encoding="utf-8-sig") as stream:
            for number, line in enumerate(stream, start=1):
                text = line.strip()
                if not text:
                    continue
                video, found, _ = text.rpartition(SEPARATOR)
                if not found or not video.strip():
                    raise PreparationError(f"{path}:{number}: expected 'path label': {text!r}")
                video = video.strip()
                if video in splits:
                    raise PreparationError(
                        f"{path}:{number}: video {video!r} is listed twice (first at "
                        f"{where[video]}); fix the split files, or rewrite them with --force"
                    )
                splits[video], where[video] = split, f"{path}:{number}"
    return splits
