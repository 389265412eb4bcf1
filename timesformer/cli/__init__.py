"""The command lines of the tools: one module per tool of ``tools/``, each holding that tool's
argument parser, the text its ``--help`` shows, and ``main(argv: list[str] | None = None) ->
int`` (its exit status); ``tools/<tool>.py`` only calls that ``main``. :mod:`timesformer.cli.main`
is the ``timesformer`` command (and ``python -m timesformer``): one subcommand per tool.

The layer above the engine: a command line may import any part of the package, and no part of
the package imports it. ``run_net``, ``train_net`` and ``test_net`` are
:func:`timesformer.cli.run_command.run_command_line` with their loop.

A tool's module imports torch only inside its ``main``, once its arguments and config are checked:
``--help``, a bad option and most config mistakes answer before torch loads.
"""
