"""Reading checkpoint files: every file layout TimeSformer weights come in.

``.pyth`` / ``.pth`` / ``.pt`` / ``.bin`` files (a state dict, or a dict holding one),
``.safetensors`` files, and Hugging Face ``save_pretrained`` folders (one weights file or
an index of shards). Nothing read here runs code: PyTorch files load with
``weights_only=True``.
"""

import json
import os
from collections.abc import Mapping

import safetensors.torch
import torch

from timesformer.utils.checkpoint import load_error_reason

CONTAINER_KEYS = ("model_state", "state_dict", "model")
HF_CONFIG_FILE = "config.json"
HF_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
HF_INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or whose weights do not fit the model."""


def read_state_dict(path: str) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint, names as stored.

    Args:
        path: a ``.pyth``/``.pth``/``.pt``/``.bin`` file (a state dict, or a dict holding
            one under ``model_state``, ``state_dict`` or ``model``), a ``.safetensors``
            file, or a Hugging Face ``save_pretrained`` directory.

    Raises:
        CheckpointError: the path does not exist or holds no state dict.
    """
    if os.path.isdir(path):
        return _read_hf_directory(path)
    if not os.path.isfile(path):
        raise CheckpointError(f"Checkpoint {path}: no such file or directory.")
    if path.endswith(".safetensors"):
        return _read_safetensors(path)
    return _unwrap_state_dict(read_checkpoint_file(path), path)


def read_checkpoint_file(path: str) -> object:
    """The object a PyTorch checkpoint file holds (tensors on the CPU; no code is run)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for files that are not checkpoints
        raise CheckpointError(
            f"{path} is not a PyTorch checkpoint that can be loaded safely: "
            f"{load_error_reason(err)}."
        ) from err


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


def _unwrap_state_dict(obj: object, path: str) -> dict[str, torch.Tensor]:
    if isinstance(obj, Mapping):
        container = next((key for key in CONTAINER_KEYS if isinstance(obj.get(key), Mapping)), None)
        if container is not None:
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
    return dict(obj)
