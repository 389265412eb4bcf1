"""Models: the TimeSformer family, registered by name (importing this package registers them)."""

from timesformer.models.build import MODEL_REGISTRY, build_model
from timesformer.models.vit import TimeSformer, VisionTransformer, vit_base_patch16_224

__all__ = [
    "MODEL_REGISTRY",
    "TimeSformer",
    "VisionTransformer",
    "build_model",
    "vit_base_patch16_224",
]
