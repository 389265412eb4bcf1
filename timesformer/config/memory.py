"""Refusing, before any work, a run whose model or one batch clearly cannot fit in memory.

A config such as ``DATA.NUM_FRAMES 100000`` or ``TIMESFORMER.DEPTH 100000`` would otherwise
build a model for minutes, or decode for minutes, before running out of memory. From the config
alone this module computes a floor of what a run must hold at once, each part a count that the
run cannot go below whatever its options (mixed precision, activation checkpointing, the
attention backend), and compares it with the memory of the device the run uses:

- the model: its parameters in float32, and for training their gradients too (and their EMA
  with MODEL_EMA.ENABLE);
- one training batch: the input clips in float32, and each block's input tokens (the least that
  activation checkpointing keeps for the backward pass), 2 bytes each with mixed precision;
- one test batch: the input clips, and one block's tokens.

Tokens of a clip: ``NUM_FRAMES x (crop / PATCH_SIZE)^2 + 1`` (the class token), of
``EMBED_DIM`` values each. The real need is several times these floors; a run refused here
could not have started.
"""

import os
from collections.abc import Callable

from fvcore.common.config import CfgNode

from timesformer.config.batch import process_batch_size

FLOAT_BYTES = 4
HALF_BYTES = 2
_block_matrices: Callable[[str], int] | None = None
"""TIMESFORMER.ATTENTION_TYPE -> the D x D weight matrices of its block besides the MLP (qkv: 3
and proj: 1 of each attention, ...), as :func:`register_block_matrices` was given it."""


def register_block_matrices(block_matrices: Callable[[str], int]) -> None:
    """Count the weight matrices of a block as ``block_matrices(TIMESFORMER.ATTENTION_TYPE)``,
    from then on: the attention types' registry (:mod:`timesformer.models.attention_types`)
    gives it; config, the bottom layer, imports none."""
    global _block_matrices
    _block_matrices = block_matrices


MemoryPart = tuple[int, str, str]
"""(bytes, what it is, the config keys and values that make it)."""


def parameter_count(cfg: CfgNode) -> int:
    """Parameters of the configured TimeSformer (weights and biases of its linear layers, the
    patch projection and the embeddings; norms left out), at DATA.TRAIN_CROP_SIZE."""
    tf, data = cfg.TIMESFORMER, cfg.DATA
    width, hidden = tf.EMBED_DIM, int(tf.EMBED_DIM * tf.MLP_RATIO)
    if _block_matrices is None:
        raise RuntimeError("No attention type is registered: import timesformer.models first.")
    matrices = _block_matrices(tf.ATTENTION_TYPE)
    block = matrices * width * (width + 1) + 2 * width * hidden + hidden + width
    patches = (data.TRAIN_CROP_SIZE // tf.PATCH_SIZE) ** 2
    embeddings = (3 * tf.PATCH_SIZE**2 + 1 + patches + 1 + data.NUM_FRAMES) * width
    head = (width + 1) * cfg.MODEL.NUM_CLASSES
    return tf.DEPTH * block + embeddings + head


def _clip_tokens(cfg: CfgNode, crop: int) -> int:
    return cfg.DATA.NUM_FRAMES * (crop // cfg.TIMESFORMER.PATCH_SIZE) ** 2 + 1


def memory_floor(cfg: CfgNode) -> list[MemoryPart]:
    """The least memory one process of the run holds, in parts (see the module): the model's,
    then one batch's of each enabled phase (training, testing: not held at once)."""
    tf, data = cfg.TIMESFORMER, cfg.DATA
    count = parameter_count(cfg)
    averaged = cfg.TRAIN.ENABLE and cfg.MODEL_EMA.ENABLE
    what = "the model's parameters" + (
        (", their gradients and their EMA" if averaged else " and their gradients")
        if cfg.TRAIN.ENABLE
        else ""
    )
    floor = [
        (
            count * FLOAT_BYTES * (1 + cfg.TRAIN.ENABLE + averaged),
            what,
            f"{count:.3g} parameters of TIMESFORMER.DEPTH {tf.DEPTH} blocks of "
            f"TIMESFORMER.EMBED_DIM {tf.EMBED_DIM}, TIMESFORMER.MLP_RATIO {tf.MLP_RATIO}",
        )
    ]
    for split, enabled, crop, blocks in (
        ("train", cfg.TRAIN.ENABLE, data.TRAIN_CROP_SIZE, tf.DEPTH),
        ("test", cfg.TEST.ENABLE, data.TEST_CROP_SIZE, 1),
    ):
        if not enabled:
            continue
        clips = process_batch_size(cfg, split) * (
            data.TRAIN_CROP_NUM_TEMPORAL if split == "train" else 1
        )
        token_bytes = HALF_BYTES if cfg.TRAIN.MIXED_PRECISION else FLOAT_BYTES
        input_bytes = clips * 3 * data.NUM_FRAMES * crop**2 * FLOAT_BYTES
        token_memory = clips * _clip_tokens(cfg, crop) * tf.EMBED_DIM * blocks * token_bytes
        key = split.upper()
        floor.append(
            (
                input_bytes + token_memory,
                f"one {split} batch",
                f"{clips} clip(s) per process ({key}.BATCH_SIZE {cfg[key].BATCH_SIZE} per "
                f"machine) of DATA.NUM_FRAMES {data.NUM_FRAMES} frames of DATA.{key}_CROP_SIZE "
                f"{crop}, their tokens of TIMESFORMER.EMBED_DIM {tf.EMBED_DIM}"
                + (f" in TIMESFORMER.DEPTH {tf.DEPTH} blocks" if blocks > 1 else ""),
            )
        )
    return floor


def device_memory(cfg: CfgNode) -> tuple[int, str]:
    """(bytes, description) of the memory one process of the run has: its GPU's, or this
    machine's RAM (shared by NUM_PROCS processes) on the CPU."""
    if cfg.NUM_GPUS > 0:
        import torch

        total = torch.cuda.get_device_properties(0).total_memory
        return total, f"the {total / 2**30:.1f} GiB of GPU 0"
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    procs = cfg.NUM_PROCS
    share = f" shared by NUM_PROCS {procs} processes" if procs > 1 else ""
    return total // procs, f"this machine's {total / 2**30:.1f} GiB of RAM{share} (NUM_GPUS 0)"


def unfit_message(cfg: CfgNode) -> str | None:
    """One line naming the keys of the largest part when the run's memory floor exceeds the
    memory of its device; None when it may fit."""
    model, *batches = memory_floor(cfg)
    largest = max([model, *batches])
    total = model[0] + max((num_bytes for num_bytes, _, _ in batches), default=0)
    available, where = device_memory(cfg)
    if total <= available:
        return None
    num_bytes, what, keys = largest
    return (
        f"This run needs at least {_size(total)} of memory, more than {where}; the largest "
        f"part, {what}, is at least {_size(num_bytes)} ({keys}): lower these values."
    )


def _size(num_bytes: int) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if num_bytes >= scale:
            return f"{num_bytes / scale:.1f} {unit}"
    return f"{num_bytes} bytes"
