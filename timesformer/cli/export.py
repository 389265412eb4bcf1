"""Export a trained model for deployment: TorchScript, torch.export or ONNX, fixed input size.

    python tools/export.py --cfg FILE --checkpoint CKPT --format torchscript|exported|onnx \\
        --output model.pt [--batch-size 1] [--atol 1e-4] [KEY VALUE...]

The input is (batch, 3, DATA.NUM_FRAMES, DATA.TEST_CROP_SIZE, DATA.TEST_CROP_SIZE),
one preprocessed test view (as tools/test_net.py makes it), named "video" in
ONNX; the output is the logits (batch, MODEL.NUM_CLASSES), named "logits". Exports
on the CPU in float32, then checks that the exported model's output on a random
input matches PyTorch's within --atol (exit status 1 otherwise).
"""

import sys

from timesformer.cli.config_loading import load_tool_config
from timesformer.errors import TimesformerError
from timesformer.utils.logging import setup_logging
from timesformer.utils.output_formats import EXPORT_FORMATS
from timesformer.utils.parser import build_arg_parser
from timesformer.utils.user_errors import errors_end_in_one_line


class ExportMismatchError(TimesformerError):
    """The exported model's output differs from PyTorch's by more than --atol."""


def export_and_check(cfg, args) -> None:
    """Export the model of ``args.checkpoint`` as ``args.format`` to ``args.output`` and check its
    output against PyTorch's on a random input.

    Raises:
        CheckpointError: the checkpoint cannot be read or does not fit the model.
        ExportMismatchError: the outputs differ by more than ``args.atol``.
    """
    # imported here: --help and the argument and config checks answer before torch loads
    import torch

    from timesformer.engine.inference import load_inference_model
    from timesformer.models.build import view_batch_shape
    from timesformer.models.export import export_model, load_exported, max_difference

    model = load_inference_model(cfg, args.checkpoint or cfg.TEST.CHECKPOINT_FILE_PATH)
    example = torch.randn(
        view_batch_shape(cfg, args.batch_size), generator=torch.Generator().manual_seed(0)
    )
    export_model(model, example, args.output, args.format)
    difference = max_difference(model, load_exported(args.output, args.format), example)
    shape = tuple(example.shape)
    print(
        f"Wrote {args.output} ({args.format}, input {shape}); "
        f"max |exported - PyTorch| = {difference:.2e}"
    )
    if difference > args.atol:
        raise ExportMismatchError(
            f"the exported model differs from PyTorch by more than --atol {args.atol}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = build_arg_parser(__doc__)
    parser.add_argument(
        "--checkpoint", default="", help="model weights (default: TEST.CHECKPOINT_FILE_PATH)"
    )
    parser.add_argument(
        "--format", choices=EXPORT_FORMATS, default="torchscript", help="(default: torchscript)"
    )
    parser.add_argument("--output", required=True, help="file to write (.pt, .pt2 or .onnx)")
    parser.add_argument(
        "--batch-size", type=int, default=1, help="the fixed batch size (default: 1)"
    )
    parser.add_argument(
        "--atol", type=float, default=1e-4, help="largest output difference accepted"
    )
    args = parser.parse_args(argv)
    setup_logging(is_master=True, stream=sys.stderr)
    with errors_end_in_one_line(parser):
        cfg, extra = load_tool_config(args)
        if extra:
            parser.error(f"unexpected arguments before the config overrides: {' '.join(extra)}")
        cfg.NUM_GPUS = 0
        export_and_check(cfg, args)
    return 0
