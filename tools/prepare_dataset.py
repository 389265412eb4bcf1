#!/usr/bin/env python3
"""Prepare a dataset of one's own videos (list, resize) or check one against its official list.

Usage: ``python tools/prepare_dataset.py --help``. The command line, and the text that describes
it in full: :mod:`timesformer.cli.prepare_dataset`.
"""

import sys

from timesformer.cli.prepare_dataset import main

if __name__ == "__main__":
    sys.exit(main())
