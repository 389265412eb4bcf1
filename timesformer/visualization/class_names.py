"""Class names from a file: a JSON dict ``{"name": id}`` (the original's format), a JSON
list of names, or a text file with one name per line (line ``i`` is class ``i``)."""

import json
import os

from timesformer.errors import TimesformerError


class ClassNamesError(TimesformerError, ValueError):
    """A class-name file that cannot be read or does not fit the model's classes."""


def read_class_names(path: str, num_classes: int | None = None) -> list[str]:
    """Names indexed by class id.

    Args:
        path: ``.json`` (dict name -> id, or list) or a text file, one name per line.
        num_classes: when given, the file must name exactly this many classes.

    Raises:
        ClassNamesError: missing file, bad JSON, ids that are not 0..K-1, or a count mismatch.
    """
    if not os.path.isfile(path):
        raise ClassNamesError(f"Class names {path}: no such file.")
    with open(path, encoding="utf-8-sig") as stream:
        text = stream.read()
    names = _parse_json(text, path) if path.endswith(".json") else _parse_lines(text)
    if num_classes is not None and len(names) != num_classes:
        raise ClassNamesError(
            f"Class names {path} has {len(names)} classes but the model has {num_classes} "
            "(MODEL.NUM_CLASSES)."
        )
    return names


def _parse_lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _parse_json(text: str, path: str) -> list[str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ClassNamesError(f"Class names {path}: not valid JSON ({err}).") from err
    if isinstance(data, list) and all(isinstance(name, str) for name in data):
        return data
    if isinstance(data, dict):
        return _names_by_id(data, path)
    raise ClassNamesError(
        f"Class names {path}: expected a JSON list of names or a dict name -> id."
    )


def _names_by_id(name_to_id: dict, path: str) -> list[str]:
    try:
        ids = {name: int(class_id) for name, class_id in name_to_id.items()}
    except (TypeError, ValueError) as err:
        raise ClassNamesError(f"Class names {path}: every id must be an integer ({err}).") from err
    if sorted(ids.values()) != list(range(len(ids))):
        raise ClassNamesError(f"Class names {path}: ids must be 0..{len(ids) - 1}, each used once.")
    names = [""] * len(ids)
    for name, class_id in ids.items():
        names[class_id] = name
    return names


def read_name_subset(path: str, class_names: list[str]) -> list[int]:
    """Class ids of the names listed in a text file (one per line), in file order.

    Raises:
        ClassNamesError: missing file or a name that is not a class.
    """
    if not os.path.isfile(path):
        raise ClassNamesError(f"Class subset {path}: no such file.")
    with open(path, encoding="utf-8-sig") as stream:
        wanted = [line.strip() for line in stream if line.strip()]
    return class_ids(wanted, class_names, path)


def class_ids(names: list[str], class_names: list[str], source: str) -> list[int]:
    """The id of each of ``names``; ClassNamesError naming ``source`` for an unknown one."""
    index = {name: class_id for class_id, name in enumerate(class_names)}
    unknown = [name for name in names if name not in index]
    if unknown:
        raise ClassNamesError(
            f"{source}: unknown class name(s): {', '.join(map(repr, unknown[:10]))}."
        )
    return [index[name] for name in names]
