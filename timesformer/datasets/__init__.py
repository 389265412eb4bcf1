"""Video datasets, registered by name, and their loaders."""

from timesformer.datasets.build import DATASET_REGISTRY

__all__ = ["DATASET_REGISTRY"]
