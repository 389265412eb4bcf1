#!/usr/bin/env python3
"""Model benchmark: our TimeSformer against Hugging Face's, same shapes, same weights, one run.

Usage: ``python tools/benchmark_model.py --help``. The command line, and the text that describes
it in full: :mod:`timesformer.cli.benchmark_model`.
"""

import sys

from timesformer.cli.benchmark_model import main

if __name__ == "__main__":
    sys.exit(main())
