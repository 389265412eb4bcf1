"""The names of the file formats the tools write, known without loading torch, so that a command
line's ``--format`` choices answer at once; each writer takes its formats from here."""

EXPORT_FORMATS = ("torchscript", "exported", "onnx")
"""The files :mod:`timesformer.models.export` writes (tools/export.py's ``--format``)."""

FEATURE_FORMATS = ("npy", "pt")
"""The feature files :class:`timesformer.engine.feature_store.FeatureStore` writes
(tools/extract_features.py's ``--format``)."""
