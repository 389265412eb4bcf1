"""The engine: training and test loops, launching them on one or many processes and machines
(directly, under Slurm scripts or as a submitit job), and single-process inference for the tools.

* :mod:`~timesformer.engine.trainer` — ``train``, ``train_epoch``
* :mod:`~timesformer.engine.validation` — ``eval_epoch``: top-k errors, or mAP (multi-label)
* :mod:`~timesformer.engine.tester` — ``test``: multi-view testing and the results file
* :mod:`~timesformer.engine.launch` — ``launch_job``, ``train_then_test``, ``start_run``
  (what run_net's command line starts)
* :mod:`~timesformer.engine.submitit_job` — ``NodeJob``, what each node of a submitit job runs
* :mod:`~timesformer.engine.submission` — the submission protocol of ``tools/submit.py``: the
  node job, its config check, the job folder, ``submission.json``, the executor, the wait
* :mod:`~timesformer.engine.console_progress`, :mod:`~timesformer.engine.run_summary`,
  :mod:`~timesformer.engine.training_notes` — what a run shows on the console
* :mod:`~timesformer.engine.inference`, :mod:`~timesformer.engine.feature_store`,
  :mod:`~timesformer.engine.feature_timeline` — for the tools
* :mod:`~timesformer.engine.timeline` — the timeline of a long video or a live stream in one
  streaming pass
"""

# Every module that registers the values a config key takes (attention types, models, datasets,
# Mixup modes, spatial crops, optimizers, losses, LR policies, mixed-precision dtypes, ensemble
# methods), imported with the engine, which every command line's load_config imports once the
# other values are checked (timesformer.utils.parser): no config check of those keys is skipped,
# whatever the tool runs.
from timesformer.datasets import mixup, register_datasets, transform  # noqa: E402, F401
from timesformer.models import losses, optimizer, register_models  # noqa: E402, F401
from timesformer.utils import lr_policy, meters, precision  # noqa: E402, F401

register_datasets()
register_models()
