"""The official and state-dict formats: loading a TimeSformer's own checkpoints into it.

:func:`load_model_weights` loads the weights of this model: the official release's
``.pyth`` (a dict with ``model_state``), bare state dicts (``module.`` / ``_orig_mod.``
prefixes allowed) and Hugging Face checkpoints (``save_pretrained`` directory or its weights
file): names mapped (:func:`to_model_names`), position / time embeddings fitted to the
model, a head of another class count dropped when fine-tuning. :func:`apply_state_dict`
(shared with ImageNet initialization, :mod:`timesformer.checkpoint.imagenet`) validates
every name and shape before anything is copied into the model. Names inside this module are
those of :class:`~timesformer.models.vit.VisionTransformer` (``pos_embed``,
``blocks.0.attn.qkv.weight``); checkpoints of the official release and of this project store
them under the wrapper, with a ``model.`` prefix.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from timesformer.checkpoint.files import (
    Checkpoint,
    CheckpointError,
    read_checkpoint,
    read_hf_config,
)
from timesformer.checkpoint.hugging_face import (
    WRAPPER_PREFIX,
    check_hf_config,
    convert_hf_state_dict,
    is_hf_state_dict,
)
from timesformer.models.embeddings import resize_pos_embed, resize_time_embed
from timesformer.models.vit import VisionTransformer, find_vision_transformer
from timesformer.utils.distributed import strip_wrapper_prefixes
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)


@dataclass(frozen=True)
class LoadResult:
    """What a load did, in the model's (VisionTransformer) names."""

    loaded: list[str]
    missing: list[str]
    unexpected: list[str]


def to_model_names(
    state_dict: Mapping[str, torch.Tensor], clear_prefixes: tuple[str, ...] = ()
) -> dict[str, torch.Tensor]:
    """Names of any supported checkpoint -> VisionTransformer names.

    Strips ``module.`` / ``_orig_mod.`` (DistributedDataParallel, torch.compile),
    then each of ``clear_prefixes`` (e.g. TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN),
    converts Hugging Face names, and strips the wrapper's ``model.``.
    """
    state_dict = strip_wrapper_prefixes(state_dict)
    for prefix in clear_prefixes:
        state_dict = _strip_prefix(state_dict, prefix)
    if is_hf_state_dict(state_dict):
        state_dict = convert_hf_state_dict(state_dict)
    return _strip_prefix(state_dict, WRAPPER_PREFIX)


def _strip_prefix(state_dict: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {key.removeprefix(prefix): value for key, value in state_dict.items()}


def load_model_weights(
    model: nn.Module,
    checkpoint: str | Checkpoint,
    strict: bool = True,
    reset_head_if_mismatch: bool = False,
    clear_prefixes: tuple[str, ...] = (),
) -> LoadResult:
    """Load the weights of a TimeSformer checkpoint into ``model``.

    Position / time embeddings of another patch grid / frame count are resized
    to the model's (:mod:`timesformer.models.embeddings`).

    Args:
        model: a registered model, :class:`TimeSformer`, VisionTransformer, or
            one of them in DistributedDataParallel / ``torch.compile``.
        checkpoint: the path of an official ``.pyth`` or ours, a bare state dict (``.pth``,
            ``.pt``, ``.bin``, ``.safetensors``) or a Hugging Face checkpoint (directory or
            weights file); or such a checkpoint already read
            (:func:`~timesformer.checkpoint.files.read_checkpoint`), so that a run reads a
            file once.
        strict: fail when the checkpoint lacks a parameter of the model or has
            one the model lacks (otherwise they are logged and skipped).
        reset_head_if_mismatch: when the head's number of classes differs, keep the
            model's freshly initialized head instead of failing (fine-tuning).
        clear_prefixes: name prefixes to strip first (TRAIN.CHECKPOINT_CLEAR_NAME_PATTERN).

    Raises:
        CheckpointError: unreadable file, a shape mismatch (names the parameter
            and both shapes), or with ``strict`` missing / unexpected parameters.
            Nothing is copied into the model then.
    """
    vit = find_vision_transformer(model)
    if isinstance(checkpoint, str):
        checkpoint = read_checkpoint(checkpoint)
    path = checkpoint.path
    if is_hf_state_dict(checkpoint.model_state):
        check_hf_config(read_hf_config(path), path)
    state_dict = to_model_names(checkpoint.model_state, tuple(clear_prefixes))
    state_dict = _fit_embeddings(state_dict, vit, path)
    dropped_head = drop_mismatched_head(state_dict, vit, path) if reset_head_if_mismatch else []
    return apply_state_dict(vit, state_dict, path, strict=strict, allowed_missing=dropped_head)


def apply_state_dict(
    vit: VisionTransformer,
    state_dict: dict[str, torch.Tensor],
    source: str,
    strict: bool,
    allowed_missing: Sequence[str] = (),
) -> LoadResult:
    """Check every name and shape against ``vit``, then copy; log loaded / missing / unexpected."""
    target = vit.state_dict()
    mismatched = [
        f"{key}: checkpoint {tuple(value.shape)} vs model {tuple(target[key].shape)}"
        for key, value in state_dict.items()
        if key in target and value.shape != target[key].shape
    ]
    if mismatched:
        raise CheckpointError(f"{source}: shapes do not fit the model: {'; '.join(mismatched)}.")
    result = LoadResult(
        loaded=[key for key in target if key in state_dict],
        missing=[key for key in target if key not in state_dict],
        unexpected=[key for key in state_dict if key not in target],
    )
    unexplained_missing = [key for key in result.missing if key not in allowed_missing]
    if strict and (unexplained_missing or result.unexpected):
        raise CheckpointError(
            f"{source} does not match the model: missing {_names(unexplained_missing)}; "
            f"unexpected {_names(result.unexpected)}. "
            "Check TIMESFORMER.ATTENTION_TYPE and the model size."
        )
    vit.load_state_dict({key: state_dict[key] for key in result.loaded}, strict=False)
    logger.info("Loaded %d tensors from %s.", len(result.loaded), source)
    logger.info("Missing in %s (left as initialized): %s.", source, _names(result.missing))
    logger.info("Unexpected in %s (ignored): %s.", source, _names(result.unexpected))
    return result


def _names(keys: list[str], limit: int = 20) -> str:
    if not keys:
        return "none"
    more = f" ... ({len(keys) - limit} more)" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def _fit_embeddings(
    state_dict: dict[str, torch.Tensor], vit: VisionTransformer, source: str
) -> dict[str, torch.Tensor]:
    """Resize ``pos_embed`` / ``time_embed`` of another grid / clip length to the model's."""
    state_dict = dict(state_dict)
    pos_embed = state_dict.get("pos_embed")
    if pos_embed is not None and pos_embed.shape[1:] != vit.pos_embed.shape[1:]:
        if pos_embed.shape[-1] == vit.pos_embed.shape[-1]:
            state_dict["pos_embed"] = resize_pos_embed(pos_embed, vit.patch_embed.grid_size)
            logger.info(
                "Resized pos_embed of %s from %s to %s.",
                source,
                tuple(pos_embed.shape),
                tuple(vit.pos_embed.shape),
            )
    time_embed = state_dict.get("time_embed")
    if (
        time_embed is not None
        and hasattr(vit, "time_embed")
        and time_embed.shape[-1] == vit.time_embed.shape[-1]
    ):
        num_frames = vit.time_embed.shape[1]
        if time_embed.shape[1] != num_frames:
            state_dict["time_embed"] = resize_time_embed(time_embed, num_frames)
            logger.warning(
                "Resized time_embed of %s from %d to %d frames (DATA.NUM_FRAMES): the model "
                "now sees clips of another length than it was trained on.",
                source,
                time_embed.shape[1],
                num_frames,
            )
    return state_dict


def drop_mismatched_head(
    state_dict: dict[str, torch.Tensor], vit: VisionTransformer, source: str
) -> list[str]:
    """Remove ``head.*`` from ``state_dict`` when its shape differs from the model's; return the
    names removed."""
    model_head = {f"head.{name}": p for name, p in vit.head.named_parameters()}
    checkpoint_head = [key for key in state_dict if key.startswith("head.")]
    if all(
        key in model_head and state_dict[key].shape == model_head[key].shape
        for key in checkpoint_head
    ):
        return []
    for key in checkpoint_head:
        del state_dict[key]
    logger.info(
        "Head of %s does not fit the model's %d classes; it is re-initialized.",
        source,
        vit.num_classes,
    )
    return list(model_head)
