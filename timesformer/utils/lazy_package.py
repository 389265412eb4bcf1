"""Packages whose names load on first use (PEP 562 ``__getattr__``): importing
:mod:`timesformer.datasets` or :mod:`timesformer.models` alone loads no torch, so that a tool
answers ``--help`` and names a config mistake before torch loads, while ``from
timesformer.models import build_model`` works as it always has."""

import importlib
import sys
from collections.abc import Callable, Iterable


def import_modules(package: str, modules: Iterable[str]) -> None:
    """Import ``package.MODULE`` for each of ``modules`` (each registers what it implements)."""
    for module in modules:
        importlib.import_module(f"{package}.{module}")


def lazy_exports(
    package: str, exports: dict[str, str], register: Callable[[], None]
) -> Callable[[str], object]:
    """The ``__getattr__`` of ``package``: the name ``NAME`` of :data:`exports` is the attribute
    of submodule ``package.exports[NAME]``, imported on first use after ``register()`` (the
    package's implementations registered, as importing the package once did)."""

    def __getattr__(name: str) -> object:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        register()
        value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
