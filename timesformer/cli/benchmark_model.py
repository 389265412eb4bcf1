"""Model benchmark: our TimeSformer against Hugging Face's, same shapes, same weights, one run.

    python tools/benchmark_model.py [--embed-dim 384 --depth 4 --heads 6 --batch 2 --frames 8 32
        --size 112 --attention divided_space_time joint_space_time --dtype fp32 --device cpu
        --steps 3 --repeats 5 --threads 1 --compile --reference-dtype fp32 --no-memory --profile]

For each attention type and clip length it reports, for our ``VisionTransformer``
and for ``transformers.TimesformerForVideoClassification`` (the reference, a
faithful port of the official code) loaded with the same weights:

* training throughput (clips/s of a whole step: forward, cross-entropy, backward,
  AdamW step; the same AdamW for both, fused by default: the for-loop one costs
  as much as the model's forward pass on a small CPU) and inference throughput
  (forward under ``torch.inference_mode``); the two models are timed alternately
  in the same process, ``--repeats`` rounds of ``--steps`` steps, and the medians
  are compared;
* model FLOPs utilization: each model's own matrix-product FLOPs per clip
  (``torch.utils.flop_counter``; ours takes exact shortcuts, the last block's CLS
  output alone and folded projections, so it counts fewer) times clips/s, over the FLOP/s of a
  large matmul measured on this machine at the same dtype;
* peak memory of one training step / one inference pass above the process's
  baseline, in a fresh process per (implementation, configuration): on the CPU the
  rise of the resident set's high-water mark (Linux ``/proc``) after a warm-up
  step, on CUDA ``max_memory_allocated`` above ``memory_allocated``; and the
  whole peak during that step (CPU: the resident high-water mark; CUDA:
  ``max_memory_allocated``, weights and optimizer state included), the figure
  that must fit the device.

``--dtype bf16`` runs under ``torch.autocast``; ``--reference-dtype`` lets the
reference run at another dtype (e.g. ours at bf16 against its fp32).
``--activation-checkpointing`` recomputes blocks in both models' backward passes.
``--compile`` compiles our model with ``torch.compile`` (MODEL.COMPILE);
``--profile`` prints torch.profiler's top operators of one step of each.
The result is a Markdown table on stdout, headed by the machine and the command.
"""

import argparse
import functools
import json
import sys
from typing import TYPE_CHECKING

from timesformer.benchmarks.dtype_names import DTYPE_NAMES
from timesformer.benchmarks.machine import load_average, machine_description
from timesformer.config import ConfigError
from timesformer.utils.parser import build_arg_parser
from timesformer.utils.user_errors import errors_end_in_one_line

if TYPE_CHECKING:
    from timesformer.benchmarks.model_pair import Case

MODES = ("train", "infer")
MIB = 2**20


def build_parser() -> argparse.ArgumentParser:
    """The benchmark's command line."""
    parser = build_arg_parser(__doc__, config=False)
    parser.add_argument("--embed-dim", type=int, default=384)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--heads", type=int, default=6)
    parser.add_argument("--patch", type=int, default=16)
    parser.add_argument("--classes", type=int, default=400)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument(
        "--frames", type=int, nargs="+", default=[8], help="clip lengths, each a case"
    )
    parser.add_argument("--size", type=int, default=112, help="crop height and width")
    parser.add_argument(
        "--attention",
        nargs="+",
        metavar="TYPE",
        help="attention types, each a case: the registered TIMESFORMER.ATTENTION_TYPE values "
        "(timesformer.models.attention_types), checked once torch loads (default: all of them)",
    )
    parser.add_argument("--dtype", choices=DTYPE_NAMES, default="fp32", help="bf16: torch.autocast")
    parser.add_argument(
        "--reference-dtype", choices=DTYPE_NAMES, default=None, help="default: --dtype"
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per repeat")
    parser.add_argument(
        "--repeats", type=int, default=5, help="alternating timed rounds; medians are reported"
    )
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps before timing")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's choice)"
    )
    parser.add_argument(
        "--compile", action="store_true", help="torch.compile our model (MODEL.COMPILE)"
    )
    parser.add_argument("--activation-checkpointing", action="store_true", help="for both models")
    parser.add_argument(
        "--optimizer",
        choices=("fused", "unfused"),
        default="fused",
        help="AdamW implementation, same for both",
    )
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument(
        "--profile", action="store_true", help="print torch.profiler's top operators of a step"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    parser.add_argument("--json", metavar="FILE", help="also write the rows to FILE as JSON")
    parser.add_argument("--probe", nargs=2, metavar=("IMPL", "MODE"), help=argparse.SUPPRESS)
    return parser


def parse_args(
    argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None
) -> argparse.Namespace:
    """The benchmark's settings, read by ``parser`` (default: :func:`build_parser`'s); torch
    loads here, once the other options are checked, to check --attention (default: every
    registered type) and --device cuda; ``--threads`` sets torch's threads.

    Raises:
        ConfigError: --embed-dim is not a multiple of --heads.
    """
    parser = parser or build_parser()
    args = parser.parse_args(argv)
    args.reference_dtype = args.reference_dtype or args.dtype
    if args.embed_dim % args.heads:
        raise ConfigError(
            f"--embed-dim {args.embed_dim} is not a multiple of --heads {args.heads}: each head "
            "takes embed_dim / heads channels."
        )
    # torch and the models load here, after the arguments are checked
    import torch

    from timesformer.models.attention_types import attention_type_names

    types = attention_type_names()
    for name in args.attention or ():
        if name not in types:
            parser.error(
                f"argument --attention: invalid choice: {name!r} "
                f"(choose from {', '.join(map(repr, types))})"
            )
    args.attention = args.attention or list(types)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available.")
    if args.threads:
        torch.set_num_threads(args.threads)
    return args


def peak_memory_in_fresh_process(
    argv: list[str], case: "Case", impl: str, mode: str
) -> tuple[float, float]:
    """Run :func:`~timesformer.benchmarks.model_speed.probe_memory` for one case in a new Python
    process (this command line with ``--probe``); (above the baseline, whole), MiB."""
    from timesformer.utils.peak_memory import run_probe

    case_argv = ["--attention", case.attention, "--frames", str(case.frames), "--probe", impl, mode]
    command = [sys.executable, "-m", __spec__.name, *argv, *case_argv]  # this module
    rise, whole = run_probe(command)
    return rise / MIB, whole / MIB


def _case_free_argv(argv: list[str]) -> list[str]:
    """The command line without its --attention / --frames lists (a probe sets one of each)."""
    kept, skipping = [], False
    for token in argv:
        if token.startswith("--"):
            skipping = token in ("--attention", "--frames")
        if not skipping:
            kept.append(token)
    return kept


def benchmark(args: argparse.Namespace, argv: list[str]) -> None:
    """Measure every case of ``args`` (the command line ``argv``) in every mode and print the
    table (and write it with ``--json``)."""
    from timesformer.benchmarks.model_pair import DTYPES, Case
    from timesformer.benchmarks.model_speed import markdown_table, matmul_peak_flops, measure_case

    print(f"Machine: {machine_description(args.device)}")
    print(f"Command: python tools/benchmark_model.py {' '.join(argv)}")
    peak_by_dtype = {
        name: matmul_peak_flops(args.device, DTYPES[name])
        for name in {args.dtype, args.reference_dtype}
    }
    peak_flops = {
        "ours": peak_by_dtype[args.dtype],
        "reference": peak_by_dtype[args.reference_dtype],
    }
    print(
        ", ".join(
            f"Matmul peak: {flops / 1e9:.1f} GFLOP/s ({name})"
            for name, flops in peak_by_dtype.items()
        )
        + "\n"
    )
    peak_memory = (
        None
        if args.no_memory
        else functools.partial(peak_memory_in_fresh_process, _case_free_argv(argv))
    )
    cases = [Case(attention, frames) for attention in args.attention for frames in args.frames]
    rows = [
        measure_case(args, case, mode, peak_flops, peak_memory)
        for case in cases
        for mode in args.modes
    ]
    print(markdown_table(rows))
    if args.json:
        with open(args.json, "w") as stream:
            machine = machine_description(args.device)
            json.dump({"machine": machine, "argv": argv, "rows": rows}, stream, indent=1)
    print(f"\nLoad average after the run: {load_average()}")


def probe(args: argparse.Namespace) -> None:
    """Print the result line of the memory probe ``--probe IMPL MODE`` of the one case of
    ``args`` (run by :func:`peak_memory_in_fresh_process`)."""
    from timesformer.benchmarks.model_speed import probe_memory
    from timesformer.utils.peak_memory import probe_result_line

    impl, mode = args.probe
    print(probe_result_line(*probe_memory(args, impl, mode)))


def main(argv: list[str] | None = None) -> int:
    """Measure every case in every mode and print the table (with ``--probe``: one memory
    probe's result line)."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    with errors_end_in_one_line(parser):
        args = parse_args(argv, parser)
        if args.probe:
            probe(args)
        else:
            benchmark(args, argv)
    return 0


if __name__ == "__main__":  # each memory probe runs this module in a process of its own
    sys.exit(main())
