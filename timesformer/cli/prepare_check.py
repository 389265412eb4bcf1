"""``prepare_dataset.py check``: which videos of an official list a tree holds.

    python tools/prepare_dataset.py check TREE --official FILE_OR_DIR
        --format kinetics|ssv2|ucf101|hmdb51 [--split train|val|test] [--split-number 1]
        [--report report.json] [--write-splits DIR [--force]] [--jobs N] [--no-decode]
        [--all-classes]

Official lists: kinetics, the Kinetics-400/600/700 annotation CSVs (a file, or the folder of
train.csv, validate.csv, test.csv), videos {youtube_id}_{time_start:06d}_{time_end:06d}.mp4;
ssv2, something-something-v2-{train,validation,test}.json (a file, or their folder) with
something-something-v2-labels.json beside them, videos {id}.webm; ucf101, the ucfTrainTestlist
folder (classInd.txt, trainlist0N.txt, testlist0N.txt); hmdb51, the folder of the
{class}_test_split{N}.txt files (N: --split-number). A listed video is looked up by its file
name without extension anywhere under TREE (class folders or flat; any video extension).

Each present video is decoded to its end (as check_dataset.py does), in --jobs processes with a
progress bar; --no-decode only looks for the files. The table shows the classes with a video
missing or unreadable (--all-classes: every class) and the overall counts; extra are the video
files under TREE that no list names (reported; they do not make the tree incomplete).
--report writes every count and list (missing, unreadable with the reason, extra) as JSON.
--write-splits DIR writes {split}.csv (``path label``, paths relative to TREE, official class
ids: Kinetics' classes sorted by name, SSv2's labels file, UCF101's classInd.txt, HMDB51's
sorted) of the present, readable, labelled videos and classes.json; existing files there are
kept unless --force.

Exit status: 0 the tree is complete (nothing missing or unreadable), 1 incomplete, 2 the check
could not run (a malformed list: its file and line are named).
"""

import argparse
import json
import os
from typing import TYPE_CHECKING

from timesformer.datasets.preparation import published_lists  # noqa: F401  (ucf101, hmdb51)
from timesformer.datasets.preparation.errors import PreparationError
from timesformer.datasets.preparation.listing import SPLITS
from timesformer.datasets.preparation.official_lists import OFFICIAL_FORMATS, OfficialList
from timesformer.datasets.preparation.split_writer import (
    CLASSES_FILE,
    check_output_folder,
    write_split_files,
)
from timesformer.datasets.preparation.video_names import path_problem, shown
from timesformer.utils.file_io import atomic_write, folder_problem

if TYPE_CHECKING:
    from timesformer.datasets.preparation.check_report import CheckReport

SHOWN_VIDEOS = 20
"""How many videos of each list (missing, unreadable, extra) the output names."""


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``check`` verb's parser (its defaults: ``run``, ``parser``) and return it."""
    parser = subparsers.add_parser(
        "check",
        help="which videos of an official list a tree holds, misses or cannot read",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("tree", metavar="TREE", help="folder of the downloaded videos")
    parser.add_argument(
        "--official", required=True, metavar="FILE_OR_DIR", help="the official list(s)"
    )
    parser.add_argument("--format", required=True, choices=sorted(OFFICIAL_FORMATS))
    parser.add_argument("--split", choices=SPLITS, help="check one split only (default: all)")
    parser.add_argument(
        "--split-number",
        type=int,
        default=1,
        metavar="N",
        help="UCF101/HMDB51 split 1, 2 or 3 (default: 1)",
    )
    parser.add_argument("--report", metavar="FILE", help="write the full report as JSON")
    parser.add_argument(
        "--write-splits", metavar="DIR", help="write split files of the readable videos"
    )
    parser.add_argument("--force", action="store_true", help="overwrite files in DIR")
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        default=_usable_cores(),
        help="processes decoding (default: the cores available)",
    )
    parser.add_argument("--no-decode", action="store_true", help="only look for the files")
    parser.add_argument("--all-classes", action="store_true", help="show every class")
    parser.set_defaults(run=run, parser=parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Check ``args.tree`` against its official list; 0 complete, 1 incomplete."""
    if not os.path.isdir(args.tree):
        raise PreparationError(f"{args.tree}: no such folder (TREE)")
    if args.jobs < 1:
        raise PreparationError(f"--jobs {args.jobs}: expected 1 or more processes")
    official = OFFICIAL_FORMATS[args.format](args.official, args.split_number)
    if not any(args.split in (None, video.split) for video in official.videos):
        which = f" of split {args.split}" if args.split else ""
        raise PreparationError(f"{args.official}: lists no video{which}")
    _check_outputs(args)
    return _check_tree(args, official)


def _check_tree(args: argparse.Namespace, official: OfficialList) -> int:
    """Look up the videos of ``official`` under ``args.tree``, decode them, report; 0 complete,
    1 incomplete."""
    # the decoder (and torch) load here, after the arguments and the official list are checked
    from timesformer.datasets.preparation.check_report import CheckReport
    from timesformer.datasets.preparation.completeness import find_unreadable, index_tree, locate

    located = locate(official, index_tree(args.tree), args.split)
    if args.write_splits:
        _check_writable_names(args.tree, [path for _, path in located.found])
    unreadable = {}
    if not args.no_decode:
        unreadable = find_unreadable(args.tree, [path for _, path in located.found], args.jobs)
    report = CheckReport(official.class_names, located, unreadable, decoded=not args.no_decode)
    _print_report(args, report)
    if args.report:
        _write_json_report(args, report)
    if args.write_splits:
        _write_splits(args, report)
    return 0 if report.complete else 1


def _check_outputs(args: argparse.Namespace) -> None:
    """Before the long part: --report and --write-splits must be writable, and --write-splits
    must not hold split files unless --force."""
    if args.report and os.path.isdir(args.report):
        raise PreparationError(f"--report {args.report}: is a folder; expected a file name")
    for option, folder in (
        ("--report", os.path.dirname(os.path.abspath(args.report or "."))),
        ("--write-splits", args.write_splits),
    ):
        problem = folder_problem(folder) if folder else None
        if problem is not None:
            raise PreparationError(f"{option}: {problem[0]} {problem[1]}")
    if args.write_splits:
        check_output_folder(args.write_splits, args.force, "pass --force to overwrite them")


def _check_writable_names(tree: str, paths: list[str]) -> None:
    for path in paths:
        problem = path_problem(path)
        if problem is not None:
            raise PreparationError(
                f"{shown(os.path.join(tree, path))}: cannot go in a split file "
                f"(--write-splits): {problem}; rename it"
            )


def _print_report(args: argparse.Namespace, report: "CheckReport") -> None:
    print("\n".join(report.table(args.all_classes)))
    overall = report.overall()
    data = report.to_json()
    kinds = (
        ("missing", [entry["name"] for entry in data["missing"]]),
        (
            "unreadable",
            [f"{shown(entry['path'])}: {entry['reason']}" for entry in data["unreadable"]],
        ),
        ("extra", [shown(path) for path in data["extra"]]),
    )
    for kind, lines in kinds:
        for line in lines[:SHOWN_VIDEOS]:
            print(f"{kind.upper()} {line}")
        if len(lines) > SHOWN_VIDEOS:
            more = "in the report" if args.report else "pass --report FILE to list them all"
            print(f"... and {len(lines) - SHOWN_VIDEOS} more {kind} ({more})")
    state = "complete" if report.complete else "INCOMPLETE"
    checked = "decoded to the end" if report.decoded else "not decoded (--no-decode)"
    print(
        f"{args.tree}: {state}: {overall['present']} of {overall['listed']} listed videos "
        f"present ({checked}), {overall['missing']} missing, {overall['unreadable']} "
        f"unreadable; {overall['extra']} extra video file(s) not in the list."
    )


def _write_json_report(args: argparse.Namespace, report: "CheckReport") -> None:
    data = report.to_json(
        tree=os.path.abspath(args.tree),
        official=os.path.abspath(args.official),
        format=args.format,
        split=args.split,
        split_number=args.split_number if args.format in ("ucf101", "hmdb51") else None,
    )
    with atomic_write(args.report, binary=False) as stream:
        json.dump(data, stream, indent=2, ensure_ascii=False)
        stream.write("\n")
    print(f"Report: {args.report}")


def _write_splits(args: argparse.Namespace, report: "CheckReport") -> None:
    lines, unlabelled = report.trainable_lines()
    write_split_files(args.write_splits, lines, report.class_names)
    output = os.path.abspath(args.write_splits)
    counts = ", ".join(f"{split}.csv ({len(lines[split])})" for split in SPLITS if split in lines)
    print(
        f"Wrote {counts or 'no split file (no readable labelled video)'} and {CLASSES_FILE} "
        f"({len(report.class_names)} classes) to {output}"
        + (f"; left out {unlabelled} video(s) the list gives no label" if unlabelled else "")
        + ". Train with:\n"
        f"  DATA.PATH_TO_DATA_DIR {output} DATA.PATH_PREFIX {os.path.abspath(args.tree)} "
        f"MODEL.NUM_CLASSES {len(report.class_names)} "
        f"TENSORBOARD.CLASS_NAMES_PATH {os.path.join(output, CLASSES_FILE)}"
    )
