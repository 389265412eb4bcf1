"""Models: the TimeSformer family, registered by name.

The models register when the package's names below are first used (``from timesformer.models
import build_model``), and whenever the registry is read
(:func:`~timesformer.models.build.registered_model_names`). Importing the package alone loads
none of it, so that the tools answer ``--help`` before torch loads (PEP 562 ``__getattr__``).
"""

from typing import TYPE_CHECKING

from timesformer.utils.lazy_package import import_modules, lazy_exports

if TYPE_CHECKING:  # the names __getattr__ gives, for type checkers (__all__ lists them)
    from timesformer.models.build import MODEL_REGISTRY, build_model  # noqa: F401
    from timesformer.models.vit import TimeSformer, VisionTransformer, vit_base_patch16_224  # noqa: F401

MODEL_MODULES = ("vit",)
"""The modules of this package that register models (MODEL_REGISTRY)."""

_EXPORTS = {
    "MODEL_REGISTRY": "build",
    "build_model": "build",
    "TimeSformer": "vit",
    "VisionTransformer": "vit",
    "vit_base_patch16_224": "vit",
}

__all__ = sorted(_EXPORTS)


def register_models() -> None:
    """Import every module of :data:`MODEL_MODULES`, which registers its models."""
    import_modules(__name__, MODEL_MODULES)


__getattr__ = lazy_exports(__name__, _EXPORTS, register_models)
