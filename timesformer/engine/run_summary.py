"""The end of a run on the console (and in stdout.log): the best validation epoch and its value,
the final test metrics, where the checkpoints, the log, the config, TensorBoard's events and the
test results are, and the next command to run.

It is read from the run's own json_stats (OUTPUT_DIR/stdout.log), so that it covers every epoch
of a run resumed after a preemption, and the processes that trained need not hand it anything.
"""

import os

from fvcore.common.config import CfgNode

from timesformer.checkpoint.training_state import get_checkpoint_dir, get_last_checkpoint
from timesformer.engine.tester import results_path
from timesformer.utils.logging import LOG_FILE_NAME, get_logger, read_json_stats
from timesformer.visualization.tensorboard_vis import tensorboard_log_dir, write_run_hparams

logger = get_logger(__name__)


def log_file_size(cfg: CfgNode) -> int:
    """The size of OUTPUT_DIR/stdout.log now (0 when there is none): where this run's records
    start."""
    path = os.path.join(cfg.OUTPUT_DIR, LOG_FILE_NAME)
    return os.path.getsize(path) if os.path.isfile(path) else 0


def summary_lines(cfg: CfgNode, records: list[dict], run_records: list[dict]) -> list[str]:
    """The summary of a run: ``records``, the json_stats of every epoch stdout.log holds (this
    run's and those of the runs it resumed), give the best validation epoch; ``run_records``,
    this run's, give the test."""
    top5 = cfg.MODEL.NUM_CLASSES > 5
    lines = ["Run summary:"]
    best = best_validation(records)
    if best is not None:
        lines.append(f"  best validation: {validation_metrics(best, top5)}")
    test = last_test(run_records)
    if test is not None:
        lines.append(f"  test: {test_metrics(test, top5)}")
    lines += [f"  {what}: {where}" for what, where in _places(cfg)]
    lines += [f"  next: {command}" for command in next_commands(cfg, tested=test is not None)]
    return lines


def best_validation(records: list[dict]) -> dict | None:
    """The best ``val_epoch`` record (the highest mAP, else the lowest top-1 error); None
    without one."""
    val = [record for record in records if record["split"] == "val_epoch"]
    if not val:
        return None
    if "map" in val[0]:
        return max(val, key=lambda record: record["map"])
    return min(val, key=lambda record: record["top1_err"])


def last_test(records: list[dict]) -> dict | None:
    """The last ``test_final`` record; None without one."""
    tests = [record for record in records if record["split"] == "test_final"]
    return tests[-1] if tests else None


def validation_metrics(record: dict, top5: bool = True) -> str:
    """``"top-1 88.00% (top-5 99.00%) at epoch 3/10"`` (or the mAP) of a ``val_epoch``
    record, top-5 with ``top5``."""
    if "map" in record:
        return f"mAP {record['map']:.2f}% at epoch {record['epoch']}"
    top5_part = f" (top-5 {100 - record['top5_err']:.2f}%)" if top5 else ""
    return f"top-1 {100 - record['top1_err']:.2f}%{top5_part} at epoch {record['epoch']}"


def test_metrics(record: dict, top5: bool = True) -> str:
    """``"top-1 87.50%, top-5 99.00% over 40 videos x 3 views"`` of a ``test_final`` record,
    top-5 with ``top5``."""
    if "map" in record:
        metrics = f"mAP {record['map']:.2f}%"
    else:
        metrics = f"top-1 {record['top1_acc']:.2f}%"
        metrics += f", top-5 {record['top5_acc']:.2f}%" if top5 else ""
    skipped = record.get("skipped_videos", 0)
    return f"{metrics} over {record['videos']} videos x {record['views_per_video']} views" + (
        f" ({skipped} unreadable skipped)" if skipped else ""
    )


def _places(cfg: CfgNode) -> list[tuple[str, str]]:
    places = [
        ("log", os.path.join(cfg.OUTPUT_DIR, LOG_FILE_NAME)),
        ("config", os.path.join(cfg.OUTPUT_DIR, "config.yaml")),
    ]
    if os.path.isdir(get_checkpoint_dir(cfg.OUTPUT_DIR)):
        places.append(("checkpoints", get_checkpoint_dir(cfg.OUTPUT_DIR)))
    if cfg.TENSORBOARD.ENABLE:
        places.append(("TensorBoard", tensorboard_log_dir(cfg)))
    if cfg.TEST.SAVE_RESULTS_PATH and os.path.isfile(results_path(cfg)):
        places.append(("test results", results_path(cfg)))
    return places


def next_commands(cfg: CfgNode, tested: bool) -> list[str]:
    """What to run next: the test of the last checkpoint when the run did not test, predict with
    it on a video of one's own, TensorBoard when it was written."""
    config = os.path.join(cfg.OUTPUT_DIR, "config.yaml")
    commands = []
    checkpoint = get_last_checkpoint(cfg.OUTPUT_DIR)
    if checkpoint is not None:
        if not tested:
            commands.append(
                f"timesformer test --cfg {config} TEST.CHECKPOINT_FILE_PATH {checkpoint}"
            )
        commands.append(f"timesformer predict --cfg {config} --checkpoint {checkpoint} VIDEO.mp4")
    if cfg.TENSORBOARD.ENABLE:
        commands.append(f"tensorboard --logdir {tensorboard_log_dir(cfg)}")
    return commands


def final_metrics(records: list[dict], run_records: list[dict]) -> dict[str, float]:
    """``{"hparam/best_val_top1_acc": ..., "hparam/test_top1_acc": ...}`` (or the mAPs) of
    :func:`summary_lines`'s records: the run's HParams metrics."""
    metrics = {}
    best = best_validation(records)
    if best is not None and "map" in best:
        metrics["hparam/best_val_map"] = best["map"]
    elif best is not None:
        metrics["hparam/best_val_top1_acc"] = 100 - best["top1_err"]
    test = last_test(run_records)
    for key in ("top1_acc", "top5_acc", "map"):
        if test is not None and key in test:
            metrics[f"hparam/test_{key}"] = test[key]
    return metrics


def log_run_summary(cfg: CfgNode, run_start: int) -> None:
    """Log :func:`summary_lines` of the run whose records start at byte ``run_start`` of
    stdout.log as one record (console and stdout.log), and write its hyperparameters with its
    :func:`final_metrics` to TensorBoard (TENSORBOARD.ENABLE)."""
    log = os.path.join(cfg.OUTPUT_DIR, LOG_FILE_NAME)
    records, run_records = read_json_stats(log), read_json_stats(log, run_start)
    logger.info("\n".join(summary_lines(cfg, records, run_records)))
    write_run_hparams(cfg, final_metrics(records, run_records))
