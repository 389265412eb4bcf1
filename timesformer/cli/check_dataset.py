"""List every video of a split that cannot be read, with the reason.

    python tools/check_dataset.py --cfg FILE [--split train] [KEY VALUE ...]

Builds the split's dataset (TRAIN.DATASET, or TEST.DATASET for --split test) as
training would, decodes every frame of each video to its end (so that a truncated
or damaged file is caught whatever part of it a clip would take) and reads its first
and last test views as clips, with DATA_LOADER.NUM_WORKERS processes; shows a progress
bar, prints one line per unreadable video and a summary. Exit status: 0 all readable,
1 some unreadable; 2 the check could not run (a config mistake, a split file missing or
malformed), said in one line ``check_dataset.py: error: ...``.
"""

import sys
from typing import TYPE_CHECKING, cast

from tqdm import tqdm

from timesformer.cli.config_loading import load_command_config
from timesformer.datasets.split_file import SPLITS
from timesformer.datasets.video_container import VideoReadError
from timesformer.utils.logging import setup_logging
from timesformer.utils.parser import build_arg_parser
from timesformer.utils.user_errors import errors_end_in_one_line

if TYPE_CHECKING:
    from timesformer.datasets.clip_dataset import ClipDataset


class VideoChecks:
    """Item ``i``: ``(i, "")`` when video ``i`` of ``dataset`` reads, else ``(i, reason)``; a
    map-style dataset (``__getitem__`` and ``__len__``) for a DataLoader's workers."""

    def __init__(self, dataset: "ClipDataset"):
        self.dataset = dataset

    def __len__(self) -> int:
        return self.dataset.num_videos

    def __getitem__(self, video_idx: int) -> tuple[int, str]:
        try:
            self.dataset.check_video(video_idx)
        except VideoReadError as error:
            return video_idx, error.reason
        except Exception as error:  # the tool's job is to report every failure, whatever its kind
            return video_idx, f"{type(error).__name__}: {error}"
        return video_idx, ""


def check_split(dataset: "ClipDataset", num_workers: int) -> list[tuple[str, str]]:
    """(path, reason) of every unreadable video of ``dataset``, with a progress bar on stderr."""
    # imported here: --help and the argument and config checks answer before torch loads
    import torch

    videos = cast(torch.utils.data.Dataset, VideoChecks(dataset))  # map-style by its methods
    checks = torch.utils.data.DataLoader(videos, batch_size=None, num_workers=num_workers)
    unreadable = []
    for video_idx, reason in tqdm(
        checks, total=dataset.num_videos, desc=f"checking {dataset.split}", unit="video"
    ):
        if reason:
            unreadable.append((dataset.paths[video_idx], reason))
            tqdm.write(f"UNREADABLE {dataset.paths[video_idx]}: {reason}", file=sys.stdout)
    return unreadable


def _run(cfg, split: str) -> int:
    """Check every video of ``split``, print the unreadable ones and the summary; return the exit
    status."""
    from timesformer.datasets import build_dataset

    name = cfg.TEST.DATASET if split == "test" else cfg.TRAIN.DATASET
    dataset = build_dataset(name, cfg, split)
    unreadable = check_split(dataset, cfg.DATA_LOADER.NUM_WORKERS)
    print(
        f"\nSummary: {name} {split}: {dataset.num_videos} videos checked, "
        f"{len(unreadable)} unreadable."
    )
    for path, reason in unreadable:
        print(f"  {path}: {reason}")
    return 1 if unreadable else 0


def main(argv: list[str] | None = None) -> int:
    setup_logging(is_master=True)
    parser = build_arg_parser("List the unreadable videos of a dataset split.")
    parser.add_argument(
        "--split", default="train", choices=SPLITS, help="Split to check (default: train)."
    )
    args = parser.parse_args(argv)
    with errors_end_in_one_line(parser, exit_status=2):  # 1: unreadable videos found
        cfg = load_command_config(args, check_devices=False)
        return _run(cfg, args.split)
