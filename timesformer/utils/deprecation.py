"""Old names kept working, with a ``DeprecationWarning``: a module that moved leaves behind a
short module whose attributes forward to the module's new path, and a function that was renamed
keeps its old name as an alias (:func:`renamed_function`).

The forward is looked up when an attribute is first read (PEP 562 ``__getattr__``), never when
the old module is imported, so that importing it never imports the layer the code moved to.
"""

import functools
import importlib
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

_Params = ParamSpec("_Params")
_Result = TypeVar("_Result")


def forward_to_moved_module(old_name: str, new_name: str) -> Callable[[str], object]:
    """The module ``__getattr__`` of ``old_name``: warn that it moved to ``new_name``, then return
    ``new_name``'s attribute of that name."""

    def moved_attribute(name: str) -> object:
        if name.startswith("__"):  # module internals (``__all__``, ``__wrapped__``...) stay its own
            raise AttributeError(f"module {old_name!r} has no attribute {name!r}")
        warnings.warn(
            f"{old_name} is deprecated: it moved to {new_name}; import {name} from there.",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(new_name), name)

    return moved_attribute


def renamed_function(
    function: Callable[_Params, _Result], old_name: str
) -> Callable[_Params, _Result]:
    """``function`` under its former name ``old_name``: each call warns that the name is
    deprecated, then calls ``function`` with the same arguments."""

    @functools.wraps(function)
    def deprecated_alias(*args: _Params.args, **kwargs: _Params.kwargs) -> _Result:
        warnings.warn(
            f"{function.__module__}.{old_name} is deprecated: call {function.__name__}, its new "
            "name, with the same arguments.",
            DeprecationWarning,
            stacklevel=2,
        )
        return function(*args, **kwargs)

    deprecated_alias.__name__ = deprecated_alias.__qualname__ = old_name
    return deprecated_alias
