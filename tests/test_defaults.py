"""The default config tree and every shipped YAML file: they load and pass the checks, the
published recipes, the original's computation, ViT-Base defaults."""

import glob
import os

import pytest
import timm

from helpers import REPO_ROOT
from timesformer.checkpoint.imagenet import imagenet_weights_source
from timesformer.config import assert_and_infer_cfg, get_cfg
from timesformer.config.batch import iteration_batch_size
from timesformer.config.merge import merge_overrides, merge_yaml_file
from timesformer.models.build import build_bare_model

CONFIG_FILES = sorted(glob.glob(os.path.join(REPO_ROOT, "configs", "*", "*.yaml")))


def test_every_config_folder_has_files():
    folders = {os.path.basename(os.path.dirname(path)) for path in CONFIG_FILES}
    assert folders == {
        "Kinetics",
        "SSv2",
        "HowTo100M",
        "Demo",
        "UCF101",
        "HMDB51",
        "Charades",
        "Custom",
    }


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: os.path.relpath(p, REPO_ROOT))
def test_shipped_config_loads_and_passes_checks(path):
    cfg = merge_yaml_file(get_cfg(), path)
    # Configs for 8-GPU machines are checked here without looking for the GPUs.
    assert_and_infer_cfg(cfg, check_devices=False)
    assert cfg.TIMESFORMER.ATTENTION_TYPE in (
        "divided_space_time",
        "joint_space_time",
        "space_only",
    )


def test_published_kinetics_recipe():
    cfg = merge_yaml_file(
        get_cfg(), os.path.join(REPO_ROOT, "configs/Kinetics/TimeSformer_divST_8x32_224.yaml")
    )
    assert cfg.SOLVER.OPTIMIZING_METHOD == "sgd"
    assert cfg.SOLVER.BASE_LR == 0.005
    assert list(cfg.SOLVER.STEPS) == [0, 11, 14] and list(cfg.SOLVER.LRS) == [1, 0.1, 0.01]
    assert cfg.SOLVER.MAX_EPOCH == 15 and cfg.SOLVER.MOMENTUM == 0.9
    assert cfg.SOLVER.WEIGHT_DECAY == pytest.approx(1e-4)
    assert list(cfg.DATA.TRAIN_JITTER_SCALES) == [256, 320]
    assert (cfg.TEST.NUM_ENSEMBLE_VIEWS, cfg.TEST.NUM_SPATIAL_CROPS) == (1, 3)
    assert (cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE, cfg.DATA.TRAIN_CROP_SIZE) == (8, 32, 224)


def test_ssv2_recipe_has_174_classes_and_no_flips():
    for path in glob.glob(os.path.join(REPO_ROOT, "configs/SSv2/*.yaml")):
        cfg = merge_yaml_file(get_cfg(), path)
        assert cfg.MODEL.NUM_CLASSES == 174
        assert cfg.DATA.RANDOM_FLIP is False


SMALL_DATA_RECIPES = {
    "Custom": ("kinetics", 10),
    "UCF101": ("ucf101", 101),
    "HMDB51": ("hmdb51", 51),
}


@pytest.mark.parametrize("folder", sorted(SMALL_DATA_RECIPES))
def test_small_data_recipe_presets(folder):
    """The fine-tuning recipe (docs/finetuning.md) on each dataset: its tools on, 64 clips per
    step on 8 GPUs without accumulation, the dataset's own data keys kept."""
    path = os.path.join(
        REPO_ROOT, "configs", folder, "TimeSformer_divST_8x32_224_finetune_recipe.yaml"
    )
    cfg = assert_and_infer_cfg(merge_yaml_file(get_cfg(), path), check_devices=False)
    dataset, classes = SMALL_DATA_RECIPES[folder]
    assert (cfg.TRAIN.DATASET, cfg.TEST.DATASET, cfg.MODEL.NUM_CLASSES) == (
        dataset,
        dataset,
        classes,
    )
    assert cfg.TRAIN.FINETUNE and cfg.TRAIN.CHECKPOINT_FILE_PATH
    assert cfg.SOLVER.LAYER_DECAY == 0.7 and cfg.SOLVER.OPTIMIZING_METHOD == "adamw"
    assert cfg.AUG.ENABLE and cfg.MODEL_EMA.ENABLE and cfg.MIXUP.ENABLED
    assert iteration_batch_size(cfg) == cfg.GLOBAL_BATCH_SIZE == 64
    assert cfg.SOLVER.BASE_LR == pytest.approx(5e-4 * 64 / 256)


ORIGINAL_RECIPE_FILES = [
    path
    for path in CONFIG_FILES
    if os.path.basename(os.path.dirname(path)) in {"Kinetics", "SSv2", "HowTo100M"}
]
"""The configs of the original's recipes (not the demo's, nor the fine-tuning configs of this
project's own datasets: UCF101, HMDB51, Charades)."""


@pytest.mark.parametrize("path", ORIGINAL_RECIPE_FILES, ids=lambda p: os.path.relpath(p, REPO_ROOT))
def test_shipped_recipes_compute_what_the_original_computes(path, monkeypatch):
    """Every Kinetics, SSv2 and HowTo100M config names the original's ImageNet weights, and
    neither loading it nor building its model fetches them."""

    def no_weights(*args, **kwargs):
        raise AssertionError("timm.create_model called: ImageNet weights fetched or loaded")

    monkeypatch.setattr(timm, "create_model", no_weights)
    cfg = assert_and_infer_cfg(merge_yaml_file(get_cfg(), path), check_devices=False)
    assert imagenet_weights_source(cfg.TIMESFORMER.PRETRAINED_MODEL) == (
        "vit_base_patch16_224.orig_in21k_ft_in1k"
    )
    # The original's defaults: raw logits summed over views, every parameter decayed.
    assert (cfg.TEST.ENSEMBLE_METHOD, cfg.TEST.ENSEMBLE_SOFTMAX) == ("sum", False)
    assert cfg.SOLVER.ZERO_WD_1D_PARAM is False
    # MODEL.DROPOUT_RATE 0.5, as in the original YAML files, which never applied it.
    assert cfg.MODEL.DROPOUT_RATE == 0.5 and cfg.MODEL.HEAD_DROPOUT_RATE == 0.0
    tiny = ["TIMESFORMER.EMBED_DIM", "32", "TIMESFORMER.DEPTH", "1", "TIMESFORMER.NUM_HEADS", "2"]
    model = build_bare_model(merge_overrides(cfg, tiny))
    assert model.model.head_drop.p == 0.0


def test_defaults_are_vit_base():
    tf = get_cfg().TIMESFORMER
    assert (tf.EMBED_DIM, tf.DEPTH, tf.NUM_HEADS, tf.PATCH_SIZE, tf.MLP_RATIO) == (
        768,
        12,
        12,
        16,
        4.0,
    )


# ---------------------------------------------------------------------------- #
# Value types: every key has one, including those whose default is None
# ---------------------------------------------------------------------------- #
