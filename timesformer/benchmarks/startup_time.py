"""How long a command line takes to answer when it does no work: ``--help``, or a mistake in its
arguments or config, each in a fresh interpreter as a user starts it, set beside importing torch
(what every answer took before the tools checked their arguments first).

The cases run in turn in each round, so that a change in the machine's load touches them alike;
each case's figure is the median of its rounds.
"""

import statistics
import subprocess
import sys
import time

IMPORT_TORCH = ("import torch", [sys.executable, "-c", "import torch"])
"""The reference case: a fresh interpreter that imports torch and exits."""


def command_case(label: str, argv: list[str]) -> tuple[str, list[str]]:
    """The case ``label``: ``python -m timesformer ARGV`` in a fresh interpreter."""
    return label, [sys.executable, "-m", "timesformer", *argv]


def time_cases(
    cases: list[tuple[str, list[str]]], rounds: int, cwd: str | None = None
) -> dict[str, dict]:
    """label -> {"seconds": median wall time, "min": fastest, "exit_status": of the last run}
    over ``rounds`` interleaved rounds of every case (its output discarded)."""
    times: dict[str, list[float]] = {label: [] for label, _ in cases}
    statuses: dict[str, int] = {}
    for _ in range(rounds):
        for label, command in cases:
            start = time.perf_counter()
            run = subprocess.run(command, capture_output=True, cwd=cwd, check=False)
            times[label].append(time.perf_counter() - start)
            statuses[label] = run.returncode
    return {
        label: {
            "seconds": statistics.median(seconds),
            "min": min(seconds),
            "exit_status": statuses[label],
        }
        for label, seconds in times.items()
    }


def startup_table(results: dict[str, dict], reference: str = IMPORT_TORCH[0]) -> list[str]:
    """A markdown table: each case's median and fastest time, and its share of ``reference``'s
    median."""
    base = results[reference]["seconds"]
    lines = [
        "| command | median (s) | fastest (s) | of `import torch` | exit status |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, figures in results.items():
        lines.append(
            f"| `{label}` | {figures['seconds']:.2f} | {figures['min']:.2f} | "
            f"{figures['seconds'] / base:.2f}x | {figures['exit_status']} |"
        )
    return lines
