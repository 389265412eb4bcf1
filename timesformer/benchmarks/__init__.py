"""Benchmarks: how fast and how lean the package runs, measured the way ``tools/benchmark.py``
and ``tools/benchmark_model.py`` report it (their command lines: :mod:`timesformer.cli`).

* :mod:`~timesformer.benchmarks.synthetic_videos` — the synthetic videos a loader benchmark reads
* :mod:`~timesformer.benchmarks.decode_floor` — the decode floor: clips/s if decoding were all
* :mod:`~timesformer.benchmarks.loader_speed` — the training loader's clips/s against the floor
  and a naive PyAV loader, and the report of both
* :mod:`~timesformer.benchmarks.mirror_sources`, :mod:`~timesformer.benchmarks.mirror_speed` —
  the loader on videos like the Kinetics mirrors' (720p, audio) and on their prepared versions
  (``--sources mirrors``); :mod:`~timesformer.benchmarks.gpu_estimate` — the GPU rate it assumes
* :mod:`~timesformer.benchmarks.model_pair` — our TimeSformer and Hugging Face's, same weights,
  and one step of each
* :mod:`~timesformer.benchmarks.model_speed` — their throughput, FLOPs utilization, peak memory
  and the report of them
* :mod:`~timesformer.benchmarks.machine` — the machine a benchmark ran on

The layer beside the engine: it reads models, checkpoint formats and datasets, and nothing
imports it but the command lines.
"""
