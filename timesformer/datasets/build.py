"""DATASET_REGISTRY and ``build_dataset(name, cfg, split)``."""

from fvcore.common.registry import Registry

from timesformer.config.checks import register_allowed_values
from timesformer.datasets.clip_dataset import ClipDataset

DATASET_REGISTRY = Registry("DATASET")
DATASET_REGISTRY.__doc__ = (
    """Datasets by name (TRAIN.DATASET / TEST.DATASET); called as ``Dataset(cfg, split)``."""
)


def registered_dataset_names() -> list[str]:
    """Names ``build_dataset`` accepts (lower case): kinetics, ssv2, howto100m, ..."""
    return sorted(name.lower() for name, _ in _registry())


def _registry() -> Registry:
    """DATASET_REGISTRY, with this package's datasets registered (importing this module alone
    registers none: each dataset module imports it)."""
    from timesformer.datasets import register_datasets

    register_datasets()
    return DATASET_REGISTRY


register_allowed_values("TRAIN.DATASET", registered_dataset_names, ignore_case=True)
register_allowed_values("TEST.DATASET", registered_dataset_names, ignore_case=True)


def dataset_class(name: str) -> type[ClipDataset]:
    """The registered dataset class of ``name`` (case-insensitive, e.g. "kinetics").

    Raises:
        KeyError: ``name`` is not registered; the message lists the registered names.
    """
    by_lower_name = {registered.lower(): dataset for registered, dataset in _registry()}
    dataset = by_lower_name.get(name.lower())
    if dataset is None:
        raise KeyError(
            f"Dataset {name!r} is not registered; expected one of: "
            f"{', '.join(registered_dataset_names())} "
            "(TRAIN.DATASET / TEST.DATASET)."
        )
    return dataset


def build_dataset(name: str, cfg, split: str) -> ClipDataset:
    """Build dataset ``name`` (case-insensitive) for ``split`` ("train", "val", "test")."""
    return dataset_class(name)(cfg, split)
