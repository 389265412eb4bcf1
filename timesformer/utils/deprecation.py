"""Old module paths kept working: a module that moved leaves behind a short module whose
attributes forward, with a ``DeprecationWarning``, to the module's new path.

The forward is looked up when an attribute is first read (PEP 562 ``__getattr__``), never when
the old module is imported, so that importing it never imports the layer the code moved to.
"""

import importlib
import warnings
from collections.abc import Callable


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
