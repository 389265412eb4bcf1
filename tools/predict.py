#!/usr/bin/env python3
"""Classify videos: the top-k classes of each, ranked as the test loop ranks them.

Usage: ``python tools/predict.py --help``. The command line, and the text that describes
it in full: :mod:`timesformer.cli.predict`.
"""

import sys

from timesformer.cli.predict import main

if __name__ == "__main__":
    sys.exit(main())
