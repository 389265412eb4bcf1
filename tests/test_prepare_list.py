"""tools/prepare_dataset.py list: stratified, stable splits of one's own videos, the Kinetics
split-file format and classes.json, official class orders, and one-line errors on bad input."""

import json
import os

import pytest

from helpers import PROGRAM
from timesformer.cli.prepare_dataset import main
from timesformer.datasets.split_file import read_path_label_file
from timesformer.visualization.class_names import read_class_names

SPLITS = ("train", "val", "test")


def make_videos(root, per_class: dict[str, int], first: int = 0) -> None:
    """Empty ``.mp4`` files ``root/CLASS/clip NNN.mp4`` (list reads names only)."""
    for class_name, count in per_class.items():
        folder = root / class_name
        folder.mkdir(parents=True, exist_ok=True)
        for number in range(first, first + count):
            (folder / f"clip {number:03d}.mp4").write_bytes(b"")


def read_splits(output) -> dict[str, str]:
    """path -> split of every line of output/{split}.csv."""
    splits = {}
    for split in SPLITS:
        for line in (output / f"{split}.csv").read_text().splitlines():
            splits[line.rpartition(" ")[0]] = split
    return splits


def fails(capsys, *argv: str) -> str:
    """The one error line of ``prepare_dataset.py ARGV``, which must exit with status 2."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{PROGRAM} list: error: ")
    return lines[0]


def test_every_class_gets_its_share_and_the_files_read_as_a_kinetics_split(tmp_path, capsys):
    source, output = tmp_path / "videos", tmp_path / "videos" / "lists"
    classes = {"walking": 300, "jumping jacks": 300, "sitting": 200}
    make_videos(source, classes)
    (source / "walking" / "notes.txt").write_text("not a video")
    (source / ".thumbnails").mkdir()
    assert main(["list", str(source), "--output", str(output)]) == 0

    names = read_class_names(str(output / "classes.json"))
    assert names == sorted(classes)
    out = capsys.readouterr().out
    assert f"DATA.PATH_PREFIX {source} " in out and "MODEL.NUM_CLASSES 3 " in out
    assert f"DATA.PATH_TO_DATA_DIR {output} " in out
    seen = {}
    for split in SPLITS:
        paths, labels = read_path_label_file(
            str(output / f"{split}.csv"), " ", str(source), num_classes=3
        )
        for path, label in zip(paths, labels, strict=True):
            assert os.path.isfile(path)  # spaces in names survive the format
            assert os.path.basename(os.path.dirname(path)) == names[label]
            seen[path] = split
    assert len(seen) == sum(classes.values())  # each video once; lists/ and notes.txt left out
    for class_name, count in classes.items():
        shares = [
            sum(s == split for p, s in seen.items() if f"/{class_name}/" in p) / count
            for split in SPLITS
        ]
        for share, wanted in zip(shares, (0.8, 0.1, 0.1), strict=True):
            assert abs(share - wanted) < 0.07, (class_name, shares)
    table = out.splitlines()
    assert table[0].split() == ["class", *SPLITS]
    assert table[4].split()[0] == "total" and sum(map(int, table[4].split()[1:])) == 800


def test_adding_videos_never_moves_the_listed_ones(tmp_path, capsys):
    source, output = tmp_path / "videos", tmp_path / "lists"
    make_videos(source, {"a": 20, "b": 20})
    assert main(["list", str(source), "--output", str(output), "--seed", "3"]) == 0
    before = read_splits(output)
    make_videos(source, {"a": 40, "b": 40}, first=20)
    make_videos(source, {"aa new": 10})
    assert main(["list", str(source), "--output", str(output), "--seed", "3", "--force"]) == 0
    after = read_splits(output)
    assert len(after) == 130
    assert {path: after[path] for path in before} == before  # rehashed from scratch: same splits
    assert read_class_names(str(output / "classes.json")) == ["a", "aa new", "b"]
    assert main(["list", str(source), "--output", str(output), "--seed", "4", "--force"]) == 0
    assert read_splits(output) != after  # another seed, another split


def test_update_keeps_each_listed_split_and_class_id(tmp_path, capsys):
    source, output = tmp_path / "videos", tmp_path / "lists"
    make_videos(source, {"b": 10, "c": 10})
    assert main(["list", str(source), "--output", str(output)]) == 0
    train = (output / "train.csv").read_text().splitlines()
    moved = train[0]  # moved by hand into test: --update keeps it there
    (output / "train.csv").write_text("".join(line + "\n" for line in train[1:]))
    with open(output / "test.csv", "a") as stream:
        stream.write(moved + "\n")
    os.remove(source / "c" / "clip 000.mp4")
    make_videos(source, {"a": 5, "c": 3}, first=10)
    capsys.readouterr()
    assert main(["list", str(source), "--output", str(output), "--update"]) == 0
    out = capsys.readouterr().out
    splits = read_splits(output)
    assert splits[moved.rpartition(" ")[0]] == "test"
    removed = "c/clip 000.mp4" not in splits
    assert removed and len(splits) == 10 + 9 + 5 + 3
    assert "update: 19 video(s) kept in their split, 8 added by the hash, 1 removed" in out
    assert "c/clip 000.mp4" in out
    assert read_class_names(str(output / "classes.json")) == ["b", "c", "a"]  # new class last
    assert all(line.endswith(" 2") for line in _lines_of(output, "a/"))


def _lines_of(output, prefix: str) -> list[str]:
    return [
        line
        for split in SPLITS
        for line in (output / f"{split}.csv").read_text().splitlines()
        if line.startswith(prefix)
    ]


@pytest.mark.parametrize(
    "name, text",
    [
        ("classes.txt", "zebra\napple\nmango\n"),
        ("classes.json", json.dumps({"mango": 2, "zebra": 0, "apple": 1})),
        ("classInd.txt", "1 zebra\r\n2 apple\r\n3 mango\r\n"),
    ],
)
def test_official_class_order(tmp_path, name, text):
    source, output = tmp_path / "videos", tmp_path / "lists"
    make_videos(source, {"apple": 4, "zebra": 4})  # mango has no video: still numbered
    (tmp_path / name).write_text(text)
    argv = ["list", str(source), "--output", str(output), "--classes", str(tmp_path / name)]
    assert main(argv) == 0
    assert read_class_names(str(output / "classes.json")) == ["zebra", "apple", "mango"]
    assert all(line.endswith(" 1") for line in _lines_of(output, "apple/"))
    assert all(line.endswith(" 0") for line in _lines_of(output, "zebra/"))


def test_a_class_missing_from_the_official_list_is_named(tmp_path, capsys):
    make_videos(tmp_path / "videos", {"apple": 2, "kiwi": 2})
    (tmp_path / "classes.txt").write_text("apple\nmango\n")
    argv = ["list", str(tmp_path / "videos"), "--output", str(tmp_path / "lists")]
    line = fails(capsys, *argv, "--classes", str(tmp_path / "classes.txt"))
    assert "classes.txt: class 'kiwi' of the videos is not in the official class list" in line


def test_a_table_gives_classes_and_may_give_splits(tmp_path, capsys):
    (tmp_path / "table.csv").write_text(
        'path,label,split\nclips/one.mp4,run,test\n"clips/two, three.mp4",run,\n'
        "/data/other.webm,swim,train\n\n"
    )
    output = tmp_path / "lists"
    assert main(["list", str(tmp_path / "table.csv"), "--output", str(output)]) == 0
    splits = read_splits(output)
    assert splits["clips/one.mp4"] == "test" and splits["/data/other.webm"] == "train"
    assert set(splits) == {"clips/one.mp4", "clips/two, three.mp4", "/data/other.webm"}
    assert f"DATA.PATH_PREFIX {tmp_path} " in capsys.readouterr().out
    (tmp_path / "table.json").write_text(
        json.dumps([{"path": "x.mp4", "label": "run"}, {"path": "y.mp4", "label": "swim"}])
    )
    args = ["list", str(tmp_path / "table.json"), "--output", str(output), "--force"]
    assert main(args) == 0
    assert set(read_splits(output)) == {"x.mp4", "y.mp4"}
    assert read_class_names(str(output / "classes.json")) == ["run", "swim"]


def _bad_folder(tmp_path, case: str) -> str:
    """A source of the bad-input ``case``; returns what the one error line must say."""
    source = tmp_path / "videos"
    make_videos(source, {"ok": 2})
    if case == "empty class folder":
        (source / "empty").mkdir()
        (source / "empty" / "readme.txt").write_text("")
        return "videos/empty: class folder without a video; expected video files"
    if case == "newline":
        (source / "ok" / "two\nlines.mp4").write_bytes(b"")
        return r"'ok/two\nlines.mp4' cannot be listed: its name holds a control character"
    if case == "not utf-8":
        os.close(os.open(os.fsencode(source / "ok") + b"/caf\xe9.mp4", os.O_CREAT | os.O_WRONLY))
        return r"'ok/caf\udce9.mp4' cannot be listed: its name is not valid UTF-8; rename it"
    if case == "trailing space":
        (source / "ok " / "a.mp4").parent.mkdir()
        (source / "ok " / "a.mp4").write_bytes(b"")
        return "videos/ok ': class folder name starts or ends with whitespace"
    (source / "loose.mp4").write_bytes(b"")
    return "videos/loose.mp4: a video outside the class folders; expected"


@pytest.mark.parametrize(
    "case", ["empty class folder", "newline", "not utf-8", "trailing space", "loose video"]
)
def test_a_bad_folder_is_one_line(tmp_path, capsys, case):
    expected = _bad_folder(tmp_path, case)
    line = fails(capsys, "list", str(tmp_path / "videos"), "--output", str(tmp_path / "lists"))
    assert expected in line
    assert not (tmp_path / "lists").exists()  # nothing written


@pytest.mark.parametrize(
    "text, expected",
    [
        ("path,label,split\na.mp4,x,training\n", "table.csv:2: unknown split 'training'"),
        ("path,label\na.mp4,x\nb.mp4\n", "table.csv:3: 1 field(s) where the header has 2"),
        ("path,class\na.mp4,x\n", "table.csv: columns 'path,class'; expected 'path,label'"),
        ("path,label\na.mp4,x\nb.mp4,y\n./a.mp4,y\n", "table.csv:4: video ./a.mp4 is listed"),
        ("path,label\n", "table.csv: no video listed"),
        ("path,label\n,x\n", "table.csv:2: empty path or label"),
    ],
)
def test_a_bad_table_line_is_named(tmp_path, capsys, text, expected):
    (tmp_path / "table.csv").write_text(text)
    line = fails(capsys, "list", str(tmp_path / "table.csv"), "--output", str(tmp_path / "out"))
    assert expected in line


def test_a_bad_json_entry_is_named(tmp_path, capsys):
    (tmp_path / "table.json").write_text(json.dumps([{"path": "a.mp4", "label": "x"}, ["b"]]))
    line = fails(capsys, "list", str(tmp_path / "table.json"), "--output", str(tmp_path / "out"))
    assert "table.json: entry 1: expected an object of strings" in line


@pytest.mark.parametrize(
    "fractions, expected",
    [(["0.8", "0.1", "0.2"], "they sum to 1.1"), (["0.9", "-0.1", "0.2"], "three numbers >= 0")],
)
def test_bad_fractions(tmp_path, capsys, fractions, expected):
    make_videos(tmp_path / "videos", {"a": 2})
    argv = ["list", str(tmp_path / "videos"), "--output", str(tmp_path / "out")]
    assert expected in fails(capsys, *argv, "--fractions", *fractions)


def test_existing_split_files_are_not_overwritten_unasked(tmp_path, capsys):
    make_videos(tmp_path / "videos", {"a": 3})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "val.csv").write_text("precious 0\n")
    line = fails(capsys, "list", str(tmp_path / "videos"), "--output", str(tmp_path / "out"))
    assert "out: already holds val.csv; not overwritten: pass --update" in line
    assert (tmp_path / "out" / "val.csv").read_text() == "precious 0\n"
    assert "not allowed with argument" in _usage_error(
        ["list", str(tmp_path / "videos"), "--output", "x", "--update", "--force"], capsys
    )


def _usage_error(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_small_classes_left_without_a_val_or_test_video_are_named(tmp_path, capsys):
    make_videos(tmp_path / "videos", {"rare": 2, "common": 60})
    assert main(["list", str(tmp_path / "videos"), "--output", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "note: 1 class(es) have no val video (too few videos for 0.1 of them): rare" in out
    argv = ["list", str(tmp_path / "videos"), "--output", str(tmp_path / "o2")]
    assert main([*argv, "--fractions", "1", "0", "0"]) == 0
    assert "note:" not in capsys.readouterr().out  # no val or test wanted: nothing to say


def test_unreadable_inputs_are_one_line(tmp_path, capsys):
    (tmp_path / "table.csv").write_bytes(b"path,label\ncaf\xe9.mp4,x\n")
    line = fails(capsys, "list", str(tmp_path / "table.csv"), "--output", str(tmp_path / "out"))
    assert "table.csv: not UTF-8 text" in line
    make_videos(tmp_path / "videos", {"a": 2})
    (tmp_path / "file").write_text("")
    line = fails(capsys, "list", str(tmp_path / "videos"), "--output", str(tmp_path / "file"))
    assert "file: is a file; expected a folder" in line
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "train.csv").write_text("no-label-here\n")
    argv = ["list", str(tmp_path / "videos"), "--output", str(tmp_path / "out"), "--update"]
    assert "train.csv:1: expected 'path label': 'no-label-here'" in fails(capsys, *argv)
