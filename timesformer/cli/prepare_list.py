"""``prepare_dataset.py list``: split files and a class-names file for one's own videos.

    python tools/prepare_dataset.py list SOURCE --output DIR [--fractions 0.8 0.1 0.1]
        [--seed 0] [--classes FILE] [--update | --force]

SOURCE is a folder of class subfolders (the videos directly inside each; the class is the
folder's name; hidden files and other files are left out), or a table: a CSV with the header
``path,label`` or ``path,label,split``, or a JSON list of {"path", "label"[, "split"]} objects
(label: the class name; paths relative to the table's folder, or absolute). DIR receives
train.csv, val.csv and test.csv (``path label`` lines, the Kinetics dataset's format, paths
relative to SOURCE) and classes.json (name -> id, for TENSORBOARD.CLASS_NAMES_PATH and predict);
the config values that read them are printed. DIR may lie inside SOURCE (it is not scanned).

Splits are stable: a video's split comes from a hash of (seed, class, path) alone, so adding
videos later never moves the ones already listed; each class is split on its own. The fractions
hold in expectation, and per class up to the rounding of a small count (a class of 10 videos
may get 9 / 0 / 1): the counts per class are printed, and the classes left without a val or test
video are named. A table's split column, where given, decides instead.

Classes are numbered in name order, or in the order of --classes: a text file (one name per
line), a JSON list or dict name -> id (as classes.json), or UCF101's classInd.txt (``1 Name``
lines); a class of the videos missing from it is an error.

Split files already in DIR are never overwritten unasked: --update keeps every listed video in
its split and its class ids (new classes are numbered after the old ones), adds the new videos
by the hash and drops those no longer found, saying how many; --force rewrites everything.
"""

import argparse
import os
import re

from timesformer.datasets.preparation.listing import SPLITS, Video, find_videos
from timesformer.datasets.preparation.split_writer import (
    CLASSES_FILE,
    check_output_folder,
    class_order,
    read_existing_splits,
    write_split_files,
)
from timesformer.datasets.preparation.splitting import (
    Assignment,
    assign_splits,
    check_fractions,
    counts_per_class,
)
from timesformer.datasets.preparation.text_table import table_lines
from timesformer.datasets.published_splits import read_ucf101_classes
from timesformer.visualization.class_names import read_class_names

_CLASS_INDEX_LINE = re.compile(r"\d+\s+\S+")
"""A line of UCF101's classInd.txt: ``1 ApplyEyeMakeup``."""

SHOWN = 5
"""How many names (classes, removed videos) a line of the summary shows."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``list`` verb's parser (its defaults: ``run``, ``parser``) and return it."""
    parser = subparsers.add_parser(
        "list",
        help="split files and classes.json for a folder of class subfolders or a table",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", metavar="SOURCE", help="folder of class subfolders, or table")
    parser.add_argument(
        "--output",
        required=True,
        metavar="DIR",
        help="folder for train.csv, val.csv, test.csv and classes.json",
    )
    parser.add_argument(
        "--fractions",
        nargs=3,
        type=float,
        default=[0.8, 0.1, 0.1],
        metavar=("TRAIN", "VAL", "TEST"),
        help="share of each split, summing to 1 (default: 0.8 0.1 0.1)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the hash (default: 0)")
    parser.add_argument(
        "--classes", metavar="FILE", help="official class list (text, JSON or classInd.txt)"
    )
    rewrite = parser.add_mutually_exclusive_group()
    rewrite.add_argument(
        "--update", action="store_true", help="keep existing splits, add the new videos"
    )
    rewrite.add_argument("--force", action="store_true", help="rewrite existing split files")
    parser.set_defaults(run=run, parser=parser)
    return parser


def read_official_classes(path: str) -> list[str]:
    """Class names in id order from ``path``: what
    :func:`~timesformer.visualization.class_names.read_class_names` reads (JSON list or dict,
    text one name per line), or UCF101's classInd.txt (a text file whose every line is
    ``NUMBER NAME``: :func:`~timesformer.datasets.published_splits.read_ucf101_classes`)."""
    names = read_class_names(path)
    if (
        not path.lower().endswith(".json")
        and names
        and all(map(_CLASS_INDEX_LINE.fullmatch, names))
    ):
        return read_ucf101_classes(path)
    return names


def run(args: argparse.Namespace) -> int:
    """List the videos of ``args.source``, split them, write the files; returns 0."""
    fractions = check_fractions(args.fractions)
    output = args.output
    check_output_folder(
        output,
        args.update or args.force,
        "pass --update to add new videos keeping the listed ones' splits, or --force to "
        "rewrite them",
    )
    official = read_official_classes(args.classes) if args.classes else None
    videos = find_videos(args.source, skip=output)
    existing, previous = {}, None
    if args.update:
        existing = read_existing_splits(output)
        classes_file = os.path.join(output, CLASSES_FILE)
        if official is None and os.path.isfile(classes_file):
            previous = read_class_names(classes_file)
    class_names = class_order(
        (video.class_name for video in videos), official, previous, args.classes or ""
    )
    assignment = assign_splits(videos, fractions, args.seed, existing)
    ids = {name: class_id for class_id, name in enumerate(class_names)}
    lines: dict[str, list[tuple[str, int]]] = {split: [] for split in SPLITS}
    for video in videos:
        lines[assignment.splits[video.path]].append((video.path, ids[video.class_name]))
    write_split_files(output, lines, class_names)
    _print_summary(args, videos, assignment, class_names, fractions)
    return 0


def _print_summary(
    args: argparse.Namespace,
    videos: list[Video],
    assignment: Assignment,
    class_names: list[str],
    fractions: tuple[float, ...],
) -> None:
    counts = counts_per_class(videos, assignment.splits)
    rows = [[name, *counts[name].values()] for name in sorted(counts)]
    totals = [sum(per_split[split] for per_split in counts.values()) for split in SPLITS]
    print("\n".join(table_lines(["class", *SPLITS], [*rows, ["total", *totals]])))
    for split, fraction in zip(SPLITS[1:], fractions[1:], strict=True):
        empty = [name for name in sorted(counts) if fraction > 0 and counts[name][split] == 0]
        if empty:
            print(
                f"note: {len(empty)} class(es) have no {split} video (too few videos for "
                f"{fraction:g} of them): {', '.join(empty[:SHOWN])}"
                + (", ..." if len(empty) > SHOWN else "")
            )
    if args.update:
        removed = assignment.removed
        print(
            f"update: {len(assignment.kept)} video(s) kept in their split, {assignment.added} "
            f"added by the hash, {len(removed)} removed (no longer found)"
            + (f": {', '.join(removed[:SHOWN])}" if removed else "")
            + (", ..." if len(removed) > SHOWN else "")
        )
    unused = sorted(set(class_names) - set(counts))
    if unused:
        print(f"note: {len(unused)} class(es) have no video: {', '.join(unused[:SHOWN])}")
    source = os.path.abspath(args.source)
    prefix = source if os.path.isdir(source) else os.path.dirname(source)
    output = os.path.abspath(args.output)
    print(
        f"Wrote {', '.join(f'{split}.csv' for split in SPLITS)} and {CLASSES_FILE} "
        f"({len(class_names)} classes) to {output}. Train with:\n"
        f"  DATA.PATH_TO_DATA_DIR {output} DATA.PATH_PREFIX {prefix} "
        f"MODEL.NUM_CLASSES {len(class_names)} "
        f"TENSORBOARD.CLASS_NAMES_PATH {os.path.join(output, CLASSES_FILE)}"
    )
