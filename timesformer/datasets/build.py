"""DATASET_REGISTRY and ``build_dataset(name, cfg, split)``."""

from fvcore.common.registry import Registry

DATASET_REGISTRY = Registry("DATASET")
DATASET_REGISTRY.__doc__ = """Datasets by name (TRAIN.DATASET / TEST.DATASET); called as ``Dataset(cfg, split)``."""
