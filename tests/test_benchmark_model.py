"""tools/benchmark_model.py's command line (timesformer/cli/benchmark_model.py): the peak memory
of a case comes from a fresh process running the command line again (the figures themselves:
test_model_pair.py, test_model_speed.py)."""

from helpers import TINY_BENCHMARK_MODEL
from timesformer.benchmarks.model_pair import Case
from timesformer.cli import benchmark_model


def test_peak_memory_comes_from_a_fresh_process():
    rise_mib, whole_mib = benchmark_model.peak_memory_in_fresh_process(
        TINY_BENCHMARK_MODEL, Case("joint_space_time", 2), "ours", "train"
    )
    # The whole peak holds the interpreter, torch and the model: far more than one tiny step adds.
    assert 0 <= rise_mib < whole_mib and whole_mib > 50
