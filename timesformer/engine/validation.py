"""Validation during training: one view per video, top-k errors (or, with DATA.MULTI_LABEL, the
mean average precision), their TensorBoard scalars and figures."""

import torch
from fvcore.common.config import CfgNode

from timesformer.utils import distributed as du
from timesformer.utils.meters import ValMeter
from timesformer.utils.multi_label_val_meter import MultiLabelValMeter
from timesformer.utils.precision import autocast_context
from timesformer.visualization.eval_figures import PredictionCollector


def build_val_meter(cfg: CfgNode) -> ValMeter | MultiLabelValMeter:
    """The meter of validation: top-k errors, or mAP with DATA.MULTI_LABEL."""
    return MultiLabelValMeter(cfg) if cfg.DATA.MULTI_LABEL else ValMeter(cfg)


@torch.inference_mode()
def eval_epoch(
    loader, model, meter: ValMeter | MultiLabelValMeter, epoch: int, cfg: CfgNode, writer=None
) -> dict:
    """Validate on one view per video; return the epoch stats (``val_epoch``)."""
    model.eval()
    meter.reset()
    device = next(model.parameters()).device
    predictions = PredictionCollector(cfg)
    for clips, labels, _, meta in loader:
        clips = clips.to(device, non_blocking=True)
        labels = labels.to(device, non_blocking=True)
        meter.decode_failures += int(meta["num_decode_failures"].sum())
        with autocast_context(cfg):
            scores = model(clips)
        meter.add_batch(scores.float(), labels)
        predictions.add(scores, labels)
    meter.decode_failures = int(du.sum_over_processes(meter.decode_failures)[0])
    stats = meter.log_epoch(epoch)
    if isinstance(meter, MultiLabelValMeter):
        _write_multi_label(writer, meter, stats, epoch)
        return stats
    all_predictions = predictions.gather()
    if writer is not None:
        scalars = {"Val/Top1_err": stats["top1_err"]}
        if writer.top5:
            scalars["Val/Top5_err"] = stats["top5_err"]
        writer.add_scalars(scalars, epoch)
        if all_predictions is not None:
            writer.plot_eval(*all_predictions, global_step=epoch, split="Val")
    return stats


def _write_multi_label(writer, meter: MultiLabelValMeter, stats: dict, epoch: int) -> None:
    """Val/mAP and the Val/Per-class AP figure of the epoch (the master process's writer)."""
    if writer is None or meter.per_class_ap is None:
        return
    writer.add_scalars({"Val/mAP": stats["map"]}, epoch)
    writer.plot_average_precisions(meter.per_class_ap, global_step=epoch, split="Val")
