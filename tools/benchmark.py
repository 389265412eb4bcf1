#!/usr/bin/env python3
"""Data-loading benchmark: clips/s of the training loader with one and several clips per video,
against the decode floor and a naive PyAV loader; the CPU cores one GPU needs; and the cost of
one clip from a 5-minute video against one from a 10-second video.

Usage: ``python tools/benchmark.py --help``. The command line, and the text that describes
it in full: :mod:`timesformer.cli.benchmark`.
"""

import sys

from timesformer.cli.benchmark import main

if __name__ == "__main__":
    sys.exit(main())
