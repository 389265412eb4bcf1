"""TimeSformer: space-time attention video transformers, trained from a config."""

__version__ = "0.1.0"
