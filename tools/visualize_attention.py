#!/usr/bin/env python3
"""Draw where the model looks in a video: PNG heat maps over the frames and the temporal attention.

Usage: ``python tools/visualize_attention.py --help``. The command line, and the text that describes
it in full: :mod:`timesformer.cli.visualize_attention`.
"""

import sys

from timesformer.cli.visualize_attention import main

if __name__ == "__main__":
    sys.exit(main())
