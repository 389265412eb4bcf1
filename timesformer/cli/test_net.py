"""Test a TimeSformer model on every view of every test video.

    python tools/test_net.py --cfg CONFIG.yaml TEST.CHECKPOINT_FILE_PATH model.pyth [KEY VALUE ...]

The same command line as tools/run_net.py; the loop is timesformer.engine.tester.test.
Without TEST.CHECKPOINT_FILE_PATH the last checkpoint of OUTPUT_DIR is tested.
"""

from timesformer.cli.run_command import run_command_line


def main(argv: list[str] | None = None) -> int:
    """The run: :func:`~timesformer.cli.run_command.run_command_line` with the test loop
    (no ImageNet weights fetched); returns the exit status."""
    return run_command_line(argv, "test", __doc__ or "")
