"""Layer-wise learning-rate decay (SOLVER.LAYER_DECAY), BEiT's and VideoMAE's rule.

A parameter's layer id: 0 for the embeddings (``cls_token``, ``pos_embed``, ``time_embed``,
``patch_embed.*``), ``i + 1`` for ``blocks.i.*``, ``depth + 1`` for the rest (the final ``norm``
and the ``head``). Layer ``L`` learns at ``decay ** (depth + 1 - L)`` of the learning rate: the
head at the rate itself, block ``i`` at ``decay ** (depth - i)``, the embeddings at
``decay ** (depth + 1)``.
"""

from collections.abc import Iterable

EMBEDDING_NAMES = ("cls_token", "pos_embed", "time_embed", "patch_embed")
"""The first part of an embedding parameter's name inside the network: layer 0."""

HOLDER_NAMES = ("module", "_orig_mod", "model")
"""Leading name parts that hold the network: DistributedDataParallel's ``module``,
``torch.compile``'s ``_orig_mod`` and the registered wrapper's ``model``."""


def network_name_parts(name: str) -> list[str]:
    """A parameter name's parts inside the network: ``"module.model.blocks.3.attn.qkv.weight"``
    -> ``["blocks", "3", "attn", "qkv", "weight"]``."""
    parts = name.split(".")
    while len(parts) > 1 and parts[0] in HOLDER_NAMES:
        parts = parts[1:]
    return parts


def block_index(name: str) -> int | None:
    """``i`` for a parameter of ``blocks.i``, else None."""
    parts = network_name_parts(name)
    if len(parts) > 1 and parts[0] == "blocks" and parts[1].isdigit():
        return int(parts[1])
    return None


def count_blocks(names: Iterable[str]) -> int:
    """The number of blocks that parameter names show: 1 + the highest ``i`` of ``blocks.i``."""
    indices = [index for index in map(block_index, names) if index is not None]
    return max(indices, default=-1) + 1


def layer_id(name: str, depth: int) -> int:
    """The layer of parameter ``name`` in a network of ``depth`` blocks: 0 .. depth + 1."""
    if network_name_parts(name)[0] in EMBEDDING_NAMES:
        return 0
    index = block_index(name)
    return depth + 1 if index is None else index + 1


def lr_scale(layer: int, depth: int, decay: float) -> float:
    """The learning-rate factor of ``layer``: ``decay ** (depth + 1 - layer)``."""
    return decay ** (depth + 1 - layer)


def layer_label(layer: int, depth: int) -> str:
    """``"embeddings"``, ``"block i"`` or ``"head and norm"``."""
    if layer == 0:
        return "embeddings"
    return "head and norm" if layer == depth + 1 else f"block {layer - 1}"


def describe_layer_decay(layers: Iterable[int], depth: int, decay: float) -> str:
    """One line: the scale of each of ``layers``, the top layer first, e.g. ``"Layer-wise LR
    decay 0.75: head and norm x1, block 11 x0.75, ..., embeddings x0.0238"``."""
    scales = ", ".join(
        f"{layer_label(layer, depth)} x{lr_scale(layer, depth, decay):.3g}"
        for layer in sorted(set(layers), reverse=True)
    )
    return f"Layer-wise LR decay {decay} (SOLVER.LAYER_DECAY): {scales}"
