"""Does the small-dataset fine-tuning recipe beat plain fine-tuning? Measured on the demo's task.

A tiny divided space-time model (the demo's config) is pretrained on the two-direction demo set
(:mod:`timesformer.datasets.demo_data`: left, right), then fine-tuned, for each seed, to a new
small task made the same way: four directions (left, right, up, down), a few training clips per
class, from a set of its own (another data seed). Two ways, the same epochs, data and seeds:
plain fine-tuning (TRAIN.FINETUNE with the demo config's solver, as a user would start) and the
recipe (:data:`RECIPE`: layer-wise LR decay, an EMA of the weights, RandAugment and random
erasing, after VideoMAE's fine-tuning). Each run is the framework's own: the engine's train,
then its test of the last checkpoint (the EMA weights where the recipe keeps them); the figure is
the ``test_final`` top-1.

The cost per training step of each option is timed in the same process: short runs of plain
fine-tuning, with each option added alone, and of the whole recipe, in interleaved rounds, the
per-iteration times read from the runs' ``train_iter`` json_stats (LOG_PERIOD 1; the first epoch
and the first iteration of each epoch left out: worker start and first batch).

The loops are passed in (:class:`Loops`: the CLI hands over the engine's), so that this module
sits below the engine as the other benchmarks do.
"""

import os
import shutil
import statistics
from argparse import Namespace
from collections.abc import Callable
from typing import NamedTuple

from fvcore.common.config import CfgNode

from timesformer.benchmarks.finetune_settings import Settings
from timesformer.benchmarks.machine import load_average, machine_description
from timesformer.checkpoint.training_state import get_path_to_checkpoint
from timesformer.config import ConfigError
from timesformer.datasets.demo_data import DemoSpec, generate_demo_dataset
from timesformer.utils.logging import LOG_FILE_NAME, read_json_stats
from timesformer.utils.parser import load_config

RECIPE: tuple[tuple[str, str, str], ...] = (
    (
        "SOLVER.LAYER_DECAY",
        "0.9",
        "VideoMAE 0.75 (UCF101: 0.7); beside the augmentation, 0.75 scored 4 points below 0.9 "
        "in the tuning runs (likely: pretraining taught the lower layers left / right only)",
    ),
    ("MODEL_EMA.ENABLE", "True", "VideoMAE's --model_ema (timm's ModelEma)"),
    (
        "MODEL_EMA.DECAY",
        "0.95",
        "VideoMAE's 0.9999 averages the last ~10k steps of a long run; 0.95 the last ~20 "
        "(5 epochs of 4 steps)",
    ),
    ("MODEL_EMA.WARMUP", "True", "timm's warm-up: the short run's average leaves its start"),
    ("AUG.ENABLE", "True", "VideoMAE fine-tunes with RandAugment and random erasing"),
    (
        "AUG.AA_TYPE",
        "rand-m7-n1-mstd0.5-inc1",
        "VideoMAE's rand-m7-n4-mstd0.5-inc1 with one op per clip: four instead of one cost 21 "
        "points in the tuning runs (64-pixel clips)",
    ),
    ("AUG.RE_PROB", "0.25", "VideoMAE (--reprob 0.25)"),
    ("AUG.RE_MODE", "pixel", "VideoMAE (--remode pixel)"),
    ("AUG.RE_COUNT", "1", "VideoMAE (--recount 1)"),
)
"""The recipe: (config key, value, where the value comes from). The one place of its values;
the docs quote :func:`recipe_table`. The tuning runs it cites are in docs/finetuning.md: 60
epochs, on the small set of :data:`TUNING_DATA_SEED`, not the one measured."""

OPTION_PREFIXES = {
    "plain": (),
    "+EMA": ("MODEL_EMA.",),
    "+RandAugment, erasing": ("AUG.",),
    "+LLRD": ("SOLVER.LAYER_DECAY",),
    "recipe": ("",),
}
"""The ways timed for the cost per step: the recipe's keys whose names start so, over plain."""

TUNING_DATA_SEED = 1
"""The data seed of the small set the recipe's tiny-scale values were tuned on."""
FINETUNE_DIRECTIONS = 4
"""The small task's classes: left, right, up, down."""


class Loops(NamedTuple):
    """The engine's loops: ``train(cfg)`` and ``test(cfg) -> test_final stats``."""

    train: Callable[[CfgNode], object]
    test: Callable[[CfgNode], dict | None]


def recipe_overrides(prefixes: tuple[str, ...] = ("",)) -> list[str]:
    """KEY VALUE overrides of the recipe's keys whose names start with one of ``prefixes``."""
    overrides = []
    for key, value, _ in RECIPE:
        if key.startswith(prefixes):
            overrides += [key, value]
    return overrides


def _data(settings: Settings, folder: str, spec: DemoSpec) -> str:
    """Generate the set ``spec`` under the work folder (once; reused); return its folder."""
    root = os.path.join(settings.work_dir, folder)
    generate_demo_dataset(root, spec)
    return root


def pretrain_data(settings: Settings) -> str:
    """The two-direction demo set of the pretraining."""
    clips, test = settings.pretrain_clips, max(2, settings.pretrain_clips // 4)
    counts = {"train": clips, "val": max(2, test // 2), "test": test}
    return _data(settings, "pretrain_data", DemoSpec(clips_per_class=counts))


def finetune_data(settings: Settings) -> str:
    """The small four-direction set of the fine-tuning."""
    val = max(2, settings.test_clips // 5)
    counts = {"train": settings.train_clips, "val": val, "test": settings.test_clips}
    spec = DemoSpec(counts, seed=settings.data_seed, directions=FINETUNE_DIRECTIONS)
    return _data(settings, f"finetune_data_seed{settings.data_seed}", spec)


def run_config(
    settings: Settings, data: str, output: str, epochs: int, overrides: list[str]
) -> CfgNode:
    """The demo config for a fresh run on ``data`` into ``work_dir/output`` (emptied first):
    ``epochs`` epochs, validated and saved after the last only, then ``overrides``."""
    output_dir = os.path.join(settings.work_dir, output)
    shutil.rmtree(output_dir, ignore_errors=True)
    opts = ["DATA.PATH_TO_DATA_DIR", data, "DATA.PATH_PREFIX", data, "OUTPUT_DIR", output_dir]
    opts += ["TRAIN.AUTO_RESUME", "False", "TENSORBOARD.ENABLE", "False"]
    opts += ["SOLVER.MAX_EPOCH", str(epochs), "TRAIN.EVAL_PERIOD", str(epochs)]
    opts += ["TRAIN.CHECKPOINT_PERIOD", str(epochs)]
    opts += ["DATA_LOADER.NUM_WORKERS", str(settings.num_workers)]
    return load_config(Namespace(cfg_file=settings.base_config, opts=opts + overrides))


def train_and_test(loops: Loops, cfg: CfgNode) -> float:
    """Train ``cfg``, test its last checkpoint; return the test top-1 (percent)."""
    loops.train(cfg)
    cfg.TEST.CHECKPOINT_FILE_PATH = get_path_to_checkpoint(cfg.OUTPUT_DIR, cfg.SOLVER.MAX_EPOCH - 1)
    stats = loops.test(cfg)
    assert stats is not None  # one process, the master
    return float(stats["top1_acc"])


def pretrain(settings: Settings, loops: Loops) -> tuple[str, float]:
    """(The checkpoint of the demo model trained on the two-direction set, its test top-1)."""
    cfg = run_config(
        settings, pretrain_data(settings), "pretrain", settings.pretrain_epochs, ["RNG_SEED", "0"]
    )
    top1 = train_and_test(loops, cfg)
    return cfg.TEST.CHECKPOINT_FILE_PATH, top1


def finetune_overrides(checkpoint: str, seed: int, option: str) -> list[str]:
    """From ``checkpoint``, four classes, ``seed``; the recipe's keys of ``option``."""
    opts = ["TRAIN.CHECKPOINT_FILE_PATH", checkpoint, "TRAIN.FINETUNE", "True"]
    opts += ["MODEL.NUM_CLASSES", str(FINETUNE_DIRECTIONS)]
    return opts + ["RNG_SEED", str(seed), *recipe_overrides(OPTION_PREFIXES[option])]


def finetune(settings: Settings, loops: Loops, checkpoint: str, option: str, seed: int) -> float:
    """Fine-tune ``checkpoint`` on the small set ``option``'s way; its test top-1."""
    name = f"{option.strip('+')}_seed{seed}"
    overrides = finetune_overrides(checkpoint, seed, option)
    cfg = run_config(settings, finetune_data(settings), name, settings.epochs, overrides)
    return train_and_test(loops, cfg)


def iteration_times(output_dir: str) -> tuple[list[float], list[float]]:
    """(Seconds per training iteration, seconds of it waiting for data) from the ``train_iter``
    json_stats of a run logged every iteration, the first epoch and each epoch's first
    iteration left out."""
    steps, waits = [], []
    for stats in read_json_stats(os.path.join(output_dir, LOG_FILE_NAME)):
        first = stats.get("iter", "").startswith("1/") or stats.get("epoch", "").startswith("1/")
        if stats["split"] == "train_iter" and not first:
            steps.append(stats["time_diff"])
            waits.append(stats["data_time"])
    return steps, waits


def time_options(settings: Settings, loops: Loops, checkpoint: str) -> dict:
    """Per option of :data:`OPTION_PREFIXES`: the median ms per step and ms of it waiting for
    data, and its ratio to plain, over ``timing_rounds`` interleaved rounds."""
    options = list(OPTION_PREFIXES)
    steps: dict[str, list[float]] = {option: [] for option in options}
    waits: dict[str, list[float]] = {option: [] for option in options}
    for number in range(settings.timing_rounds):
        for option in options if number % 2 == 0 else options[::-1]:
            overrides = [*finetune_overrides(checkpoint, 0, option), "LOG_PERIOD", "1"]
            name = f"timing_{option.strip('+').split(',')[0]}"
            cfg = run_config(
                settings, finetune_data(settings), name, settings.timing_epochs, overrides
            )
            loops.train(cfg)
            step, wait = iteration_times(cfg.OUTPUT_DIR)
            if not step:
                raise ConfigError(
                    f"--timing-epochs {settings.timing_epochs} times no step: the first epoch "
                    "and each epoch's first iteration are left out; raise --timing-epochs or "
                    "--train-clips."
                )
            steps[option] += step
            waits[option] += wait
    plain = statistics.median(steps["plain"])
    return {
        option: {
            "ms_per_step": 1000 * statistics.median(steps[option]),
            "data_wait_ms": 1000 * statistics.median(waits[option]),
            "over_plain": statistics.median(steps[option]) / plain,
            "steps": len(steps[option]),
        }
        for option in options
    }


def run_benchmark(settings: Settings, loops: Loops) -> dict:
    """Pretrain (unless ``settings.pretrained``), fine-tune both ways per seed, time the
    options; the report: machine, load averages, top-1 per seed and way, means, cost per step."""
    load_before = load_average()
    pretrained_top1 = None
    checkpoint = settings.pretrained
    if checkpoint is None:
        checkpoint, pretrained_top1 = pretrain(settings, loops)
    top1 = {
        option: [finetune(settings, loops, checkpoint, option, seed) for seed in settings.seeds]
        for option in ("plain", "recipe")
    }
    costs = time_options(settings, loops, checkpoint)
    means = {option: statistics.mean(values) for option, values in top1.items()}
    return {
        "machine": machine_description("cpu"),
        "load_average_before": load_before,
        "load_average_after": load_average(),
        "settings": settings.__dict__,
        "pretrained": checkpoint,
        "pretrained_top1": pretrained_top1,
        "seeds": list(settings.seeds),
        "top1": top1,
        "mean_top1": means,
        "difference": means["recipe"] - means["plain"],
        "cost": costs,
    }


def accuracy_table(report: dict) -> str:
    """Test top-1 per seed, the mean and the recipe's gain, as a markdown table."""
    seeds = report["seeds"]
    lines = [
        "| fine-tuning | " + " | ".join(f"seed {seed}" for seed in seeds) + " | mean |",
        "|---|" + "---:|" * (len(seeds) + 1),
    ]
    for option, values in report["top1"].items():
        cells = " | ".join(f"{value:.1f}" for value in values)
        lines.append(f"| {option} | {cells} | {report['mean_top1'][option]:.1f} |")
    gains = [r - p for r, p in zip(report["top1"]["recipe"], report["top1"]["plain"], strict=True)]
    cells = " | ".join(f"{gain:+.1f}" for gain in gains)
    lines.append(f"| recipe - plain | {cells} | {report['difference']:+.1f} |")
    return "\n".join(lines)


def cost_table(report: dict) -> str:
    """The cost per training step of each option, as a markdown table."""
    lines = [
        "| training | ms/step (median) | x plain | of it waiting for data, ms | steps timed |",
        "|---|---:|---:|---:|---:|",
    ]
    for option, row in report["cost"].items():
        lines.append(
            f"| {option} | {row['ms_per_step']:.1f} | {row['over_plain']:.2f} "
            f"| {row['data_wait_ms']:.1f} | {row['steps']} |"
        )
    return "\n".join(lines)


def recipe_table() -> str:
    """The recipe's values and where each comes from, as a markdown table."""
    lines = ["| key | value | from |", "|---|---|---|"]
    lines += [f"| `{key}` | `{value}` | {source} |" for key, value, source in RECIPE]
    return "\n".join(lines)
