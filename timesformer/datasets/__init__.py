"""Video datasets, registered by name, and their loaders.

The datasets ``kinetics``, ``ssv2``, ``howto100m``, ``ucf101``, ``hmdb51`` and ``charades``
register when the package's names below are first used (``from timesformer.datasets import
build_dataset``), and whenever the registry is read
(:func:`~timesformer.datasets.build.registered_dataset_names`). Importing the package alone loads
none of it, so that the torch-free parts (``timesformer.datasets.preparation``, the tools'
``--help``) stay torch-free (PEP 562 ``__getattr__``).
"""

from typing import TYPE_CHECKING

from timesformer.utils.lazy_package import import_modules, lazy_exports

if TYPE_CHECKING:  # the names __getattr__ gives, for type checkers (__all__ lists them)
    from timesformer.datasets.build import DATASET_REGISTRY, build_dataset  # noqa: F401
    from timesformer.datasets.loader import build_loader, construct_loader, shuffle_dataset  # noqa: F401

DATASET_MODULES = ("charades", "hmdb51", "howto100m", "kinetics", "ssv2", "ucf101")
"""The modules of this package that each register one dataset."""

_EXPORTS = {
    "DATASET_REGISTRY": "build",
    "build_dataset": "build",
    "build_loader": "loader",
    "construct_loader": "loader",
    "shuffle_dataset": "loader",
}

__all__ = sorted(_EXPORTS)


def register_datasets() -> None:
    """Import every module of :data:`DATASET_MODULES`, which registers its dataset."""
    import_modules(__name__, DATASET_MODULES)


__getattr__ = lazy_exports(__name__, _EXPORTS, register_datasets)
