"""The command line of ``tools/run_net.py``, ``train_net.py`` and ``test_net.py``:
``--cfg FILE [--init_method URL] [--shard_id N] [--num_shards N] [KEY VALUE ...]``.

The arguments and the config are checked before the engine (and torch) loads, so that ``--help``,
a bad option and a config mistake answer at once.
"""

from typing import Literal

from timesformer.cli.config_loading import load_command_config
from timesformer.utils.launcher_environment import launcher_environment
from timesformer.utils.parser import build_arg_parser
from timesformer.utils.user_errors import errors_end_in_one_line

Loop = Literal["train_then_test", "train", "test"]


def run_command_line(argv: list[str] | None, loop: Loop, description: str) -> int:
    """Run ``loop`` (run_net.py's train-then-test flow, training, or the test) from the command
    line ``argv``, in one process that starts the machine's others, or in each process a launcher
    started (torchrun, a PyTorchJob: its environment gives the job's shape and rendezvous;
    ``--init_method`` is then unused); returns the exit status.

    A :class:`~timesformer.errors.TimesformerError`, met at any step in any of the processes,
    ends the run with one line ``TOOL: error: MESSAGE`` and its exit status (2 for a config
    mistake, else 1), without a traceback. The steps after the config are
    :func:`timesformer.engine.launch.start_run`'s.
    """
    parser = build_arg_parser(description, launch=True)
    args = parser.parse_args(argv)
    with errors_end_in_one_line(parser):
        environment = launcher_environment()
        cfg = load_command_config(args, environment=environment)
        from timesformer.engine import launch, tester, trainer

        loops = {
            "train_then_test": launch.train_then_test,
            "train": trainer.train,
            "test": tester.test,
        }
        launch.start_run(cfg, args.init_method, loops[loop], environment, trains=loop != "test")
    return 0
