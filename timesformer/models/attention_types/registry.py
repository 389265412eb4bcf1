"""ATTENTION_TYPE_REGISTRY: the attention types by TIMESFORMER.ATTENTION_TYPE, and what the
config checks read of them (their names, and the weight matrices of a block)."""

from fvcore.common.registry import Registry

from timesformer.config.checks import register_allowed_values
from timesformer.config.memory import register_block_matrices
from timesformer.models.attention_types.spec import AttentionSpec

ATTENTION_TYPE_REGISTRY = Registry("ATTENTION_TYPE")
ATTENTION_TYPE_REGISTRY.__doc__ = """Attention types by TIMESFORMER.ATTENTION_TYPE: subclasses of
:class:`~timesformer.models.attention_types.spec.AttentionSpec`, named as the value."""


def attention_type_names() -> tuple[str, ...]:
    """The registered TIMESFORMER.ATTENTION_TYPE values, in the order they were registered."""
    return tuple(name for name, _ in ATTENTION_TYPE_REGISTRY)


def attention_spec(name: str) -> type[AttentionSpec]:
    """The registered attention type ``name``.

    Raises:
        ValueError: ``name`` is not registered (the message lists the names that are).
    """
    if name not in ATTENTION_TYPE_REGISTRY:
        raise ValueError(
            f"attention_type is {name!r}; expected one of {', '.join(attention_type_names())}."
        )
    return ATTENTION_TYPE_REGISTRY.get(name)


def _block_matrices(name: str) -> int:
    return attention_spec(name).block_matrices


register_allowed_values("TIMESFORMER.ATTENTION_TYPE", attention_type_names)
register_block_matrices(_block_matrices)
