"""MODEL_REGISTRY and ``build_model(cfg)``."""

from fvcore.common.registry import Registry

MODEL_REGISTRY = Registry("MODEL")
MODEL_REGISTRY.__doc__ = """Models by MODEL.MODEL_NAME; each is called as ``Model(cfg)``."""
