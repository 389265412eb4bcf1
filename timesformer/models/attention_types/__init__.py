"""The attention types (TIMESFORMER.ATTENTION_TYPE), one module each: ``divided_space_time``,
``joint_space_time``, ``space_only``.

Each module registers an :class:`~timesformer.models.attention_types.spec.AttentionSpec` in
``ATTENTION_TYPE_REGISTRY``; importing this package imports every module in it, so that a new
attention type is one new module here.
"""

import importlib
import pkgutil

from timesformer.models.attention_types.registry import (
    ATTENTION_TYPE_REGISTRY,
    attention_spec,
    attention_type_names,
)
from timesformer.models.attention_types.spec import AttentionSpec, BlockAttention

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "ATTENTION_TYPE_REGISTRY",
    "AttentionSpec",
    "BlockAttention",
    "attention_spec",
    "attention_type_names",
]
