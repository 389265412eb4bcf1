#!/usr/bin/env python3
"""Print a model's parameters, FLOPs per view and per video, and activations.

Usage: ``python tools/model_stats.py --help``. The command line, and the text that describes
it in full: :mod:`timesformer.cli.model_stats`.
"""

import sys

from timesformer.cli.model_stats import main

if __name__ == "__main__":
    sys.exit(main())
