#!/usr/bin/env python3
"""Timeline benchmark: ``timesformer timeline``'s peak memory on a long video against a short
one, and its windows/s, with the demo model and optionally ViT-B.

Usage: ``python tools/benchmark_timeline.py --help``. The command line, and the text that
describes it in full: :mod:`timesformer.cli.benchmark_timeline`.
"""

import sys

from timesformer.cli.benchmark_timeline import main

if __name__ == "__main__":
    sys.exit(main())
