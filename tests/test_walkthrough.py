"""docs/walkthrough.md, run: every command of the page, as written there, in a folder holding a
tiny tree of videos of three classes, a tiny stand-in for the Kinetics-400 checkpoint and a new
video. The commands get only the arguments that make their run tiny (:data:`TINY`: a small model,
small clips, the CPU), appended to those that take a config."""

import os
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest
import torch

from helpers import REPO_ROOT, json_stats, tiny_cfg
from timesformer.datasets.synthetic_video import write_video
from timesformer.models import build_model

WALKTHROUGH = os.path.join(REPO_ROOT, "docs", "walkthrough.md")
CLASSES = {"cooking": (200, 60, 40), "dancing": (40, 200, 60), "juggling": (60, 40, 200)}
VIDEOS_PER_CLASS = 8
TINY_MODEL = ["TIMESFORMER.EMBED_DIM", "32", "TIMESFORMER.DEPTH", "1", "TIMESFORMER.NUM_HEADS", "2"]
TINY = [
    *TINY_MODEL,
    *("NUM_GPUS", "0", "TRAIN.BATCH_SIZE", "4", "GLOBAL_BATCH_SIZE", "4", "TEST.BATCH_SIZE", "4"),
    *("DATA_LOADER.NUM_WORKERS", "0", "DATA.NUM_FRAMES", "2", "DATA.SAMPLING_RATE", "2"),
    *("DATA.TRAIN_CROP_SIZE", "32", "DATA.TEST_CROP_SIZE", "32", "DATA.TRAIN_JITTER_SCALES"),
    *("[32, 40]", "LOG_PERIOD", "1", "LOG_MODEL_INFO", "False"),
]
"""What makes a command of the page tiny: appended to each command that takes a config."""
CONFIG_TOOLS = ("tools/run_net.py", "tools/check_dataset.py", "tools/predict.py")


def walkthrough_commands() -> list[list[str]]:
    """The commands of the page's ``sh`` blocks, in order, as argument lists."""
    with open(WALKTHROUGH, encoding="utf-8") as stream:
        blocks = re.findall(r"```sh\n(.*?)```", stream.read(), flags=re.DOTALL)
    return [shlex.split(block.replace("\\\n", " ")) for block in blocks]


def _write_videos(folder) -> None:
    """VIDEOS_PER_CLASS flat videos per class of CLASSES (48x64, 16 frames), in class folders,
    and new_video.mp4 (juggling's color)."""
    for name, color in CLASSES.items():
        os.makedirs(folder / "my_videos" / name)
        for i in range(VIDEOS_PER_CLASS):
            frames = np.tile(np.array(color, np.uint8) - 4 * i, (16, 48, 64, 1))
            write_video(str(folder / "my_videos" / name / f"clip_{i}.mp4"), frames, fps=25)
    write_video(
        str(folder / "new_video.mp4"), np.tile(np.uint8([60, 40, 200]), (16, 48, 64, 1)), fps=25
    )


def _write_stand_in_checkpoint(path) -> None:
    """A tiny TimeSformer of 400 classes (the Kinetics-400 head), saved as the official
    checkpoints are: a dict with ``model_state``."""
    model = build_model(tiny_cfg("", "", *TINY_MODEL, "MODEL.NUM_CLASSES", "400"))
    torch.save({"model_state": model.state_dict()}, path)


def _run(command: list[str], cwd) -> subprocess.CompletedProcess:
    assert command[0] == "python" and command[1].startswith("tools/"), command
    argv = [sys.executable, *command[1:], *(TINY if command[1] in CONFIG_TOOLS else [])]
    run = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"{shlex.join(command)}\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    return run


def test_the_page_has_the_five_steps():
    tools = [command[1] for command in walkthrough_commands()]
    assert tools == [
        "tools/prepare_dataset.py",
        "tools/prepare_dataset.py",
        "tools/check_dataset.py",
        "tools/run_net.py",
        "tools/predict.py",
    ]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_every_command_of_the_walkthrough_runs(tmp_path):
    for name in ("tools", "configs"):
        os.symlink(os.path.join(REPO_ROOT, name), tmp_path / name)
    _write_videos(tmp_path)
    _write_stand_in_checkpoint(tmp_path / "TimeSformer_divST_8x32_224_K400.pyth")
    outputs = [_run(command, tmp_path) for command in walkthrough_commands()]

    resized = tmp_path / "my_videos_320" / "juggling" / "clip_0.mp4"
    with open(resized, "rb") as stream:
        assert stream.read(12)[4:8] == b"ftyp"  # an mp4 written by the resize step
    dataset = tmp_path / "my_dataset"
    for split in ("train", "val", "test"):
        lines = (dataset / f"{split}.csv").read_text().splitlines()
        assert lines and all(line.rsplit(" ", 1)[1] in "012" for line in lines)
    records = json_stats(str(tmp_path / "runs" / "my_videos"))
    assert [r["split"] for r in records].count("train_epoch") == 15
    assert records[-1]["split"] == "test_final" and records[-1]["videos"] >= 1
    prediction = outputs[-1].stdout
    assert "new_video.mp4" in prediction
    assert any(name in prediction for name in CLASSES)
