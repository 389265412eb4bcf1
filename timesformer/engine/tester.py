"""The test loop (the original's ``tools/test_net.py``): every view of every test video,
combined per video, and the results file."""

import os

import torch
from fvcore.common.config import CfgNode

from timesformer.checkpoint import training_state as cu
from timesformer.checkpoint.formats import load_model_weights
from timesformer.datasets import build_loader
from timesformer.datasets.loader import loader_dataset
from timesformer.engine.console_progress import loop_bar
from timesformer.models import build_model
from timesformer.tracking import Trackers
from timesformer.utils import distributed as du
from timesformer.utils.file_io import atomic_write
from timesformer.utils.logging import get_logger, setup_run_logging
from timesformer.utils.meters import TestMeter
from timesformer.utils.precision import autocast_context
from timesformer.utils.rng import set_seed
from timesformer.visualization.tensorboard_vis import write_test_results

logger = get_logger(__name__)


def _gather(*tensors: torch.Tensor) -> list[torch.Tensor]:
    """Concatenate tensors of all processes (on the model's device: the GPU for NCCL), returned on
    the CPU."""
    return [tensor.cpu() for tensor in du.all_gather(list(tensors))]


@torch.inference_mode()
def run_test_views(loader, model, meter: TestMeter, cfg: CfgNode) -> None:
    """Feed every view through ``model`` and hand its logits to ``meter`` (which combines them per
    video as TEST.ENSEMBLE_METHOD and TEST.ENSEMBLE_SOFTMAX say)."""
    model.eval()
    device = next(model.parameters()).device
    iterations = len(loader)
    batches = loop_bar(loader, cfg, iterations, "Testing")
    logs_lines = batches is loader  # no bar: a line every LOG_PERIOD iterations
    for cur_iter, (clips, labels, item_indices, _) in enumerate(batches):
        clips = clips.to(device, non_blocking=True)
        with autocast_context(cfg):
            logits = model(clips)
        logits, labels, item_indices = _gather(
            logits.float(), labels.to(device), item_indices.to(device)
        )
        meter.update(logits, labels, item_indices)
        if logs_lines and (cur_iter + 1) % cfg.LOG_PERIOD == 0:
            logger.info("Test iteration %d/%d", cur_iter + 1, iterations)


def results_path(cfg: CfgNode) -> str:
    """The file TEST.SAVE_RESULTS_PATH names (a relative path is under OUTPUT_DIR)."""
    return os.path.join(cfg.OUTPUT_DIR, cfg.TEST.SAVE_RESULTS_PATH)


def save_results(meter: TestMeter, cfg: CfgNode, video_paths: list[str]) -> str:
    """Write per-video scores (N, K), labels (N,) and paths to TEST.SAVE_RESULTS_PATH.

    The scores are the test loop's aggregate: per video, the sum (or max) of its views' logits,
    or of their probabilities with TEST.ENSEMBLE_SOFTMAX (``ensemble_softmax`` in the file).
    With DATA.MULTI_LABEL (``multi_label`` True): the labels are multi-hot (N, K), the scores
    combine each class's sigmoid probability, and ``per_class_ap`` (K,) and ``map`` hold the
    average precisions (percent; NaN for a class without positive videos).
    """
    path = results_path(cfg)
    results = {
        "scores": meter.video_scores,
        "labels": meter.video_labels,
        "skipped": meter.skipped,
        "video_paths": list(video_paths),
        "ensemble_method": meter.ensemble_method,
        "ensemble_softmax": meter.softmax,
        "multi_label": meter.multi_label,
    }
    if meter.per_class_ap is not None:
        results["per_class_ap"] = meter.per_class_ap
        results["map"] = float(meter.per_class_ap.nanmean())
    with atomic_write(path) as stream:
        torch.save(results, stream)
    logger.info("Saved per-video scores and labels to %s", path)
    return path


def test(cfg: CfgNode) -> dict | None:
    """Test the weights chosen by TEST.CHECKPOINT_FILE_PATH (else OUTPUT_DIR's last checkpoint;
    their EMA with MODEL_EMA.ENABLE).

    Returns the ``test_final`` stats on the master process, None on the others.
    """
    setup_run_logging(cfg)
    set_seed(cfg.RNG_SEED)
    model = build_model(cfg)
    weights = cu.weights_to_test(cfg)
    load_model_weights(model, cu.read_weights_to_evaluate(weights, cfg.MODEL_EMA.ENABLE))
    logger.info("Testing weights from %s", weights)
    loader = build_loader(cfg, "test")
    dataset = loader_dataset(loader)
    logger.info(
        "Testing %d videos x %d views (%d temporal x %d spatial)",
        dataset.num_videos,
        dataset.views_per_video,
        cfg.TEST.NUM_ENSEMBLE_VIEWS,
        cfg.TEST.NUM_SPATIAL_CROPS,
    )
    meter = TestMeter(
        dataset.num_videos,
        dataset.views_per_video,
        cfg.MODEL.NUM_CLASSES,
        cfg.TEST.ENSEMBLE_METHOD,
        softmax=cfg.TEST.ENSEMBLE_SOFTMAX,
        multi_label=cfg.DATA.MULTI_LABEL,
    )
    run_test_views(loader, model, meter, cfg)
    if not du.is_master_proc():
        return None
    stats = meter.finalize(video_names=list(dataset.paths))
    trackers = Trackers.open(cfg)
    try:
        trackers.log_record(stats)
        write_test_results(
            cfg, stats, meter.video_scores, meter.video_labels, meter.per_class_ap, trackers
        )
    finally:
        trackers.close()
    if cfg.TEST.SAVE_RESULTS_PATH:
        save_results(meter, cfg, dataset.paths)
    return stats
