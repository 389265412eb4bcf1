"""The machine a benchmark ran on, as its report heads it: cores, load, CPU or GPU, torch."""

import contextlib
import os
import platform


def load_average() -> str:
    """The 1, 5 and 15-minute load averages, e.g. ``"1.02, 0.87, 0.60"``."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def cpu_cores() -> str:
    """The cores, those this process may use, and the load (the loader benchmark's machine)."""
    return (
        f"{os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), load average "
        + load_average()
    )


def machine_description(device: str) -> str:
    """CPU model, cores, threads and load (or the GPU's name), with the torch version."""
    import torch  # only here: the load average is read before torch loads (benchmark_startup)

    if device == "cuda":
        return f"{torch.cuda.get_device_name()}, torch {torch.__version__}"
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as stream:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in stream if line.startswith("model name")), cpu
        )
    return (
        f"{cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, "
        f"load average {load_average()}, torch {torch.__version__}"
    )
