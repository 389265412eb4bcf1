#!/usr/bin/env python3
"""Fine-tuning benchmark: the small-dataset recipe against plain fine-tuning over seeds, and the
cost per training step of each of its options, in one run.

Usage: ``python tools/benchmark_finetune.py --help``. The command line, and the text that
describes it in full: :mod:`timesformer.cli.benchmark_finetune`.
"""

import sys

from timesformer.cli.benchmark_finetune import main

if __name__ == "__main__":
    sys.exit(main())
