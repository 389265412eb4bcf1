"""Convert TimeSformer checkpoints between Hugging Face transformers and this project.

    python tools/convert_checkpoint.py SRC DST             # Hugging Face -> our .pyth
    python tools/convert_checkpoint.py SRC DST --to hf     # ours / official .pyth -> Hugging Face
    python tools/convert_checkpoint.py SRC DST --ema       # a training checkpoint's EMA weights

SRC for the first form is a ``save_pretrained`` directory (config.json +
model.safetensors or pytorch_model.bin) or its weights file; DST is written as
a dict with ``model_state`` (official names) and ``cfg`` (the model's keys, as
YAML). For ``--to hf``, SRC is a ``.pyth`` (or bare state dict) and DST a
directory written by ``TimesformerForVideoClassification.save_pretrained``.
The number of attention heads cannot be read from weights: it comes from
``--num-heads``, else the checkpoint's cfg, else EMBED_DIM / 64 (ViT's head width).
With ``--ema``, SRC is a training checkpoint written with MODEL_EMA.ENABLE and its EMA weights
are written: as a ``.pyth`` of their own (DST), or with ``--to hf`` as a Hugging Face folder.
"""

from timesformer.utils.parser import build_arg_parser
from timesformer.utils.user_errors import errors_end_in_one_line


def convert(args) -> None:
    """Write ``args.dst``, the checkpoint ``args.src`` converted as the options ask."""
    # imported here: --help and the argument checks answer before torch loads
    from timesformer.checkpoint.conversion import ema_to_pyth, hf_to_pyth, pyth_to_hf

    if args.to == "hf":
        pyth_to_hf(args.src, args.dst, args.num_heads, args.num_frames, args.ema)
    elif args.ema:
        ema_to_pyth(args.src, args.dst)
    else:
        hf_to_pyth(args.src, args.dst)


def main(argv: list[str] | None = None) -> int:
    parser = build_arg_parser(__doc__, config=False)
    parser.add_argument("src", help="checkpoint to convert")
    parser.add_argument("dst", help="output .pyth file, or with --to hf an output directory")
    parser.add_argument(
        "--to", choices=("pyth", "hf"), default="pyth", help="output format (default: pyth)"
    )
    parser.add_argument(
        "--num-heads", type=int, help="--to hf: attention heads (default: cfg, else EMBED_DIM / 64)"
    )
    parser.add_argument(
        "--num-frames", type=int, help="--to hf, space_only: frames (default: cfg, else 8)"
    )
    parser.add_argument(
        "--ema",
        action="store_true",
        help="the EMA weights of a training checkpoint written with MODEL_EMA.ENABLE",
    )
    args = parser.parse_args(argv)
    with errors_end_in_one_line(parser):
        convert(args)
    print(f"Wrote {args.dst}")
    return 0
