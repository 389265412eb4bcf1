"""The engine: training and test loops, launching them on one or many processes and machines
(directly, under Slurm scripts or as a submitit job), and single-process inference for the tools.

* :mod:`~timesformer.engine.trainer` — ``train``, ``train_epoch``
* :mod:`~timesformer.engine.validation` — ``eval_epoch``: top-k errors, or mAP (multi-label)
* :mod:`~timesformer.engine.tester` — ``test``: multi-view testing and the results file
* :mod:`~timesformer.engine.launch` — ``launch_job``, ``train_then_test``, the run_net command line
* :mod:`~timesformer.engine.submitit_job` — ``NodeJob``, what each node of a submitit job runs
* :mod:`~timesformer.engine.submission` — the submission protocol of ``tools/submit.py``: the
  node job, its config check, the job folder, ``submission.json``, the executor, the wait
* :mod:`~timesformer.engine.sbatch_options` — what a submitted job asks Slurm for, each value
  checked before it reaches the sbatch script
* :mod:`~timesformer.engine.inference`, :mod:`~timesformer.engine.feature_store` — for the tools
"""

# Every module that registers the values a config key takes (attention types, models, datasets,
# Mixup modes, spatial crops, optimizers, losses, LR policies, mixed-precision dtypes, ensemble
# methods), imported with the engine, which every command line imports (run_net's launch, each
# timesformer.cli tool): no config check of those keys is skipped, whatever the tool runs.
from timesformer import datasets, models  # noqa: E402, F401
from timesformer.datasets import mixup, transform  # noqa: E402, F401
from timesformer.models import losses, optimizer  # noqa: E402, F401
from timesformer.utils import lr_policy, meters, precision  # noqa: E402, F401
