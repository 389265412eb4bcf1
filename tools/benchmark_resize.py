#!/usr/bin/env python3
"""Resize benchmark: ``prepare_dataset.py resize`` with one and two jobs against the ffmpeg
command line doing the same re-encode, one and two files at a time.

Usage: ``python tools/benchmark_resize.py --help``. The command line, and the text that
describes it in full: :mod:`timesformer.cli.benchmark_resize`.
"""

import sys

from timesformer.cli.benchmark_resize import main

if __name__ == "__main__":
    sys.exit(main())
