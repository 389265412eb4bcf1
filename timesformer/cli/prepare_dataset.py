"""Prepare a dataset of one's own videos, or check a downloaded one against its official list.

    python tools/prepare_dataset.py list   SOURCE --output DIR [--fractions 0.8 0.1 0.1] ...
    python tools/prepare_dataset.py resize INPUT_DIR OUTPUT_DIR [--short-side 320] [--jobs N]
    python tools/prepare_dataset.py check  TREE --official FILE [--format kinetics|ssv2|...]

list: split files (train.csv, val.csv, test.csv) and a class-names file from a folder of class
subfolders or a table of videos. resize: every video re-encoded to a short side, in parallel and
resumable, into a mirrored tree. check: which videos of an official list a tree holds, which
are missing, unreadable or extra. ``python tools/prepare_dataset.py VERB --help`` says more.

Exit status: 0 done (check: the tree is complete), 1 some videos failed (resize) or the tree is
incomplete (check), 2 a mistake in the command line or its files, said in one line
``prepare_dataset.py: error: ...``.
"""

import argparse

from timesformer.cli import prepare_check, prepare_list, prepare_resize
from timesformer.utils.user_errors import errors_end_in_one_line

VERBS = (prepare_list, prepare_resize, prepare_check)
"""Each verb's module: ``add_parser(subparsers)`` adds the verb's parser, with its options, and
sets its defaults ``run`` (``run(args) -> int``, the exit status) and ``parser`` (the verb's
parser, which reports its errors: ``prepare_dataset.py VERB: error: ...``)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb in VERBS:
        verb.add_parser(subparsers)
    args = parser.parse_args(argv)
    with errors_end_in_one_line(args.parser, exit_status=2):
        status = args.run(args)
    return status
