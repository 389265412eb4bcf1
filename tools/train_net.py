#!/usr/bin/env python3
"""Train a TimeSformer model (without the test that run_net.py runs after training).

    python tools/train_net.py --cfg CONFIG.yaml [KEY VALUE ...]

The same command line as tools/run_net.py; the loop is timesformer.engine.trainer.train.
"""

import sys

from timesformer.engine.launch import run_command_line
from timesformer.engine.trainer import train


def main(argv: list[str] | None = None) -> int:
    return run_command_line(argv, train, __doc__)


if __name__ == "__main__":
    sys.exit(main())
