"""What every config check is made of: the one error (:class:`ConfigError`) and the two rules
that raise it, naming the key, the value found and what is expected."""

from timesformer.errors import TimesformerError

ONLY_TIMESFORMER = (
    "this project has only the TimeSformer models (MODEL.ARCH vit), not the original's SlowFast, "
    "X3D, ResNet (C2D, I3D, Slow) or AVA detection models"
)
_MODEL_KEYS = ("MODEL.ARCH", "MODEL.MODEL_NAME")


class ConfigError(TimesformerError, ValueError):
    """A config value, or a combination of values, that no run can use: a mistake in the config
    or the command line (exit status 2)."""

    exit_status = 2


def require(condition: bool, message: str) -> None:
    """Raise :class:`ConfigError` with ``message`` unless ``condition``."""
    if not condition:
        raise ConfigError(message)


def one_of(key: str, value, allowed) -> None:
    """``value`` of ``key`` must be one of ``allowed``."""
    require(
        value in allowed,
        f"{key} is {value!r}; expected one of {', '.join(map(repr, allowed))}"
        + (f": {ONLY_TIMESFORMER}." if key in _MODEL_KEYS else "."),
    )
