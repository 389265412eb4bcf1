"""Video datasets, registered by name, and their loaders.

Importing this package registers ``kinetics``, ``ssv2`` and ``howto100m``.
"""

from timesformer.datasets import howto100m, kinetics, ssv2  # noqa: F401  (register the datasets)
from timesformer.datasets.build import DATASET_REGISTRY, build_dataset
from timesformer.datasets.loader import build_loader, construct_loader, shuffle_dataset

__all__ = [
    "DATASET_REGISTRY",
    "build_dataset",
    "build_loader",
    "construct_loader",
    "shuffle_dataset",
]
