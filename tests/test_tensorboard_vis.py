"""The TensorBoard writer: the scalars and the Val/ and Test/ pictures a run writes."""

import os

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from helpers import tiny_cfg, write_color_dataset
from timesformer.engine import tester, trainer


def _event_tags(log_dir: str) -> dict[str, list[str]]:
    accumulator = EventAccumulator(log_dir, size_guidance={"images": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator.Tags()


def test_training_and_testing_write_scalars_and_pictures(tmp_path):
    data_dir = write_color_dataset(str(tmp_path / "data"), videos_per_class=2)
    cfg = tiny_cfg(
        data_dir,
        str(tmp_path / "run"),
        "SOLVER.MAX_EPOCH",
        "1",
        "TENSORBOARD.ENABLE",
        "True",
        "TENSORBOARD.CONFUSION_MATRIX.ENABLE",
        "True",
        "TENSORBOARD.HISTOGRAM.ENABLE",
        "True",
    )
    trainer.train(cfg)
    tester.test(cfg)
    log_dir = os.path.join(cfg.OUTPUT_DIR, "runs-kinetics")
    scalars = _event_tags(log_dir)["scalars"]
    for tag in ("Train/loss", "Train/lr", "Train/Top1_err", "Val/Top1_err", "Test/Top1_acc"):
        assert tag in scalars
    assert not [tag for tag in scalars if "Top5" in tag]  # 2 classes: top-5 is always 100%
    tags = _event_tags(log_dir)["images"]
    for split in ("Val", "Test"):
        assert f"{split}/Confusion Matrix" in tags
        assert f"{split}/Per-class Accuracy" in tags
        assert f"{split}/Top 10 predictions by classes/1" in tags
