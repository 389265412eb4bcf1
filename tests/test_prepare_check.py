"""tools/prepare_dataset.py check: a tree against its official list (Kinetics CSVs, SSv2 JSON,
UCF101 and HMDB51 split files): present, missing, unreadable and extra videos reported exactly,
in the table and the JSON report; exit statuses; split files of the readable videos."""

import json
import os
import shutil

import numpy as np
import pytest

from helpers import PROGRAM
from timesformer.cli.prepare_dataset import main
from timesformer.datasets.split_file import read_path_label_file
from timesformer.datasets.synthetic_video import write_video
from timesformer.visualization.class_names import read_class_names

KINETICS_LISTS = {
    "train.csv": "label,youtube_id,time_start,time_end,split,is_cc\n"
    "abseiling,aaa,0,10,train,0\n"
    "abseiling,bbb,5,15,train,0\n"
    "abseiling,eee,3,13,train,0\n"
    "air drumming,ccc,1,11,train,0\n",
    "validate.csv": "label,youtube_id,time_start,time_end,split\nair drumming,ddd,2,12,val\n",
    "test.csv": "youtube_id,time_start,time_end,split\nfff,0,10,test\n",
}
"""Kinetics-style lists: 4 train videos (eee missing, bbb broken), 1 val, 1 test without label."""


@pytest.fixture(scope="module")
def kinetics(tmp_path_factory):
    """(tree, folder of the lists): the tree holds the listed videos but eee, bbb as random
    bytes, ddd flat as .mkv, and two extra files (a second copy of aaa, an unlisted video)."""
    root = tmp_path_factory.mktemp("kinetics")
    lists = root / "lists"
    lists.mkdir()
    for name, text in KINETICS_LISTS.items():
        (lists / name).write_text(text)
    tree = root / "tree"
    for folder in ("abseiling", "air drumming", "extra"):
        (tree / folder).mkdir(parents=True)
    video = write_video(str(root / "tiny.mp4"), np.full((8, 32, 32, 3), 90, np.uint8), fps=8)
    for path in ("abseiling/aaa_000000_000010.mp4", "air drumming/ccc_000001_000011.mp4"):
        shutil.copy(video, tree / path)
    shutil.copy(video, tree / "fff_000000_000010.mp4")
    write_video(str(tree / "ddd_000002_000012.mkv"), np.zeros((8, 32, 32, 3), np.uint8), fps=8)
    (tree / "abseiling" / "bbb_000005_000015.mp4").write_bytes(os.urandom(3000))
    (tree / "abseiling" / "aaa_000000_000010.webm").write_bytes(b"")
    (tree / "extra" / "zzz.mp4").write_bytes(b"")
    (tree / "notes.txt").write_text("not a video")
    return tree, lists


def check(tree, official, *extra: str, fmt: str = "kinetics") -> int:
    return main(["check", str(tree), "--official", str(official), "--format", fmt, *extra])


def fails(capsys, tree, official, *extra: str, fmt: str = "kinetics") -> str:
    """The one error line of a check that cannot run (exit status 2)."""
    with pytest.raises(SystemExit) as exit_info:
        check(tree, official, *extra, fmt=fmt)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{PROGRAM} check: error: "), lines
    return lines[0]


def test_kinetics_tree_reported_exactly(kinetics, tmp_path, capsys):
    tree, lists = kinetics
    report = tmp_path / "report.json"
    assert check(tree, lists, "--jobs", "1", "--report", str(report)) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["class", "listed", "present", "missing", "unreadable"]
    assert out[1].split() == ["abseiling", "3", "2", "1", "1"]  # only the incomplete class
    assert out[2].split() == ["overall", "6", "5", "1", "1"]
    assert "MISSING eee_000003_000013.mp4" in out
    assert any(line.startswith("UNREADABLE abseiling/bbb_000005_000015.mp4: ") for line in out)
    assert "EXTRA abseiling/aaa_000000_000010.webm" in out and "EXTRA extra/zzz.mp4" in out
    assert any("INCOMPLETE: 5 of 6 listed videos present" in line for line in out)

    data = json.loads(report.read_text())
    assert data["complete"] is False and data["decoded"] is True
    assert data["format"] == "kinetics" and data["tree"] == str(tree)
    assert data["overall"] == {
        "listed": 6,
        "present": 5,
        "missing": 1,
        "unreadable": 1,
        "extra": 2,
    }
    assert data["classes"] == {
        "(no label)": {"listed": 1, "present": 1, "missing": 0, "unreadable": 0},
        "abseiling": {"listed": 3, "present": 2, "missing": 1, "unreadable": 1},
        "air drumming": {"listed": 2, "present": 2, "missing": 0, "unreadable": 0},
    }
    assert data["missing"] == [
        {"name": "eee_000003_000013.mp4", "class": "abseiling", "split": "train"}
    ]
    [unreadable] = data["unreadable"]
    assert unreadable["path"] == "abseiling/bbb_000005_000015.mp4"
    assert unreadable["reason"].startswith("cannot open")
    assert data["extra"] == ["abseiling/aaa_000000_000010.webm", "extra/zzz.mp4"]


def test_parallel_jobs_report_the_same(kinetics, tmp_path, capsys):
    tree, lists = kinetics
    reports = []
    for jobs in ("1", "2"):
        path = tmp_path / f"report{jobs}.json"
        assert check(tree, lists, "--jobs", jobs, "--report", str(path)) == 1
        reports.append(json.loads(path.read_text()))
    assert reports[0] == reports[1]


def test_a_complete_split_exits_0_and_extras_do_not_count(kinetics, capsys):
    tree, lists = kinetics
    assert check(tree, lists, "--split", "val", "--all-classes", "--jobs", "1") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == ["air", "drumming", "1", "1", "0", "0"]
    assert out[2].split() == ["overall", "1", "1", "0", "0"]
    assert any("complete: 1 of 1 listed videos present" in line for line in out)
    assert any("2 extra video file(s)" in line for line in out)


def test_no_decode_only_looks_for_the_files(kinetics, tmp_path, capsys):
    tree, lists = kinetics
    report = tmp_path / "report.json"
    assert check(tree, lists, "--no-decode", "--report", str(report)) == 1  # eee is missing
    data = json.loads(report.read_text())
    assert data["decoded"] is False and data["unreadable"] == []
    assert data["overall"]["present"] == 5 and data["overall"]["missing"] == 1
    assert check(tree, lists / "test.csv", "--no-decode") == 0


def test_write_splits_of_the_readable_labelled_videos(kinetics, tmp_path, capsys):
    tree, lists = kinetics
    out = tmp_path / "splits"
    assert check(tree, lists, "--jobs", "1", "--write-splits", str(out)) == 1
    assert (out / "train.csv").read_text() == (
        "abseiling/aaa_000000_000010.mp4 0\nair drumming/ccc_000001_000011.mp4 1\n"
    )
    assert (out / "val.csv").read_text() == "ddd_000002_000012.mkv 1\n"
    assert not (out / "test.csv").exists()  # its one video has no label
    assert read_class_names(str(out / "classes.json")) == ["abseiling", "air drumming"]
    printed = capsys.readouterr().out
    assert "left out 1 video(s) the list gives no label" in printed
    assert f"DATA.PATH_PREFIX {tree} MODEL.NUM_CLASSES 2" in printed
    paths, labels = read_path_label_file(str(out / "train.csv"), " ", str(tree), 2)
    assert all(os.path.isfile(path) for path in paths) and labels == [0, 1]

    line = fails(capsys, tree, lists, "--write-splits", str(out))
    assert "splits: already holds train.csv, val.csv, classes.json; not overwritten" in line
    assert check(tree, lists, "--no-decode", "--write-splits", str(out), "--force") == 1


@pytest.mark.parametrize(
    "text, expected",
    [
        ("label,id,time_start,time_end\n", "lists.csv:1: header 'label,id,time_start,time_end'"),
        (
            "youtube_id,time_start,time_end,split\nx,1.5,3,val\n",
            "lists.csv:2: time_start '1.5'; expected",
        ),
        ("youtube_id,time_start,time_end,split\nx,1,3,dev\n", "lists.csv:2: unknown split"),
        (
            "youtube_id,time_start,time_end,split\nx,1,3,test\ny,0,2,test\nx,1,3,train\n",
            "lists.csv:4: video 'x_000001_000003' is listed twice (first at ",
        ),
        ("youtube_id,time_start,time_end\nx,1,3\n", "(no split column, so its name gives"),
    ],
)
def test_a_malformed_kinetics_list_is_named(kinetics, tmp_path, capsys, text, expected):
    (tmp_path / "lists.csv").write_text(text)
    assert expected in fails(capsys, kinetics[0], tmp_path / "lists.csv")


def test_a_missing_tree_or_list_cannot_be_checked(kinetics, tmp_path, capsys):
    tree, lists = kinetics
    assert "nowhere: no such folder (TREE)" in fails(capsys, tmp_path / "nowhere", lists)
    assert "no such file or folder (--official)" in fails(capsys, tree, tmp_path / "none.csv")
    assert "lists no video of split val" in fails(
        capsys, tree, lists / "test.csv", "--split", "val"
    )


def test_ssv2_json_lists(tmp_path, capsys):
    official = tmp_path / "labels"
    official.mkdir()
    labels = {"Putting something on something": "0", "Pushing something": "1"}
    files = {
        "labels": labels,
        "train": [
            {"id": "10", "template": "Putting [something] on [something]"},
            {"id": "11", "template": "Pushing [something]"},
        ],
        "validation": [{"id": "20", "template": "Pushing [something]"}],
        "test": [{"id": "30"}],
    }
    for part, data in files.items():
        (official / f"something-something-v2-{part}.json").write_text(json.dumps(data))
    tree = tmp_path / "videos"
    tree.mkdir()
    for name in ("10.webm", "20.webm", "30.webm", "99.webm"):
        (tree / name).write_bytes(b"")
    report, out = tmp_path / "report.json", tmp_path / "splits"
    argv = ["--jobs", "1", "--report", str(report), "--write-splits", str(out)]
    assert check(tree, official, *argv, fmt="ssv2") == 1
    data = json.loads(report.read_text())
    assert data["missing"] == [{"name": "11.webm", "class": "Pushing something", "split": "train"}]
    reasons = {entry["path"]: entry["reason"] for entry in data["unreadable"]}
    assert reasons == dict.fromkeys(("10.webm", "20.webm", "30.webm"), "empty file (0 bytes)")
    assert data["extra"] == ["99.webm"]
    assert read_class_names(str(out / "classes.json")) == list(labels)
    capsys.readouterr()

    files["validation"].append({"id": "10", "template": "Pushing [something]"})
    (official / "something-something-v2-validation.json").write_text(
        json.dumps(files["validation"])
    )
    line = fails(capsys, tree, official, fmt="ssv2")
    assert "validation.json: entry 1: video '10' is listed twice (first at " in line


def test_ucf101_split_files(tmp_path, capsys):
    official = tmp_path / "ucfTrainTestlist"
    official.mkdir()
    (official / "classInd.txt").write_text("1 ApplyEyeMakeup\r\n2 YoYo\r\n")
    (official / "trainlist01.txt").write_text(
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\r\nYoYo/v_YoYo_g08_c01.avi 2\r\n"
    )
    (official / "testlist01.txt").write_text("YoYo/v_YoYo_g01_c01.avi\r\n")
    tree = tmp_path / "UCF-101-resized"
    (tree / "YoYo").mkdir(parents=True)
    (tree / "YoYo" / "v_YoYo_g08_c01.mp4").write_bytes(b"")  # re-encoded: another extension
    (tree / "YoYo" / "v_YoYo_g01_c01.avi").write_bytes(b"")
    out = tmp_path / "splits"
    assert check(tree, official, "--no-decode", "--write-splits", str(out), fmt="ucf101") == 1
    printed = capsys.readouterr().out
    assert "MISSING ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi" in printed
    assert (out / "train.csv").read_text() == "YoYo/v_YoYo_g08_c01.mp4 1\n"
    assert (out / "test.csv").read_text() == "YoYo/v_YoYo_g01_c01.avi 1\n"
    assert check(tree, official, "--no-decode", "--split", "test", fmt="ucf101") == 0
    line = fails(capsys, tree, official, "--split-number", "2", fmt="ucf101")
    assert "trainlist02.txt: split file not found" in line


def test_hmdb51_split_files(tmp_path, capsys):
    official = tmp_path / "testTrainMulti_7030_splits"
    official.mkdir()
    (official / "brush_hair_test_split1.txt").write_text("a.avi 1 \nb.avi 2 \nc.avi 0 \n")
    (official / "brush_hair_test_split2.txt").write_text("a.avi 2 \nb.avi 0 \nc.avi 1 \n")
    (official / "cartwheel_test_split1.txt").write_text("d.avi 1 \n")
    tree = tmp_path / "hmdb51"
    for path in ("brush_hair/a.avi", "brush_hair/b.avi", "brush_hair/c.avi", "cartwheel/x.avi"):
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_bytes(b"")
    report = tmp_path / "report.json"
    assert check(tree, official, "--no-decode", "--report", str(report), fmt="hmdb51") == 1
    data = json.loads(report.read_text())
    assert data["missing"] == [{"name": "cartwheel/d.avi", "class": "cartwheel", "split": "train"}]
    assert data["extra"] == ["cartwheel/x.avi"]  # c.avi, unused in split 1, is split 2's
    assert data["split_number"] == 1
    assert data["classes"]["brush_hair"] == {
        "listed": 2,
        "present": 2,
        "missing": 0,
        "unreadable": 0,
    }
    assert "--split-number 4: expected 1, 2 or 3" in fails(
        capsys, tree, official, "--split-number", "4", fmt="hmdb51"
    )


def test_unwritable_outputs_are_refused_before_decoding(kinetics, tmp_path, capsys):
    tree, lists = kinetics
    (tmp_path / "file").write_text("")
    line = fails(capsys, tree, lists, "--report", str(tmp_path / "file" / "report.json"))
    assert "--report: " in line and "file is a file, not a folder" in line
    line = fails(capsys, tree, lists, "--write-splits", str(tmp_path / "file"))
    assert "--write-splits: " in line and "is a file, not a folder" in line
    assert "is a folder; expected a file name" in fails(
        capsys, tree, lists, "--report", str(tmp_path)
    )
