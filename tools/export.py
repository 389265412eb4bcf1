#!/usr/bin/env python3
"""Export a trained model for deployment: TorchScript, torch.export or ONNX, fixed input size.

Usage: ``python tools/export.py --help``. The command line, and the text that describes
it in full: :mod:`timesformer.cli.export`.
"""

import sys

from timesformer.cli.export import main

if __name__ == "__main__":
    sys.exit(main())
