"""Train and/or test a TimeSformer model from a config file and KEY VALUE overrides.

    python tools/run_net.py --cfg configs/Kinetics/TimeSformer_divST_8x32_224.yaml \
        DATA.PATH_TO_DATA_DIR /data/kinetics NUM_GPUS 8 TRAIN.BATCH_SIZE 8

Trains when TRAIN.ENABLE, then tests when TEST.ENABLE, in the same processes.
"""

from timesformer.cli.run_command import run_command_line


def main(argv: list[str] | None = None) -> int:
    """The run: :func:`~timesformer.cli.run_command.run_command_line` with the train-then-test
    flow; returns the
    exit status."""
    return run_command_line(argv, "train_then_test", __doc__ or "")
