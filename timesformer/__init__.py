"""TimeSformer: space-time attention video transformers, trained from a config.

Importing the package imports nothing else, so that a command line can answer ``--help``
before torch loads. The values some config keys take (attention types, models, datasets,
optimizers, losses, LR policies...) are registered by the modules that implement them, which
``timesformer.engine`` imports, and with it every command line; a script that checks a config
without the engine imports ``timesformer.engine`` first, or its checks of those keys are skipped
(see :func:`timesformer.config.checks.register_allowed_values`).
"""

__version__ = "0.1.0"
