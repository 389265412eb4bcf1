#!/usr/bin/env python3
"""Train a TimeSformer model (without the test that run_net.py runs after training).

Usage: ``python tools/train_net.py --help``. The command line, and the text that describes
it in full: :mod:`timesformer.cli.train_net`.
"""

import sys

from timesformer.cli.train_net import main

if __name__ == "__main__":
    sys.exit(main())
