#!/usr/bin/env python3
"""Test a TimeSformer model on every view of every test video.

Usage: ``python tools/test_net.py --help``. The command line, and the text that describes
it in full: :mod:`timesformer.cli.test_net`.
"""

import sys

from timesformer.cli.test_net import main

if __name__ == "__main__":
    sys.exit(main())
