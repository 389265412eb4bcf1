"""What one run of the fine-tuning benchmark (:mod:`timesformer.benchmarks.finetune_recipe`)
does: its settings and their defaults, torch-free, so that its command line's ``--help`` shows
them before torch loads."""

from dataclasses import dataclass

FINETUNE_DATA_SEED = 2
"""The data seed of the small set measured by default: clips that neither the pretraining (seed
0) nor the tuning (:data:`~timesformer.benchmarks.finetune_recipe.TUNING_DATA_SEED`) saw."""


@dataclass(frozen=True)
class Settings:
    """What one benchmark run does (the command line's flags)."""

    base_config: str  # the demo's divided space-time config
    work_dir: str
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 120
    train_clips: int = 8  # per class, the small task
    test_clips: int = 50  # per class, the small task (validation: a fifth)
    pretrained: str | None = None  # a checkpoint of the two-direction task, else pretrained here
    pretrain_clips: int = 80  # per class (test: a quarter)
    pretrain_epochs: int = 12
    timing_epochs: int = 5
    timing_rounds: int = 2
    num_workers: int = 2
    data_seed: int = FINETUNE_DATA_SEED  # of the small set
