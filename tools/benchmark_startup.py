#!/usr/bin/env python3
"""How long the command lines take to answer --help and a mistake, beside importing torch.

Usage: ``python tools/benchmark_startup.py --help``. The command line, and the text that
describes it in full: :mod:`timesformer.cli.benchmark_startup`.
"""

import sys

from timesformer.cli.benchmark_startup import main

if __name__ == "__main__":
    sys.exit(main())
