"""Peak memory of one step of work (a training step, a forward pass), measured so that the
figures of different implementations compare: in a fresh process each, after a warm-up.

On the CPU the step's peak is the rise of the resident set's high-water mark (Linux
``/proc``); on CUDA, ``max_memory_allocated``. Used by ``tools/benchmark_model.py``,
which re-runs itself as a probe process per measurement (:func:`run_probe`).
"""

import ctypes
import json
import subprocess
from collections.abc import Callable

import torch


def wait_for_device(device: str) -> None:
    """Block until the work queued on ``device`` ("cpu" or "cuda") is done."""
    if device == "cuda":
        torch.cuda.synchronize()


def _proc_status_bytes(field: str) -> int:
    with open("/proc/self/status") as stream:
        for line in stream:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field}; CPU peak memory needs Linux.")


def step_peak_bytes(device: str, step: Callable[[], None]) -> tuple[int, int]:
    """(peak memory of one call of ``step`` above the memory in use before it, the whole peak).

    CPU: glibc's free memory is trimmed, the resident high-water mark reset
    (``/proc/self/clear_refs``), and its rise over the resident set measured.
    CUDA: ``max_memory_allocated`` above ``memory_allocated``.
    """
    wait_for_device(device)
    if device == "cuda":
        baseline = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        step()
        wait_for_device(device)
        peak = torch.cuda.max_memory_allocated()
        return peak - baseline, peak
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as stream:
        stream.write("5")
    baseline = _proc_status_bytes("VmRSS")
    step()
    peak = _proc_status_bytes("VmHWM")
    return peak - baseline, peak


def probe_result_line(rise: int, whole: int) -> str:
    """The line a probe process prints last: its :func:`step_peak_bytes`, as JSON."""
    return json.dumps({"peak_bytes": rise, "total_peak_bytes": whole})


def run_probe(command: list[str]) -> tuple[int, int]:
    """Run a probe process (``command``) and return the (rise, whole peak) bytes of its last line.

    Raises:
        RuntimeError: the probe failed; the message ends with its stderr.
    """
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"memory probe {' '.join(command[1:])} failed:\n{result.stderr[-2000:]}")
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    return probe["peak_bytes"], probe["total_peak_bytes"]
