"""The published UCF101 and HMDB51 split files read as they are (classes numbered from 1, CRLF,
a byte order mark, class folders, test lists without labels, HMDB51's marks and odd video
names), and their mistakes named with file, line and text."""

import os

import pytest

from timesformer.datasets.published_splits import (
    HMDB51_SPLIT_FILE,
    UCF101_CLASS_FILE,
    UCF101_TEST_LIST,
    UCF101_TRAIN_LIST,
    read_hmdb51_split,
    read_ucf101_classes,
    read_ucf101_list,
    video_path,
)
from timesformer.datasets.split_file import SplitFileError

CLASSES = ["ApplyEyeMakeup", "HandstandPushups", "YoYo"]


def write(path, text: str, bom: bool = False) -> str:
    """``text`` with Windows line endings (as the published files have them)."""
    data = text.replace("\n", "\r\n").encode("utf-8")
    path.write_bytes(b"\xef\xbb\xbf" + data if bom else data)
    return str(path)


def test_ucf101_file_names_are_the_published_ones():
    assert UCF101_CLASS_FILE == "classInd.txt"
    assert UCF101_TRAIN_LIST.format(split_number=2) == "trainlist02.txt"
    assert UCF101_TEST_LIST.format(split_number=3) == "testlist03.txt"
    assert HMDB51_SPLIT_FILE.format(class_name="brush_hair", split_number=1) == (
        "brush_hair_test_split1.txt"
    )


def test_ucf101_classes_from_1_with_bom_crlf_and_trailing_blank_lines(tmp_path):
    path = write(
        tmp_path / "classInd.txt", "1 ApplyEyeMakeup\n2 HandstandPushups \n3 YoYo\n\n\n", bom=True
    )
    assert read_ucf101_classes(path) == CLASSES


@pytest.mark.parametrize(
    "text, line, problem",
    [
        ("1 A\n3 B\n", 2, "class number 3; expected 2"),
        ("0 A\n", 1, "class number 0; expected 1"),
        ("1 A\n2 A\n", 2, "class 'A' is listed twice (line 1)"),
        ("1 A\nB\n", 2, "expected 'NUMBER CLASS_NAME'"),
        ("1 A\nx B\n", 2, "expected 'NUMBER CLASS_NAME'"),
    ],
)
def test_ucf101_bad_class_file_names_file_and_line(tmp_path, text, line, problem):
    path = write(tmp_path / "classInd.txt", text)
    with pytest.raises(SplitFileError) as error:
        read_ucf101_classes(path)
    assert str(error.value).startswith(f"{path}:{line}: {problem}: ")


def test_ucf101_missing_and_empty_files_are_named(tmp_path):
    with pytest.raises(SplitFileError, match="classInd.txt: split file not found"):
        read_ucf101_classes(str(tmp_path / "classInd.txt"))
    with pytest.raises(SplitFileError, match="no classes listed"):
        read_ucf101_classes(write(tmp_path / "classInd.txt", "\n \n"))


def test_ucf101_train_list_labels_from_1_become_labels_from_0(tmp_path):
    path = write(
        tmp_path / "trainlist01.txt",
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\n"
        "HandstandPushups/v_HandStandPushups_g08_c01.avi 2\n"
        "YoYo/v_YoYo_g25_c05.avi 3 \n\n",
        bom=True,
    )
    assert read_ucf101_list(path, CLASSES) == [
        ("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi", 0),
        ("HandstandPushups/v_HandStandPushups_g08_c01.avi", 1),
        ("YoYo/v_YoYo_g25_c05.avi", 2),
    ]


def test_ucf101_test_list_without_labels_takes_the_class_of_the_folder(tmp_path):
    path = write(
        tmp_path / "testlist01.txt",
        "YoYo/v_YoYo_g01_c01.avi\nApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\n",
    )
    assert read_ucf101_list(path, CLASSES) == [
        ("YoYo/v_YoYo_g01_c01.avi", 2),
        ("ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi", 0),
    ]


@pytest.mark.parametrize(
    "line, problem",
    [
        (
            "YoYo/v_YoYo_g08_c01.avi 1",
            "folder 'YoYo' disagrees with label 1 (class 'ApplyEyeMakeup')",
        ),
        ("Juggling/v_Juggling_g08_c01.avi", "folder 'Juggling' is no class"),
        ("YoYo/v_YoYo_g08_c01.avi 4", "label '4'; expected a class number 1..3"),
        ("YoYo/v_YoYo_g08_c01.avi 0", "label '0'; expected a class number 1..3"),
        ("YoYo/v_YoYo_g08_c01.avi three", "label 'three'; expected a class number 1..3"),
        ("v_YoYo_g08_c01.avi 3", "expected 'Class/video.avi [label]'"),
        ("YoYo/v_YoYo_g08_c01.avi 3 3", "expected 'Class/video.avi [label]'"),
        ("YoYo/v_YoYo_g01_c01.avi 3", "video listed twice (line 1)"),
    ],
)
def test_ucf101_bad_list_line_names_file_line_and_text(tmp_path, line, problem):
    path = write(tmp_path / "trainlist01.txt", f"YoYo/v_YoYo_g01_c01.avi 3\n{line}\n")
    with pytest.raises(SplitFileError) as error:
        read_ucf101_list(path, CLASSES)
    assert str(error.value) == f"{path}:2: {problem}: {line!r}"


def test_ucf101_empty_list_is_an_error(tmp_path):
    with pytest.raises(SplitFileError, match="testlist01.txt: no videos listed"):
        read_ucf101_list(write(tmp_path / "testlist01.txt", "\n"), CLASSES)


def test_a_line_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "classInd.txt"
    path.write_bytes(b"1 A\r\n2 B\xe9\r\n")
    with pytest.raises(SplitFileError, match=r"classInd.txt:2: not UTF-8 text: '2 B\\\\xe9'"):
        read_ucf101_classes(str(path))


ODD_NAMES = [
    "(Rad)Schlag_die_Bank!_cartwheel_f_cm_np1_le_med_0.avi",
    "Bodenturnen_2004_cartwheel_f_cm_np1_le_med_0.avi",
    "Return_of_the_King_Part_2_&_3_cartwheel_f_cm_np1_ri_bad_1.avi",
    "Tony's_Lawn_cartwheel_f_nm_np1_ba_med_2.avi",
    "[Haiku]_cartwheel_f_cm_np1_fr_bad_0].avi",
]


def write_hmdb51_splits(folder) -> str:
    """cartwheel (odd names, marks 1 2 0 1 2) and brush_hair (2 videos) for split 1; brush_hair
    only for split 2 (so that split 2 has another class count)."""
    folder.mkdir(exist_ok=True)
    marks = [1, 2, 0, 1, 2]
    write(
        folder / "cartwheel_test_split1.txt",
        "".join(f"{name} {mark} \n" for name, mark in zip(ODD_NAMES, marks, strict=True)),
        bom=True,
    )
    write(folder / "brush_hair_test_split1.txt", "a_brush_hair_0.avi 2 \nb_brush_hair_1.avi 1 \n\n")
    write(folder / "brush_hair_test_split2.txt", "a_brush_hair_0.avi 1\nb_brush_hair_1.avi 2\n")
    (folder / "notes.txt").write_text("not a split file\n")
    return str(folder)


def test_hmdb51_marks_choose_train_and_test_with_names_kept_verbatim(tmp_path):
    folder = write_hmdb51_splits(tmp_path / "splits")
    classes, train = read_hmdb51_split(folder, 1, "train")
    assert classes == ["brush_hair", "cartwheel"]
    assert train == [
        ("brush_hair/b_brush_hair_1.avi", 0),
        (f"cartwheel/{ODD_NAMES[0]}", 1),
        (f"cartwheel/{ODD_NAMES[3]}", 1),
    ]
    _, test = read_hmdb51_split(folder, 1, "test")
    assert test == [
        ("brush_hair/a_brush_hair_0.avi", 0),
        (f"cartwheel/{ODD_NAMES[1]}", 1),
        (f"cartwheel/{ODD_NAMES[4]}", 1),
    ]
    assert read_hmdb51_split(folder, 2, "test") == (
        ["brush_hair"],
        [("brush_hair/b_brush_hair_1.avi", 0)],
    )


@pytest.mark.parametrize(
    "line, problem",
    [
        ("c.avi 3", "mark '3'; expected 0 (unused), 1 (train) or 2 (test)"),
        ("c.avi x", "mark 'x'; expected 0 (unused), 1 (train) or 2 (test)"),
        ("c.avi", "expected 'video_name.avi MARK'"),
        ("a_brush_hair_0.avi 1", "video listed twice (line 1)"),
    ],
)
def test_hmdb51_bad_line_names_file_line_and_text(tmp_path, line, problem):
    path = write(tmp_path / "brush_hair_test_split3.txt", f"a_brush_hair_0.avi 2\n{line}\n")
    with pytest.raises(SplitFileError) as error:
        read_hmdb51_split(str(tmp_path), 3, "train")
    assert str(error.value) == f"{path}:2: {problem}: {line!r}"


def test_hmdb51_missing_split_and_no_marked_video_are_named(tmp_path):
    folder = write_hmdb51_splits(tmp_path / "splits")
    with pytest.raises(SplitFileError, match="no HMDB51 split files of split 3"):
        read_hmdb51_split(folder, 3, "train")
    with pytest.raises(SplitFileError, match="folder of the HMDB51 split files not found"):
        read_hmdb51_split(str(tmp_path / "absent"), 1, "train")
    write(tmp_path / "splits" / "brush_hair_test_split2.txt", "a.avi 0\n")
    with pytest.raises(SplitFileError, match="no video is marked 1 \\(train\\)"):
        read_hmdb51_split(folder, 2, "train")
    with pytest.raises(ValueError, match="part is 'val'"):
        read_hmdb51_split(folder, 1, "val")


def test_a_missing_avi_is_read_from_its_resized_mp4(tmp_path):
    (tmp_path / "YoYo").mkdir()
    (tmp_path / "YoYo" / "a.avi").write_bytes(b"")
    (tmp_path / "YoYo" / "b.mp4").write_bytes(b"")
    assert video_path(str(tmp_path), "YoYo/a.avi") == os.path.join(tmp_path, "YoYo/a.avi")
    assert video_path(str(tmp_path), "YoYo/b.avi") == os.path.join(tmp_path, "YoYo/b.mp4")
    assert video_path(str(tmp_path), "YoYo/c.avi") == os.path.join(tmp_path, "YoYo/c.avi")
