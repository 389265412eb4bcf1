#!/usr/bin/env python3
"""Train and/or test a TimeSformer model from a config file and KEY VALUE overrides.

    python tools/run_net.py --cfg configs/Kinetics/TimeSformer_divST_8x32_224.yaml \
        DATA.PATH_TO_DATA_DIR /data/kinetics NUM_GPUS 8 TRAIN.BATCH_SIZE 8

Trains when TRAIN.ENABLE, then tests when TEST.ENABLE, in the same processes.
"""

import sys

from timesformer.engine.launch import run_command_line, train_then_test


def main(argv: list[str] | None = None) -> int:
    return run_command_line(argv, train_then_test, __doc__)


if __name__ == "__main__":
    sys.exit(main())
