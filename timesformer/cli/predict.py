"""Classify videos: the top-k classes of each, ranked as the test loop ranks them.

    python tools/predict.py --cfg configs/Kinetics/TimeSformer_divST_8x32_224.yaml \\
        --checkpoint TimeSformer_divST_8x32_224_K400.pyth --labels kinetics_classnames.json \\
        [--top-k 5] [--json] VIDEO... [KEY VALUE...]

Each video is decoded, sampled and preprocessed exactly as tools/test_net.py
does (TEST.NUM_ENSEMBLE_VIEWS clips x TEST.NUM_SPATIAL_CROPS crops), and its
views are combined as the test loop combines them: the sum of their logits
(TEST.ENSEMBLE_METHOD "max": their maximum), as the original. The score shown is
the softmax of that video-level aggregate, a probability that ranks the classes
as the aggregate does; with TEST.ENSEMBLE_SOFTMAX, the views' probabilities are
combined instead and the score is their mean ("max": their maximum); with
DATA.MULTI_LABEL, each class's sigmoid probability, combined the same way. Runs on the
first GPU when NUM_GPUS > 0 and CUDA is there, else on the CPU. With --json,
stdout is only a JSON list, one object per video:
{"video": PATH, "top_k": [{"label": INT, "name": STR or null, "score": FLOAT}, ...]}.
Unreadable videos are reported on stderr, left out, and make the exit status 1.
"""

import json
import sys
from typing import TYPE_CHECKING

from tqdm import tqdm

from timesformer.cli.config_loading import load_tool_config
from timesformer.utils.logging import setup_logging
from timesformer.utils.parser import build_arg_parser
from timesformer.utils.user_errors import errors_end_in_one_line
from timesformer.visualization.class_names import read_class_names

if TYPE_CHECKING:
    pass


def predict_videos(
    cfg, checkpoint: str, paths: list[str], k: int, class_names: list[str] | None
) -> tuple[list[dict], list[str]]:
    """(one ``{"video", "top_k"}`` per readable video, error messages of the unreadable ones),
    by the model of ``checkpoint``."""
    from timesformer.engine.inference import (
        iter_video_views,
        load_inference_model,
        run_on_views,
        shown_scores,
        top_k,
        views_of_files,
    )

    model = load_inference_model(cfg, checkpoint)
    dataset = views_of_files(cfg, paths)
    results, errors = [], []
    all_views = iter_video_views(dataset, list(range(len(paths))), cfg.DATA_LOADER.NUM_WORKERS)
    # A bar on stderr when it is a terminal (the results go to stdout).
    for views in tqdm(
        all_views, total=len(paths), desc="Predicting", unit="video", leave=False, disable=None
    ):
        if views.clips is None:
            errors.append(views.error)
            continue
        scores = shown_scores(run_on_views(model, views.clips, cfg), cfg)
        results.append({"video": paths[views.video_idx], "top_k": top_k(scores, k, class_names)})
    return results, errors


def format_results(results: list[dict]) -> str:
    """Human-readable lines: the video, then ``rank. score  label  name`` per class."""
    lines = []
    for result in results:
        lines.append(result["video"])
        for rank, entry in enumerate(result["top_k"], start=1):
            name = f"  {entry['name']}" if entry["name"] is not None else ""
            lines.append(f"  {rank}. {entry['score']:.4f}  {entry['label']}{name}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = build_arg_parser(__doc__, items="VIDEO")
    parser.add_argument(
        "--checkpoint", default="", help="model weights (default: TEST.CHECKPOINT_FILE_PATH)"
    )
    parser.add_argument(
        "--labels", default="", help="class names: one per line, or a JSON list or dict name -> id"
    )
    parser.add_argument("--top-k", type=int, default=5, help="classes shown per video (default: 5)")
    parser.add_argument("--json", action="store_true", help="print only a JSON list on stdout")
    args = parser.parse_args(argv)
    setup_logging(is_master=True, stream=sys.stderr)
    with errors_end_in_one_line(parser):
        cfg, paths = load_tool_config(args)
        if not paths:
            parser.error("no VIDEO given")
        if args.top_k < 1:
            parser.error("--top-k must be at least 1")
        cfg.DATA.SKIP_BAD_TEST_VIDEOS = False
        class_names = read_class_names(args.labels, cfg.MODEL.NUM_CLASSES) if args.labels else None
        checkpoint = args.checkpoint or cfg.TEST.CHECKPOINT_FILE_PATH
        results, errors = predict_videos(cfg, checkpoint, paths, args.top_k, class_names)
    print(json.dumps(results, indent=2) if args.json else format_results(results))
    for error in errors:
        print(f"error: unreadable video {error}", file=sys.stderr)
    return 1 if errors else 0
