#!/usr/bin/env python3
"""`make demo`: the whole pipeline on real mp4 files, on a CPU, in minutes.

Usage: ``python tools/demo.py --help``. The command line, and the text that describes
it in full: :mod:`timesformer.cli.demo`.
"""

import sys

from timesformer.cli.demo import main

if __name__ == "__main__":
    sys.exit(main())
