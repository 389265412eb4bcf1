"""The dtypes the model benchmark runs at, by the names its command line takes (``--dtype``,
``--reference-dtype``): torch-free, so that its ``--help`` lists them before torch loads;
:data:`timesformer.benchmarks.model_pair.DTYPES` maps each to its torch dtype."""

DTYPE_NAMES = ("fp32", "bf16")
