"""Deprecated path of :mod:`timesformer.checkpoint.hugging_face`
(Hugging Face names and config): its names forward there with a ``DeprecationWarning``."""

from timesformer.utils.deprecation import forward_to_moved_module

__getattr__ = forward_to_moved_module(__name__, "timesformer.checkpoint.hugging_face")
