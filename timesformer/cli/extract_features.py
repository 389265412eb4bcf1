"""Extract video embeddings: the CLS feature before the head, for a split or a list of files.

    python tools/extract_features.py --cfg FILE --checkpoint CKPT --output-dir DIR \\
        [--split test | VIDEO...] [--per-clip] [--format npy|pt] [KEY VALUE...]

Videos are the VIDEO files given, else those of TEST.DATASET's --split (with
their labels). Every video is read as its test views (TEST.NUM_ENSEMBLE_VIEWS
clips x TEST.NUM_SPATIAL_CROPS crops, as tools/test_net.py reads it). Per video
(default) the stored feature is the mean over the views, shape (D,): the head is
linear, so the head of that mean is the mean of the views' logits, which ranks
classes as the test loop's default aggregate (their sum) does; with
--per-clip it is every view's, shape (NUM_ENSEMBLE_VIEWS, NUM_SPATIAL_CROPS, D):
for long videos (HowTo100M) raise TEST.NUM_ENSEMBLE_VIEWS to cover them with
more clips. DIR gets features/<name>.npy|.pt and index.jsonl (one line per
video: video, label, file, shape, per_clip). A rerun skips the videos already
in the index. Unreadable videos are reported and make the exit status 1.
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


def extract(cfg, model, dataset: "ClipDataset", store: "FeatureStore", per_clip: bool) -> list[str]:
    """Store the features of every video of ``dataset`` not yet in ``store``; return the read
    errors."""
    # imported here: --help and the argument and config checks answer before torch loads
    from timesformer.engine.inference import iter_video_views, run_on_views
    from timesformer.models.vit import find_vision_transformer

    done = store.finished(per_clip)
    todo = [i for i, path in enumerate(dataset.paths) if path not in done]
    if len(todo) < dataset.num_videos:
        tqdm.write(
            f"{dataset.num_videos - len(todo)} of {dataset.num_videos} videos already done",
            file=sys.stderr,
        )
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
        label = dataset.labels[views.video_idx]
        store.add(
            dataset.paths[views.video_idx],
            list(label) if isinstance(label, tuple) else (label if label >= 0 else None),
            features.contiguous(),
            per_clip,
        )
    return errors


def _run(cfg, args, paths: list[str]) -> int:
    """Extract the features of ``paths`` (none: of ``args.split``) as ``args`` ask; return the
    exit status."""
    from timesformer.engine.feature_store import FeatureStore
    from timesformer.engine.inference import load_inference_model, views_of_files, views_of_split

    model = load_inference_model(cfg, args.checkpoint or cfg.TEST.CHECKPOINT_FILE_PATH)
    dataset = views_of_files(cfg, paths) if paths else views_of_split(cfg, args.split)
    store = FeatureStore(args.output_dir, args.format)
    errors = extract(cfg, model, dataset, store, args.per_clip)
    print(
        f"Features of {dataset.num_videos - len(errors)} videos in {args.output_dir} "
        f"(index: {store.index_path})"
    )
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
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
        "--format",
        choices=FEATURE_FORMATS,
        default="npy",
        help="feature file format (default: npy)",
    )
    args = parser.parse_args(argv)
    setup_logging(is_master=True, stream=sys.stderr)
    with errors_end_in_one_line(parser):  # e.g. a missing checkpoint or split file
        cfg, paths = load_tool_config(args)
        cfg.DATA.SKIP_BAD_TEST_VIDEOS = False
        return _run(cfg, args, paths)
