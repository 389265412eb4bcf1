"""Reading the official Something-Something v2 annotation files and frame lists."""

import json
import os

from iopath.common.file_io import g_pathmgr

from timesformer.datasets.split_file import SplitFileError

FRAME_LIST_HEADER = "original_vido_id video_id frame_id path labels"


def _load_json(path: str):
    if not g_pathmgr.exists(path):
        raise SplitFileError(f"{path}: annotation file not found")
    with g_pathmgr.open(path, "r", encoding="utf-8-sig") as stream:
        try:
            return json.load(stream)
        except json.JSONDecodeError as error:
            raise SplitFileError(f"{path}: not valid JSON: {error}") from None


def read_label_names(path: str, num_classes: int) -> dict[str, int]:
    """``something-something-v2-labels.json``: ``{"Template text": "id", ...}``
    -> {template: id}."""
    names = {}
    for template, label_text in _load_json(path).items():
        try:
            label = int(label_text)
        except (TypeError, ValueError):
            raise SplitFileError(
                f"{path}: label of {template!r} is {label_text!r}; expected an integer"
            ) from None
        if not 0 <= label < num_classes:
            raise SplitFileError(
                f"{path}: label {label} of {template!r} is out of range [0, {num_classes}) "
                "of MODEL.NUM_CLASSES"
            )
        names[template] = label
    return names


def read_video_labels(path: str, label_names: dict[str, int]) -> list[tuple[str, int]]:
    """``something-something-v2-{train,validation}.json``: [{"id", "template", ...}]
    -> [(id, label)].

    The template's brackets are removed (``Putting [something] on [something]``)
    before looking it up in ``label_names``.
    """
    videos = []
    for number, entry in enumerate(_load_json(path)):
        try:
            video_id, template = str(entry["id"]), entry["template"]
        except (TypeError, KeyError):
            raise SplitFileError(
                f"{path}: entry {number} has no 'id' and 'template': {entry!r}"
            ) from None
        plain = template.replace("[", "").replace("]", "")
        if plain not in label_names:
            raise SplitFileError(
                f"{path}: entry {number} (id {video_id}) has unknown template {template!r}"
            )
        videos.append((video_id, label_names[plain]))
    return videos


def read_frame_lists(path: str, path_prefix: str) -> dict[str, list[str]]:
    """Frame list ``train.csv`` / ``val.csv`` (header, then one space-separated
    ``original_vido_id video_id frame_id path labels`` line per frame)
    -> {original_vido_id: [``path_prefix``/path of each frame, in file order]}."""
    frames: dict[str, list[str]] = {}
    with g_pathmgr.open(path, "r", encoding="utf-8-sig") as stream:
        for line_number, line in enumerate(stream, start=1):
            fields = line.split()
            if not fields or (line_number == 1 and line.strip() == FRAME_LIST_HEADER):
                continue
            if len(fields) != 5:
                raise SplitFileError(
                    f"{path}:{line_number}: expected 5 fields '{FRAME_LIST_HEADER}': "
                    f"{line.rstrip()!r}"
                )
            frames.setdefault(fields[0], []).append(os.path.join(path_prefix, fields[3]))
    return frames
