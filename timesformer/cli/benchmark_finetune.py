"""Fine-tuning benchmark: the small-dataset recipe against plain fine-tuning, and what each of
its options costs per training step, in one run.

    python tools/benchmark_finetune.py [--work-dir DIR] [--pretrained CHECKPOINT]
        [--seeds 0 1 2] [--epochs 120] [--train-clips 8] [--test-clips 50]
        [--pretrain-clips 80] [--pretrain-epochs 12] [--timing-epochs 5] [--timing-rounds 2]
        [--num-workers 2] [--data-seed 2] [--json FILE]

The demo's tiny divided space-time model (configs/Demo/TimeSformer_divST_tiny.yaml) is trained
on the two-direction demo set (or --pretrained, a checkpoint of it, is used), then fine-tuned
for each seed on a small four-direction set made the same way (--train-clips per class), plainly
(TRAIN.FINETUNE) and with the recipe, the same epochs and data; each is tested on --test-clips
per class. The small set is that of --data-seed: 2 by default, clips that the tuning of the
recipe's values (on data seed 1) never saw. Then short runs time a training step plainly, with
each of the recipe's options alone and with all of them
(:mod:`timesformer.benchmarks.finetune_recipe`). The sets, checkpoints and logs go under
--work-dir (the sets are written once and reused); the training logs go to stderr. Prints the
machine and its load average, the test top-1 per seed with the means and their difference, the
cost per step, and the recipe's values, as markdown tables.

Exit status: 0 measured, 1 a missing --pretrained, 2 a mistake in the command line.
"""

import argparse
import contextlib
import json
import os
import sys

from timesformer.benchmarks.finetune_settings import Settings
from timesformer.cli.demo import CONFIGS
from timesformer.config import ConfigError
from timesformer.config.packaged import packaged_file
from timesformer.utils.user_errors import errors_end_in_one_line

COUNTS = (
    "epochs",
    "train_clips",
    "test_clips",
    "pretrain_clips",
    "pretrain_epochs",
    "timing_epochs",
    "timing_rounds",
)
"""The flags that must be 1 or more."""


def parse_args(argv: list[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """(the parser, the parsed command line)."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = Settings(base_config="", work_dir="")
    parser.add_argument(
        "--work-dir",
        default=os.path.expanduser("~/.cache/timesformer/finetune_benchmark"),
        help="where the sets, checkpoints and logs go (default: %(default)s)",
    )
    parser.add_argument(
        "--pretrained", metavar="CHECKPOINT", help="a two-direction checkpoint to start from"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(defaults.seeds))
    for name in COUNTS:
        parser.add_argument(
            f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name)
        )
    parser.add_argument("--num-workers", type=int, default=defaults.num_workers)
    parser.add_argument(
        "--data-seed",
        type=int,
        default=defaults.data_seed,
        help="seed of the small set (default: %(default)s; the recipe was tuned on 1)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    return parser, parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    """The benchmark's settings from the command line.

    Raises:
        ConfigError: a count below 1, a negative --num-workers, or the demo's config missing
            from the installation.
        CheckpointError: --pretrained names no file.
    """
    for name in COUNTS:
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} is {getattr(args, name)}; expected 1+.")
    if args.num_workers < 0:
        raise ConfigError(f"--num-workers is {args.num_workers}; expected 0 or more.")
    if args.pretrained is not None and not os.path.isfile(args.pretrained):
        from timesformer.checkpoint.files import CheckpointError  # loads torch: only here

        raise CheckpointError(f"Checkpoint {args.pretrained}: no such file or directory.")
    counts = {name: getattr(args, name) for name in COUNTS}
    return Settings(
        base_config=packaged_file(CONFIGS["divided_space_time"]),
        work_dir=args.work_dir,
        seeds=tuple(args.seeds),
        pretrained=args.pretrained,
        num_workers=args.num_workers,
        data_seed=args.data_seed,
        **counts,
    )


def _run(settings: Settings) -> dict:
    """Run the benchmark of ``settings`` with the engine's loops (their logs to stderr); its
    report."""
    # torch and the engine load here, after the arguments are checked
    from timesformer.benchmarks.finetune_recipe import Loops, run_benchmark
    from timesformer.engine.tester import test
    from timesformer.engine.trainer import train

    with contextlib.redirect_stdout(sys.stderr):  # the runs' logs
        return run_benchmark(settings, Loops(train, test))


def print_report(report: dict) -> None:
    """The report as it heads the docs: machine, load, the three tables."""
    from timesformer.benchmarks.finetune_recipe import accuracy_table, cost_table, recipe_table

    print(report["machine"])
    print(
        f"load average before: {report['load_average_before']}, "
        f"after: {report['load_average_after']}"
    )
    pretrained = report["pretrained_top1"]
    trained = (
        "" if pretrained is None else f" (trained here; two-direction test top-1 {pretrained:.1f}%)"
    )
    print(f"pretrained: {report['pretrained']}{trained}")
    print("\nTest top-1 (%), four directions, chance 25%:\n")
    print(accuracy_table(report))
    print("\nCost per training step:\n")
    print(cost_table(report))
    print("\nThe recipe:\n")
    print(recipe_table())


def main(argv: list[str] | None = None) -> int:
    parser, args = parse_args(argv)
    with errors_end_in_one_line(parser):
        report = _run(settings_from(args))
    print_report(report)
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(report, stream, indent=2)
    return 0
