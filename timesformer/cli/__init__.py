"""The command lines of the tools: one module per tool of ``tools/``, each holding that tool's
argument parser, the text its ``--help`` shows, and ``main(argv: list[str] | None = None) ->
int`` (its exit status); ``tools/<tool>.py`` only calls that ``main``.

The layer above the engine: a command line may import any part of the package, and no part of
the package imports it. ``tools/run_net.py``, ``train_net.py`` and ``test_net.py`` need no module
here: each is :func:`timesformer.engine.launch.run_command_line` with its loop.
"""
