"""Converting checkpoint files between Hugging Face ``transformers`` and this project, both ways
(what ``tools/convert_checkpoint.py`` runs).

:func:`hf_to_pyth` writes a ``save_pretrained`` checkpoint as our ``.pyth`` (official names
under ``model_state``, the model's config keys as YAML under ``cfg``); :func:`pyth_to_hf`
writes ours, or an official ``.pyth``, as a ``TimesformerForVideoClassification`` folder
(the EMA weights of a training checkpoint with ``ema``); :func:`ema_to_pyth` writes the EMA
weights of a training checkpoint as a checkpoint of its own.
"""

import torch

from timesformer.checkpoint.files import CheckpointError, read_checkpoint, read_hf_config
from timesformer.checkpoint.formats import to_model_names
from timesformer.checkpoint.hugging_face import (
    cfg_from_hf_config,
    check_hf_config,
    convert_hf_state_dict,
    hf_config_kwargs,
    saved_cfg_dict,
    to_hf_state_dict,
)
from timesformer.checkpoint.training_state import ema_weights
from timesformer.utils.file_io import atomic_write


def hf_to_pyth(src: str, dst: str) -> None:
    """Hugging Face checkpoint ``src`` (folder or weights file, with its ``config.json``) ->
    ``dst``: ``{"model_state": ..., "cfg": YAML}``, written atomically.

    Raises:
        CheckpointError: no ``config.json``, one of another architecture, or unknown names.
    """
    hf_config = read_hf_config(src)
    if hf_config is None:
        raise CheckpointError(
            f"{src}: no config.json beside the weights; a Hugging Face checkpoint needs one."
        )
    check_hf_config(hf_config, src)
    model_state = convert_hf_state_dict(read_checkpoint(src).model_state)
    with atomic_write(dst) as stream:
        torch.save(
            {"model_state": model_state, "cfg": cfg_from_hf_config(hf_config).dump()}, stream
        )


def ema_to_pyth(src: str, dst: str) -> None:
    """The EMA weights of training checkpoint ``src`` (MODEL_EMA) -> ``dst``:
    ``{"model_state": ..., "cfg": YAML}``, written atomically; it loads as any weights file
    (TRAIN.CHECKPOINT_FILE_PATH, TEST.CHECKPOINT_FILE_PATH, the tools' --checkpoint).

    Raises:
        CheckpointError: ``src`` cannot be read or holds no EMA weights.
    """
    checkpoint = ema_weights(read_checkpoint(src))
    state = {"model_state": checkpoint.model_state}
    if "cfg" in checkpoint.extras:
        state["cfg"] = checkpoint.extras["cfg"]
    with atomic_write(dst) as stream:
        torch.save(state, stream)


def pyth_to_hf(
    src: str,
    dst: str,
    num_heads: int | None = None,
    num_frames: int | None = None,
    ema: bool = False,
) -> None:
    """Our or an official checkpoint ``src`` (its EMA weights with ``ema``) -> a Hugging Face
    ``save_pretrained`` directory ``dst``.

    The head count cannot be read from weights: ``num_heads``, else the checkpoint's cfg, else
    EMBED_DIM / 64; ``num_frames`` matters for space-only weights only
    (:func:`~timesformer.checkpoint.hugging_face.hf_config_kwargs`).
    """
    from transformers import TimesformerConfig, TimesformerForVideoClassification

    checkpoint = read_checkpoint(src)
    if ema:
        checkpoint = ema_weights(checkpoint)
    state_dict = to_model_names(checkpoint.model_state)
    saved_cfg = saved_cfg_dict(checkpoint.extras)
    config = TimesformerConfig(**hf_config_kwargs(state_dict, saved_cfg, num_heads, num_frames))
    model = TimesformerForVideoClassification(config)
    model.load_state_dict(to_hf_state_dict(state_dict), strict=True)
    model.save_pretrained(dst)
