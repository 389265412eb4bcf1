"""Extract video embeddings: the CLS feature before the head, for a split or a list of files.

    python tools/extract_features.py --cfg FILE --checkpoint CKPT --output-dir DIR \\
        [--split test | VIDEO...] [--per-clip | --windows [--stride SECONDS]] \\
        [--format npy|pt] [KEY VALUE...]

Videos are the VIDEO files given, else those of TEST.DATASET's --split (with
their labels). Every video is read as its test views (TEST.NUM_ENSEMBLE_VIEWS
clips x TEST.NUM_SPATIAL_CROPS crops, as tools/test_net.py reads it). Per video
(default) the stored feature is the mean over the views, shape (D,): the head is
linear, so the head of that mean is the mean of the views' logits, which ranks
classes as the test loop's default aggregate (their sum) does; with
--per-clip it is every view's, shape (NUM_ENSEMBLE_VIEWS, NUM_SPATIAL_CROPS, D).

--windows stores a feature timeline instead, for temporal models over long
videos (HowTo100M): shape (N, D), row k the feature of window k, the model's
clip placed at k * --stride seconds (default: half a window, as
tools/timeline.py) as the single-crop (centre) test view; N is the number of
windows that end inside the video (a video shorter than one window: one
window, its last frame repeated). --stride implies --windows. Each video is
decoded once, in order, keeping only the frames of the windows still open, and
TEST.BATCH_SIZE windows go through the model per run; the features stay in
memory until the video ends (D * 4 bytes a window). Windows over frames that
cannot be decoded get a row of NaN, listed in the index line's "skipped".

DIR gets features/<name>.npy|.pt and index.jsonl, one line per video: video,
label, file, shape, per_clip; a timeline's line has instead of per_clip its
windows' times: window_s (a window's seconds), stride_s, starts_s (window k's
start, in seconds), skipped, padded (the video is shorter than one window),
duration_s. A rerun skips the videos already in the index with features of the
same kind (per video, per clip, a timeline of the same stride). Unreadable
videos are reported and make the exit status 1.
"""

import sys
from typing import TYPE_CHECKING

from tqdm import tqdm

from timesformer.cli.config_loading import load_tool_config
from timesformer.datasets.split_file import SPLITS
from timesformer.utils.logging import setup_logging
from timesformer.utils.output_formats import FEATURE_FORMATS
from timesformer.utils.parser import build_arg_parser
from timesformer.utils.user_errors import errors_end_in_one_line

if TYPE_CHECKING:
    from timesformer.datasets.clip_dataset import ClipDataset
    from timesformer.engine.feature_store import FeatureStore
    from timesformer.engine.feature_timeline import FeatureTimeline


def index_label(label: int | tuple[int, ...]) -> int | list[int] | None:
    """A dataset's label as the index stores it: the class id, the class ids
    (DATA.MULTI_LABEL), or None (unknown, -1)."""
    return list(label) if isinstance(label, tuple) else (label if label >= 0 else None)


def _videos_to_do(dataset: "ClipDataset", done: set[str]) -> list[int]:
    """The videos of ``dataset`` not in ``done``, saying how many are done already."""
    todo = [i for i, path in enumerate(dataset.paths) if path not in done]
    if len(todo) < dataset.num_videos:
        tqdm.write(
            f"{dataset.num_videos - len(todo)} of {dataset.num_videos} videos already done",
            file=sys.stderr,
        )
    return todo


def extract(cfg, model, dataset: "ClipDataset", store: "FeatureStore", per_clip: bool) -> list[str]:
    """Store the features of every video of ``dataset`` not yet in ``store``; return the read
    errors."""
    # imported here: --help and the argument and config checks answer before torch loads
    from timesformer.engine.inference import iter_video_views, run_on_views
    from timesformer.models.vit import find_vision_transformer

    todo = _videos_to_do(dataset, store.finished(per_clip))
    vit = find_vision_transformer(model)
    errors = []
    views_of_videos = iter_video_views(dataset, todo, cfg.DATA_LOADER.NUM_WORKERS)
    for views in tqdm(
        views_of_videos, total=len(todo), desc="extracting", unit="video", file=sys.stderr
    ):
        if views.clips is None:
            errors.append(views.error)
            tqdm.write(f"error: unreadable video {views.error}", file=sys.stderr)
            continue
        features = run_on_views(vit.forward_features, views.clips, cfg)  # (V, D)
        if per_clip:
            features = features.view(cfg.TEST.NUM_ENSEMBLE_VIEWS, cfg.TEST.NUM_SPATIAL_CROPS, -1)
        else:
            features = features.mean(dim=0)
        store.add(
            dataset.paths[views.video_idx],
            index_label(dataset.labels[views.video_idx]),
            features.contiguous(),
            per_clip,
        )
    return errors


def extract_timelines(
    cfg, model, dataset: "ClipDataset", store: "FeatureStore", stride: float | None
) -> list[str]:
    """Store the feature timeline (windows every ``stride`` seconds; None: half a window) of
    every video of ``dataset`` not yet in ``store`` with that stride; return the read errors."""
    from timesformer.datasets.video_container import VideoReadError
    from timesformer.engine.feature_timeline import video_feature_timeline, window_stride
    from timesformer.models.vit import find_vision_transformer

    stride_s = window_stride(cfg, stride)
    todo = _videos_to_do(dataset, store.finished_timelines(stride_s))
    vit = find_vision_transformer(model)
    errors = []
    for video_idx in tqdm(todo, desc="extracting", unit="video", file=sys.stderr):
        path = dataset.paths[video_idx]
        with tqdm(desc="windows", unit="window", leave=False, file=sys.stderr) as progress:
            try:
                timeline = video_feature_timeline(
                    cfg, vit, path, stride_s, on_window=lambda window: progress.update()
                )
            except VideoReadError as error:
                errors.append(f"{error.path or path}: {error.reason}")
                tqdm.write(f"error: unreadable video {errors[-1]}", file=sys.stderr)
                continue
        for warning in _timeline_warnings(timeline):
            tqdm.write(f"warning: {path}: {warning}", file=sys.stderr)
        store.add_timeline(path, index_label(dataset.labels[video_idx]), timeline)
    return errors


def _timeline_warnings(timeline: "FeatureTimeline") -> list[str]:
    """What went wrong in reading a video for its timeline, one sentence each."""
    warnings = []
    errors = timeline.errors
    if errors.failed_packets:
        warnings.append(
            f"{errors.failed_packets} packet(s) between {errors.first_time:.2f} s and "
            f"{errors.last_time:.2f} s could not be decoded ({errors.first_reason}); "
            f"{len(timeline.skipped)} window(s) over the frames lost are NaN rows, listed in "
            '"skipped"'
        )
    if errors.stopped:
        warnings.append(f"decoding stopped {errors.stopped}; no window after that")
    return warnings


def _run(cfg, args, paths: list[str]) -> int:
    """Extract the features of ``paths`` (none: of ``args.split``) as ``args`` ask; return the
    exit status."""
    from timesformer.engine.feature_store import FeatureStore
    from timesformer.engine.inference import load_inference_model, views_of_files, views_of_split

    model = load_inference_model(cfg, args.checkpoint or cfg.TEST.CHECKPOINT_FILE_PATH)
    dataset = views_of_files(cfg, paths) if paths else views_of_split(cfg, args.split)
    store = FeatureStore(args.output_dir, args.format)
    if args.windows:
        errors = extract_timelines(cfg, model, dataset, store, args.stride)
    else:
        errors = extract(cfg, model, dataset, store, args.per_clip)
    print(
        f"Features of {dataset.num_videos - len(errors)} videos in {args.output_dir} "
        f"(index: {store.index_path})"
    )
    return 1 if errors else 0


def build_parser():
    parser = build_arg_parser(__doc__, items="VIDEO")
    parser.add_argument(
        "--checkpoint", default="", help="model weights (default: TEST.CHECKPOINT_FILE_PATH)"
    )
    parser.add_argument(
        "--output-dir", required=True, help="folder of the features and index.jsonl"
    )
    parser.add_argument(
        "--split",
        choices=SPLITS,
        default="test",
        help="videos when no VIDEO is given (default: test)",
    )
    parser.add_argument(
        "--per-clip", action="store_true", help="one feature per view instead of their mean"
    )
    parser.add_argument(
        "--windows",
        action="store_true",
        help="a feature timeline: one feature per sliding window (see --stride)",
    )
    parser.add_argument(
        "--stride",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds between the windows' starts (default: half a window); implies --windows",
    )
    parser.add_argument(
        "--format",
        choices=FEATURE_FORMATS,
        default="npy",
        help="feature file format (default: npy)",
    )
    return parser


def check_arguments(parser, args) -> None:
    """The options' values that need no config, named before torch loads; --stride turns
    --windows on."""
    if args.stride is not None and args.stride <= 0:
        parser.error(f"--stride must be a positive number of seconds, not {args.stride}")
    args.windows = args.windows or args.stride is not None
    if args.windows and args.per_clip:
        parser.error("--per-clip and --windows (or --stride) are two layouts; give one of them")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(is_master=True, stream=sys.stderr)
    with errors_end_in_one_line(parser):  # e.g. a missing checkpoint or split file
        check_arguments(parser, args)
        cfg, paths = load_tool_config(args)
        cfg.DATA.SKIP_BAD_TEST_VIDEOS = False
        return _run(cfg, args, paths)
