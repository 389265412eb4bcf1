#!/usr/bin/env python3
"""Label a long video over time: sliding windows, CSV/JSON/PNG, an annotated copy.

Usage: ``python tools/timeline.py --help``. The command line, and the text that describes
it in full: :mod:`timesformer.cli.timeline`.
"""

import sys

from timesformer.cli.timeline import main

if __name__ == "__main__":
    sys.exit(main())
