#!/usr/bin/env python3
"""Submit a training + testing job to Slurm with submitit (or run it here, the same way).

Usage: ``python tools/submit.py --help``. The command line, and the text that describes
it in full: :mod:`timesformer.cli.submit`.
"""

import sys

from timesformer.cli.submit import main

if __name__ == "__main__":
    sys.exit(main())
