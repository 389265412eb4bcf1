"""Train a TimeSformer model (without the test that run_net.py runs after training).

    python tools/train_net.py --cfg CONFIG.yaml [KEY VALUE ...]

The same command line as tools/run_net.py; the loop is timesformer.engine.trainer.train.
"""

from timesformer.cli.run_command import run_command_line


def main(argv: list[str] | None = None) -> int:
    """The run: :func:`~timesformer.cli.run_command.run_command_line` with the training
    loop; returns the
    exit status."""
    return run_command_line(argv, "train", __doc__ or "")
