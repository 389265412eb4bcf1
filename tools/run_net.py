#!/usr/bin/env python3
"""Train and/or test a TimeSformer model from a config file and KEY VALUE overrides.

Usage: ``python tools/run_net.py --help``. The command line, and the text that describes
it in full: :mod:`timesformer.cli.run_net`.
"""

import sys

from timesformer.cli.run_net import main

if __name__ == "__main__":
    sys.exit(main())
