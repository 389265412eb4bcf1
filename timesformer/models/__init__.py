"""Models: the TimeSformer family, registered by name."""

from timesformer.models.build import MODEL_REGISTRY

__all__ = ["MODEL_REGISTRY"]
