"""The tiny TimeSformer configs the model and checkpoint tests build."""

from timesformer.config.defaults import get_cfg

ATTENTION_TYPES = ("divided_space_time", "joint_space_time", "space_only")


def tiny_model_cfg(attention_type="divided_space_time", crop=32, frames=4, classes=5, **overrides):
    """A 2-block, 32-wide TimeSformer (4 heads, patches of 8) on ``frames`` x ``crop`` px, CPU.

    ``overrides``: ``SECTION__KEY=value`` pairs, e.g. ``TIMESFORMER__DEPTH=3``.
    """
    cfg = get_cfg()
    cfg.NUM_GPUS = 0
    cfg.TIMESFORMER.ATTENTION_TYPE = attention_type
    cfg.TIMESFORMER.EMBED_DIM = 32
    cfg.TIMESFORMER.DEPTH = 2
    cfg.TIMESFORMER.NUM_HEADS = 4
    cfg.TIMESFORMER.PATCH_SIZE = 8
    cfg.DATA.TRAIN_CROP_SIZE = crop
    cfg.DATA.NUM_FRAMES = frames
    cfg.MODEL.NUM_CLASSES = classes
    for key, value in overrides.items():
        section, name = key.split("__")
        cfg[section][name] = value
    return cfg
