"""timesformer.engine.tester: multi-view testing across processes, and choosing the weights."""

import socket

import pytest

from helpers import json_stats, tiny_cfg, write_color_dataset
from timesformer.config import ConfigError
from timesformer.engine import tester
from timesformer.engine.launch import launch_job
from timesformer.engine.trainer import train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    data = write_color_dataset(str(tmp_path_factory.mktemp("data")))
    out = str(tmp_path_factory.mktemp("run"))
    train(tiny_cfg(data, out, "SOLVER.MAX_EPOCH", "3"))
    return data, out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_processes_gather_every_view_of_every_video(trained):
    data, out = trained
    cfg = tiny_cfg(
        data, out, "NUM_PROCS", "2", "TEST.BATCH_SIZE", "6", "TEST.NUM_ENSEMBLE_VIEWS", "3"
    )
    launch_job(cfg, f"tcp://127.0.0.1:{_free_port()}", tester.test)
    final = json_stats(out)[-1]
    # 8 videos x 3 views over 2 processes of 3 views per batch: each process sees half.
    assert final["split"] == "test_final"
    assert final["videos"] == 8 and final["views_per_video"] == 3
    assert final["top1_acc"] == 100.0


def test_explicit_weights_are_tested_and_missing_ones_are_named(trained, tmp_path):
    data, out = trained
    with pytest.raises(ConfigError, match="No weights to test"):
        tester.test(tiny_cfg(data, str(tmp_path / "empty")))
    missing = str(tmp_path / "nope.pyth")
    with pytest.raises(Exception, match="nope.pyth"):
        tester.test(tiny_cfg(data, str(tmp_path / "other"), "TEST.CHECKPOINT_FILE_PATH", missing))
