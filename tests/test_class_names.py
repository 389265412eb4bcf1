"""Class-name files: the three formats, and errors naming the file."""

import json

import pytest

from timesformer.visualization.class_names import ClassNamesError, read_class_names


@pytest.mark.parametrize(
    "name, text",
    [
        ("names.json", json.dumps({"b": 1, "a": 0, "c": 2})),
        ("names.json", json.dumps(["a", "b", "c"])),
        ("names.txt", "a\nb\nc\n\n"),
    ],
)
def test_class_name_formats(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    assert read_class_names(str(path), num_classes=3) == ["a", "b", "c"]


@pytest.mark.parametrize(
    "text, message",
    [
        (json.dumps({"a": 0, "b": 2}), "ids must be 0..1"),
        (json.dumps({"a": "x"}), "must be an integer"),
        ("{broken", "not valid JSON"),
        (json.dumps(["a", "b"]), "has 2 classes but the model has 3"),
    ],
)
def test_class_name_errors(tmp_path, text, message):
    path = tmp_path / "names.json"
    path.write_text(text)
    with pytest.raises(ClassNamesError, match=message):
        read_class_names(str(path), num_classes=3)
