#!/usr/bin/env python3
"""List every video of a split that cannot be read, with the reason.

Usage: ``python tools/check_dataset.py --help``. The command line, and the text that describes
it in full: :mod:`timesformer.cli.check_dataset`.
"""

import sys

from timesformer.cli.check_dataset import main

if __name__ == "__main__":
    sys.exit(main())
