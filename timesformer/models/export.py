"""Export a model for deployment at a fixed input size, and load the result back.

Formats (input ``video`` (B, 3, T, H, W) float -> output ``logits`` (B, K)):

* ``torchscript``: ``torch.jit.trace`` -> ``.pt``; runs with ``torch.jit.load``
  (C++ libtorch too). TorchScript is deprecated in recent PyTorch but still runs.
* ``exported``: ``torch.export`` -> ``.pt2``; runs with ``torch.export.load``
  (and is the input of AOTInductor / ExecuTorch).
* ``onnx``: ``torch.onnx.export(dynamo=True)`` -> ``.onnx``; needs the ``onnx``
  and ``onnxscript`` packages, and ``onnxruntime`` to run it.
"""

import warnings
from collections.abc import Callable

import numpy as np
import torch

from timesformer.utils.output_formats import EXPORT_FORMATS

INPUT_NAME = "video"
OUTPUT_NAME = "logits"


def _export_torchscript(model: torch.nn.Module, example: torch.Tensor, path: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # the deprecation of torch.jit, and trace warnings on shape checks
        traced = torch.jit.trace(model, example)
    traced.save(path)


def _export_program(model: torch.nn.Module, example: torch.Tensor, path: str) -> None:
    torch.export.save(torch.export.export(model, (example,)), path)


def _export_onnx(model: torch.nn.Module, example: torch.Tensor, path: str) -> None:
    torch.onnx.export(
        model,
        (example,),
        path,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamo=True,
        verbose=False,
    )


# the writer of each of EXPORT_FORMATS, in its order
EXPORTERS = dict(
    zip(EXPORT_FORMATS, (_export_torchscript, _export_program, _export_onnx), strict=True)
)


@torch.no_grad()
def export_model(model: torch.nn.Module, example: torch.Tensor, path: str, file_format: str) -> str:
    """Write ``model`` (put in eval mode) traced on ``example`` (B, 3, T, H, W) to ``path``; returns
    ``path``."""
    if file_format not in EXPORTERS:
        raise ValueError(
            f"Export format is {file_format!r}; expected one of {', '.join(EXPORTERS)}."
        )
    EXPORTERS[file_format](model.eval(), example, path)
    return path


def load_exported(path: str, file_format: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """A function (B, 3, T, H, W) -> (B, K) on the CPU that runs the exported file."""
    if file_format == "torchscript":
        return torch.jit.load(path, map_location="cpu")
    if file_format == "exported":
        return torch.export.load(path).module()
    return _onnx_runner(path)


def _onnx_runner(path: str) -> Callable[[torch.Tensor], torch.Tensor]:
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])

    def run(video: torch.Tensor) -> torch.Tensor:
        (logits,) = session.run([OUTPUT_NAME], {INPUT_NAME: video.numpy().astype(np.float32)})
        return torch.from_numpy(logits)

    return run


@torch.no_grad()
def max_difference(model: torch.nn.Module, exported: Callable, example: torch.Tensor) -> float:
    """Largest absolute difference between the outputs of ``model`` and ``exported`` on
    ``example``."""
    return (model.eval()(example) - exported(example)).abs().max().item()
