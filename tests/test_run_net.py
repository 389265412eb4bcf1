"""tools/run_net.py: the command line and a full train + val + test cycle."""

import argparse
import os
import subprocess
import sys

import pytest
import torch

from helpers import REPO_ROOT, json_stats, run_net, tiny_args, write_color_dataset
from timesformer.checkpoint.training_state import list_checkpoints
from timesformer.datasets import build_dataset
from timesformer.engine import launch
from timesformer.models.build import build_bare_model
from timesformer.utils.parser import load_config


def test_help_lists_the_arguments():
    result = subprocess.run(
        [sys.executable, os.path.join(REPO_ROOT, "tools", "run_net.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for flag in ("--cfg", "--init_method", "--shard_id", "--num_shards", "KEY VALUE"):
        assert flag in result.stdout


def test_unknown_key_fails_before_any_work(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_net(["NUM_GPUS", "0", "OUTPUT_DIR", str(tmp_path / "out"), "SOLVER.BASE_RL", "0.1"])
    assert exit_info.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(
        "error: Unknown config key SOLVER.BASE_RL in the command line. "
        "Did you mean: SOLVER.BASE_LR?"
    )
    assert not (tmp_path / "out").exists()


def test_missing_cfg_file_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_net(["--cfg", str(tmp_path / "missing.yaml")])
    assert exit_info.value.code == 2
    assert "missing.yaml does not exist" in capsys.readouterr().err


def test_training_and_testing_share_one_launch(tmp_path, monkeypatch):
    """One launch, hence one process group and one rendezvous per machine, runs both phases,
    with a barrier between them: the nodes of a job cannot race from training into testing."""
    phases, launches = [], []
    monkeypatch.setattr(launch, "train", lambda cfg: phases.append("train"))
    monkeypatch.setattr(launch.du, "synchronize", lambda: phases.append("barrier"))
    monkeypatch.setattr(launch, "test", lambda cfg: phases.append("test"))
    launch_job = launch.launch_job
    monkeypatch.setattr(
        launch,
        "launch_job",
        lambda cfg, init_method, func, environment: (
            launches.append(init_method) or launch_job(cfg, "", func, environment)
        ),
    )
    argv = ["--init_method", "tcp://n1:29500", *tiny_args("", str(tmp_path / "out"))]
    assert run_net(argv) == 0
    assert launches == ["tcp://n1:29500"]
    assert phases == ["train", "barrier", "test"]


def test_training_without_imagenet_weights_stops_in_one_line_before_reading_data(tmp_path, capsys):
    """A shipped config trains from the original's ImageNet weights; offline, with none in
    timm's cache (conftest.py), run_net.py stops before any process starts or data is read."""
    out = tmp_path / "out"
    argv = ["--cfg", os.path.join(REPO_ROOT, "configs/Kinetics/TimeSformer_divST_8x32_224.yaml")]
    argv += ["NUM_GPUS", "0", "OUTPUT_DIR", str(out), "DATA.PATH_TO_DATA_DIR", str(tmp_path)]
    with pytest.raises(SystemExit) as exit_info:
        run_net(argv)
    assert exit_info.value.code == 1  # argparse's exit with a message, not an exception
    err = capsys.readouterr().err  # (other tests may have left log handlers on stderr)
    (line,) = [line for line in err.splitlines() if ": error: " in line]
    assert ": error: TIMESFORMER.PRETRAINED_MODEL: the original's ImageNet weights" in line
    for part in ("vit_base_patch16_224.orig_in21k_ft_in1k", "local file", "'none'"):
        assert part in line
    assert not out.exists()  # no config, log or checkpoint written; no split file read


def test_train_val_test_cycle(tmp_path):
    data = write_color_dataset(str(tmp_path / "data"))
    out = str(tmp_path / "run")
    assert (
        run_net(
            tiny_args(data, out, "SOLVER.MAX_EPOCH", "4", "TEST.SAVE_RESULTS_PATH", "results.pyth")
        )
        == 0
    )
    assert os.path.isfile(os.path.join(out, "config.yaml"))
    assert [os.path.basename(p) for p in list_checkpoints(out)] == [
        f"checkpoint_epoch_{e:05d}.pyth" for e in (1, 2, 3, 4)
    ]
    splits = [r["split"] for r in json_stats(out)]
    assert splits.count("train_epoch") == 4 and splits.count("val_epoch") == 4
    assert "train_iter" in splits and splits[-1] == "test_final"
    final = json_stats(out)[-1]
    assert final["top1_acc"] == 100.0 and final["top5_acc"] == 100.0
    assert final["videos"] == 8 and final["views_per_video"] == 2
    results = torch.load(os.path.join(out, "results.pyth"), weights_only=False)
    assert results["scores"].shape == (8, 2)
    assert results["labels"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]


def test_testing_a_checkpoint_with_a_shipped_config_saves_the_sum_of_raw_logits(
    kinetics_dir, tmp_path
):
    """run_net.py, the shipped Kinetics config (1 clip x 3 crops), a checkpoint: the results
    file holds, per video, the sum of its views' logits, as the original's test loop."""
    tiny = ["NUM_GPUS", "0", "TEST.BATCH_SIZE", "2", "DATA_LOADER.NUM_WORKERS", "0"]
    tiny += ["TIMESFORMER.EMBED_DIM", "32", "TIMESFORMER.DEPTH", "1", "TIMESFORMER.NUM_HEADS", "2"]
    tiny += ["DATA.NUM_FRAMES", "4", "DATA.SAMPLING_RATE", "2", "MODEL.NUM_CLASSES", "5"]
    tiny += ["DATA.TRAIN_CROP_SIZE", "32", "DATA.TEST_CROP_SIZE", "32"]
    tiny += ["DATA.TRAIN_JITTER_SCALES", "[32, 40]"]
    tiny += ["DATA.PATH_TO_DATA_DIR", kinetics_dir, "DATA.PATH_PREFIX", kinetics_dir]
    config = os.path.join(REPO_ROOT, "configs/Kinetics/TimeSformer_divST_8x32_224.yaml")
    cfg = load_config(argparse.Namespace(cfg_file=config, opts=tiny))
    torch.manual_seed(0)
    model = build_bare_model(cfg).eval()
    for param in model.parameters():  # no zero-initialized parameter: every view counts
        torch.nn.init.normal_(param, std=0.2)
    checkpoint = str(tmp_path / "model.pyth")
    torch.save({"model_state": model.state_dict()}, checkpoint)
    out = str(tmp_path / "out")
    test = ["TRAIN.ENABLE", "False", "TEST.CHECKPOINT_FILE_PATH", checkpoint, "OUTPUT_DIR", out]
    assert run_net(["--cfg", config, *tiny, *test, "TEST.SAVE_RESULTS_PATH", "results.pyth"]) == 0

    results = torch.load(os.path.join(out, "results.pyth"), weights_only=False)
    dataset = build_dataset("kinetics", cfg, "test")
    assert dataset.views_per_video == 3  # the config's 1 x 3 views
    with torch.no_grad():
        logits = model(torch.stack([dataset[i][0] for i in range(len(dataset))]))
    expected = logits.view(dataset.num_videos, 3, 5).sum(dim=1)
    torch.testing.assert_close(results["scores"], expected, atol=1e-5, rtol=1e-5)
    assert results["ensemble_method"] == "sum" and results["ensemble_softmax"] is False
    assert results["labels"].tolist() == [0, 1, 2]
