"""Reading checkpoint files safely: every file layout TimeSformer weights come in, and the one
error a checkpoint that cannot be used raises.

``.pyth`` / ``.pth`` / ``.pt`` / ``.bin`` files (a state dict, or a dict holding one),
``.safetensors`` files, and Hugging Face ``save_pretrained`` folders (one weights file or
an index of shards). Nothing read here runs code: PyTorch files load with
``weights_only=True`` (:func:`read_checkpoint_file`, the one place that calls ``torch.load``).
A run reads a file once, with :func:`read_checkpoint`, and hands the :class:`Checkpoint` to
whatever needs its weights, optimizer state or epoch.
"""

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import safetensors.torch
import torch

from timesformer.errors import TimesformerError

CONTAINER_KEYS = ("model_state", "state_dict", "model")
HF_CONFIG_FILE = "config.json"
HF_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
HF_INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")


class CheckpointError(TimesformerError, ValueError):
    """A checkpoint that cannot be read, or whose weights do not fit the model.

    ``reason``: why, without the file's name (for messages that name the file themselves);
    the whole message when no shorter reason was given.
    """

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        self.reason = reason or message


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint read once (:func:`read_checkpoint`).

    ``model_state``: the model's tensors, names as stored. ``extras``: what the dict that held
    them holds besides (``epoch``, ``optimizer_state``, ``scaler_state``, ``cfg``,
    ``rng_states`` in a training checkpoint); empty for a bare state dict, a ``.safetensors``
    file or a Hugging Face folder.
    """

    path: str
    model_state: dict[str, torch.Tensor]
    extras: dict = field(default_factory=dict)


def read_checkpoint(path: str) -> Checkpoint:
    """The checkpoint at ``path``: a ``.pyth``/``.pth``/``.pt``/``.bin`` file (a state dict, or a
    dict holding one under ``model_state``, ``state_dict`` or ``model``), a ``.safetensors``
    file, or a Hugging Face ``save_pretrained`` directory.

    Raises:
        CheckpointError: the path does not exist, cannot be loaded safely, or holds no state
            dict.
    """
    if os.path.isdir(path):
        return Checkpoint(path, _read_hf_directory(path))
    if not os.path.isfile(path):
        raise CheckpointError(f"Checkpoint {path}: no such file or directory.")
    if path.endswith(".safetensors"):
        return Checkpoint(path, _read_safetensors(path))
    return _unwrap_state_dict(read_checkpoint_file(path), path)


def read_state_dict(path: str) -> dict[str, torch.Tensor]:
    """The tensors of the checkpoint at ``path`` (see :func:`read_checkpoint`), names as stored."""
    return read_checkpoint(path).model_state


def read_checkpoint_file(path: str, mmap: bool = False) -> object:
    """The object a PyTorch checkpoint file holds, tensors on the CPU; no code is run.

    ``mmap``: map the tensors instead of reading them, so that looking into a large file costs
    little.

    Raises:
        CheckpointError: the file cannot be loaded safely; ``reason`` says why in a line.
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as err:  # torch raises many types for files that are not checkpoints
        reason = load_error_reason(err)
        raise CheckpointError(
            f"{path} is not a PyTorch checkpoint that can be loaded safely: {reason}.", reason
        ) from err


def load_error_reason(error: Exception) -> str:
    """Why ``torch.load(..., weights_only=True)`` failed, in a line, without torch's advice to
    load the file unsafely: the object it refused (a file that needs code to load is never
    loaded here), or the error of a damaged file."""
    text = str(error).strip()
    if "Weights only load failed" in text:
        refused = re.search(r"GLOBAL ([\w.]+)", text)
        if refused:
            return (
                f"it refers to {refused.group(1)}, which is not data (only tensors, dicts, lists, "
                "numbers and strings are loaded, never code)"
            )
        details = [
            paragraph.strip()
            for paragraph in text.split("\n\n")[1:]
            if paragraph.strip() and not paragraph.startswith("Check the documentation")
        ]
        return f"not a PyTorch file ({'; '.join(details) or 'unpickling failed'})"
    first_sentence = re.split(r"(?<=\.)\s", text)[0].rstrip(".")
    return f"{type(error).__name__}: {first_sentence}"


def read_hf_config(path: str) -> dict | None:
    """The ``config.json`` of a Hugging Face checkpoint directory (or next to its weights file)."""
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    config_path = os.path.join(folder, HF_CONFIG_FILE)
    if not os.path.isfile(config_path):
        return None
    with open(config_path) as f:
        return json.load(f)


def _read_safetensors(path: str) -> dict[str, torch.Tensor]:
    try:
        return safetensors.torch.load_file(path, device="cpu")
    except Exception as err:  # safetensors raises its own error types
        raise CheckpointError(f"{path} is not a safetensors file: {err}") from err


def _read_hf_directory(folder: str) -> dict[str, torch.Tensor]:
    for name in HF_WEIGHT_FILES:
        if os.path.isfile(os.path.join(folder, name)):
            return read_state_dict(os.path.join(folder, name))
    for name in HF_INDEX_FILES:
        index_path = os.path.join(folder, name)
        if os.path.isfile(index_path):
            with open(index_path) as f:
                shards = sorted(set(json.load(f)["weight_map"].values()))
            return {
                k: v
                for shard in shards
                for k, v in read_state_dict(os.path.join(folder, shard)).items()
            }
    raise CheckpointError(
        f"{folder} is a directory without Hugging Face weights; expected one of "
        f"{', '.join(HF_WEIGHT_FILES + HF_INDEX_FILES)}."
    )


def _unwrap_state_dict(obj: object, path: str) -> Checkpoint:
    """The state dict in ``obj`` (itself, or under one of :data:`CONTAINER_KEYS`) and what the
    dict holding it holds besides."""
    extras = {}
    if isinstance(obj, Mapping):
        container = next((key for key in CONTAINER_KEYS if isinstance(obj.get(key), Mapping)), None)
        if container is not None:
            extras = {key: value for key, value in obj.items() if key != container}
            obj = obj[container]
    if not isinstance(obj, Mapping) or not obj or not all(torch.is_tensor(v) for v in obj.values()):
        found = (
            f"a dict with keys {sorted(obj)[:8]}"
            if isinstance(obj, Mapping)
            else type(obj).__name__
        )
        raise CheckpointError(
            f"{path} is not a model checkpoint: expected a state dict (parameter name -> tensor) "
            f"or a dict holding one under {' / '.join(map(repr, CONTAINER_KEYS))}; found {found}."
        )
    return Checkpoint(path, dict(obj), extras)
