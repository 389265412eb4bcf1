"""The ``timesformer`` command (and ``python -m timesformer``): ``timesformer SUBCOMMAND ...``
runs a tool with the same arguments as ``tools/<tool>.py``.

Each subcommand is a module of :mod:`timesformer.cli` whose ``main(argv)`` it calls; the module is
imported only when its subcommand is chosen, so that ``timesformer --help`` and ``timesformer
configs`` answer before torch loads.
"""

import difflib
import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import timesformer


class Command(NamedTuple):
    """A subcommand: the module of timesformer.cli whose ``main`` it runs, one line of what it
    does, and whether ``tools/<module>.py`` runs the same (every tool's but ``configs``)."""

    module: str
    summary: str
    has_script: bool = True

    @property
    def script(self) -> str | None:
        """The file of tools/ that runs the same ``main``, or None."""
        return f"{self.module}.py" if self.has_script else None


COMMANDS = {
    "run": Command("run_net", "Train, then test, from a config (the original's)."),
    "train": Command("train_net", "Train from a config, without the test."),
    "test": Command("test_net", "Test a checkpoint on every view of every video."),
    "predict": Command("predict", "Classify videos: the top-k classes of each."),
    "timeline": Command(
        "timeline",
        "Label a long video over time: sliding windows, CSV/JSON/PNG, an annotated copy.",
    ),
    "extract-features": Command("extract_features", "Write video embeddings (CLS features)."),
    "visualize-attention": Command("visualize_attention", "Draw where a model looks in a video."),
    "check-dataset": Command("check_dataset", "Decode a split's videos; list unreadable ones."),
    "prepare-dataset": Command("prepare_dataset", "List, resize or check a dataset of videos."),
    "export": Command("export", "Export a model: TorchScript, torch.export, ONNX."),
    "convert": Command("convert_checkpoint", "Convert checkpoints (Hugging Face <-> .pyth)."),
    "stats": Command("model_stats", "A model's parameters, FLOPs and activations."),
    "submit": Command("submit", "Submit a train + test job to Slurm (submitit)."),
    "benchmark": Command("benchmark", "Benchmark the training loader's clips/s."),
    "benchmark-model": Command("benchmark_model", "Benchmark the model against Hugging Face's."),
    "benchmark-resize": Command("benchmark_resize", "Benchmark dataset resizing against ffmpeg."),
    "benchmark-timeline": Command(
        "benchmark_timeline",
        "Benchmark the timeline's memory over video length, and its windows/s.",
    ),
    "benchmark-finetune": Command(
        "benchmark_finetune", "Measure the small-dataset fine-tuning recipe against plain."
    ),
    "benchmark-startup": Command(
        "benchmark_startup", "Time --help and early errors against importing torch."
    ),
    "demo": Command("demo", "The whole pipeline on generated videos, on a CPU."),
    "configs": Command("list_configs", "List the packaged configs (for --cfg).", False),
}
"""Every subcommand, in the order ``timesformer --help`` lists them."""

PROG = "timesformer"


def usage() -> str:
    """The text of ``timesformer --help``: the usage line and one line per subcommand."""
    width = max(len(name) for name in COMMANDS)
    lines = [
        f"usage: {PROG} COMMAND [ARGS...]   ({PROG} COMMAND --help: the command's arguments)",
        "",
        "TimeSformer video transformers: train, test and use them from a config.",
        "",
        "commands:",
    ]
    lines += [f"  {name:<{width}}  {command.summary}" for name, command in COMMANDS.items()]
    lines += [
        "",
        "Each command takes the arguments of its script in tools/ (see docs/tools.md);",
        "--cfg also finds a packaged config, e.g. --cfg Kinetics/TimeSformer_divST_8x32_224.yaml.",
    ]
    return "\n".join(lines)


def unknown_command(name: str) -> str:
    """The one-line error for the unknown subcommand ``name``, naming the known ones."""
    close = difflib.get_close_matches(name, list(COMMANDS), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return (
        f"{PROG}: error: unknown command {name!r}{hint}; the commands are: {', '.join(COMMANDS)}."
    )


@contextmanager
def program_name(name: str) -> Iterator[None]:
    """Make the parsers built inside call the program ``name`` (``timesformer predict``): argparse
    names a program after ``sys.argv[0]``."""
    saved = sys.argv[0] if sys.argv else ""
    if sys.argv:
        sys.argv[0] = name
    else:
        sys.argv.append(name)
    try:
        yield
    finally:
        sys.argv[0] = saved


def run_command(name: str, argv: list[str]) -> int:
    """Run the subcommand ``name`` with the arguments ``argv``; its exit status."""
    module = importlib.import_module(f"timesformer.cli.{COMMANDS[name].module}")
    with program_name(f"{PROG} {name}"):
        status = module.main(argv)
    return 0 if status is None else int(status)


def main(argv: list[str] | None = None) -> int:
    """``timesformer COMMAND [ARGS...]``; the exit status (2: no or an unknown command)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        print(usage(), file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv[0] == "--version":
        print(f"{PROG} {timesformer.__version__}")
        return 0
    if argv[0] not in COMMANDS:
        print(unknown_command(argv[0]), file=sys.stderr)
        return 2
    return run_command(argv[0], argv[1:])
