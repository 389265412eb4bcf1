#!/usr/bin/env python3
"""Convert TimeSformer checkpoints between Hugging Face transformers and this project.

Usage: ``python tools/convert_checkpoint.py --help``. The command line, and the text that
describes it in full: :mod:`timesformer.cli.convert_checkpoint`.
"""

import sys

from timesformer.cli.convert_checkpoint import main

if __name__ == "__main__":
    sys.exit(main())
