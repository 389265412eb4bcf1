"""Video datasets, registered by name, and their loaders.

Importing this package registers ``kinetics``, ``ssv2``, ``howto100m``, ``ucf101``, ``hmdb51``
and ``charades``.
"""

from timesformer.datasets import (  # noqa: F401  (register the datasets)
    charades,
    hmdb51,
    howto100m,
    kinetics,
    ssv2,
    ucf101,
)
from timesformer.datasets.build import DATASET_REGISTRY, build_dataset
from timesformer.datasets.loader import build_loader, construct_loader, shuffle_dataset

__all__ = [
    "DATASET_REGISTRY",
    "build_dataset",
    "build_loader",
    "construct_loader",
    "shuffle_dataset",
]
