"""Startup benchmark: how long ``timesformer --help``, each command's ``--help`` and a mistake in
the arguments or the config take to answer, beside importing torch.

    python tools/benchmark_startup.py [--rounds 5] [--json FILE]

Each case runs in a fresh interpreter (``python -m timesformer ...``), all cases in turn in each
of --rounds rounds; a case's figure is the median of its rounds. Prints the machine's load
average before and after, and a table (docs/tools.md#instant-help holds the figures measured).
The target: every case below 1 s on the 2-core development machine.

Exit status: 0 measured (a case's own exit status is in the table), 2 a mistake in the command
line.
"""

import argparse
import json
import os

from timesformer.benchmarks.machine import load_average
from timesformer.benchmarks.startup_time import (
    IMPORT_TORCH,
    command_case,
    startup_table,
    time_cases,
)
from timesformer.cli.main import COMMANDS
from timesformer.config.packaged import packaged_file

MISTAKES = {
    "train --cfg DEMO TRAIN.BATCH_SIZ 8": ["train", "--cfg", "DEMO", "TRAIN.BATCH_SIZ", "8"],
    "predict --topk x": ["predict", "--topk", "x"],
}
"""Mistakes and the argv that makes them (``DEMO`` stands for the demo's config file)."""


def benchmark_cases() -> list[tuple[str, list[str]]]:
    """Importing torch, ``timesformer --help``, every command's ``--help``, then the mistakes."""
    demo_config = packaged_file("Demo/TimeSformer_divST_tiny.yaml")
    cases = [IMPORT_TORCH, command_case("timesformer --help", ["--help"])]
    cases += [command_case(f"timesformer {name} --help", [name, "--help"]) for name in COMMANDS]
    cases += [
        command_case(
            f"timesformer {label}", [demo_config if arg == "DEMO" else arg for arg in argv]
        )
        for label, argv in MISTAKES.items()
    ]
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("argument --rounds: expected 1 or more")
    load_before = load_average()
    results = time_cases(benchmark_cases(), args.rounds)
    print(f"{os.cpu_count()} cores, load average before: {load_before}, after: {load_average()}")
    print(f"{args.rounds} rounds; each figure is a case's median\n")
    print("\n".join(startup_table(results)))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump({"rounds": args.rounds, "load_average": load_before, **results}, stream)
    return 0
