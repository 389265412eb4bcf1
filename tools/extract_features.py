#!/usr/bin/env python3
"""Extract video embeddings: the CLS feature before the head, for a split or a list of files.

Usage: ``python tools/extract_features.py --help``. The command line, and the text that describes
it in full: :mod:`timesformer.cli.extract_features`.
"""

import sys

from timesformer.cli.extract_features import main

if __name__ == "__main__":
    sys.exit(main())
