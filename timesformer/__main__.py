"""``python -m timesformer``: the ``timesformer`` command (:mod:`timesformer.cli.main`)."""

import sys

from timesformer.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
