"""Draw where the model looks in a video: PNG heat maps over the frames and the temporal attention.

    python tools/visualize_attention.py --cfg FILE --checkpoint CKPT --output-dir DIR \\
        [--view INDEX] VIDEO... [KEY VALUE...]

For one test view of each video (default: the middle temporal clip, center crop;
views are numbered temporal-major as in tools/test_net.py), writes
DIR/<video name>_spatial.png: the frames, the CLS token's attention over the
patches in the last block, and the attention rollout over all blocks, overlaid
on the frames the model saw; and DIR/<video name>_temporal.png: per block,
how much a frame's patches attend to each frame (divided: the temporal
attention; joint: attention summed over each frame's patches; space-only:
none across frames). Unreadable videos are reported and make the exit status 1.
"""

import os
import sys
from typing import TYPE_CHECKING

from timesformer.cli.config_loading import load_tool_config
from timesformer.config.batch import views_per_video
from timesformer.utils.logging import setup_logging
from timesformer.utils.parser import build_arg_parser
from timesformer.utils.user_errors import errors_end_in_one_line

if TYPE_CHECKING:
    from timesformer.datasets.clip_dataset import ClipDataset


def default_view(cfg) -> int:
    """The middle temporal clip's center crop."""
    crops = cfg.TEST.NUM_SPATIAL_CROPS
    return (cfg.TEST.NUM_ENSEMBLE_VIEWS // 2) * crops + crops // 2


def visualize_video(
    cfg, vit, dataset: "ClipDataset", video_idx: int, view: int, output_dir: str
) -> list[str]:
    """Write the two PNGs of one video; return their paths. Raises VideoReadError."""
    # imported here: --help and the argument and config checks answer before torch loads
    from timesformer.visualization.attention_maps import attention_maps
    from timesformer.visualization.attention_plots import (
        displayable_frames,
        save_figure,
        spatial_attention_figure,
        temporal_attention_figure,
    )

    clip = dataset[video_idx * dataset.views_per_video + view][0]  # (3, T, H, W)
    maps = attention_maps(vit, clip)
    video = dataset.paths[video_idx]
    name = os.path.splitext(os.path.basename(video))[0]
    title = f"{video}, view {view}"
    frames = displayable_frames(clip, cfg.DATA.MEAN, cfg.DATA.STD, cfg.DATA.REVERSE_INPUT_CHANNEL)
    spatial = spatial_attention_figure(frames, maps, title)
    temporal = temporal_attention_figure(maps.temporal, vit.attention_type, title)
    return [
        save_figure(spatial, os.path.join(output_dir, f"{name}_spatial.png")),
        save_figure(temporal, os.path.join(output_dir, f"{name}_temporal.png")),
    ]


def visualize_videos(cfg, checkpoint: str, paths: list[str], view: int, output_dir: str) -> int:
    """Write the PNGs of every video of ``paths``, seen by the model of ``checkpoint``, into
    ``output_dir`` (created), printing their paths; report each unreadable video on stderr;
    return how many were unreadable."""
    from timesformer.datasets.video_container import VideoReadError
    from timesformer.engine.inference import load_inference_model, views_of_files
    from timesformer.models.vit import find_vision_transformer

    vit = find_vision_transformer(load_inference_model(cfg, checkpoint))
    dataset = views_of_files(cfg, paths)
    os.makedirs(output_dir, exist_ok=True)
    failed = 0
    for video_idx in range(dataset.num_videos):
        try:
            print("\n".join(visualize_video(cfg, vit, dataset, video_idx, view, output_dir)))
        except VideoReadError as err:
            print(f"error: unreadable video {err.path}: {err.reason}", file=sys.stderr)
            failed += 1
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = build_arg_parser(__doc__, items="VIDEO")
    parser.add_argument(
        "--checkpoint", default="", help="model weights (default: TEST.CHECKPOINT_FILE_PATH)"
    )
    parser.add_argument("--output-dir", required=True, help="folder of the PNG files")
    parser.add_argument(
        "--view",
        type=int,
        default=None,
        help="test view to draw (default: middle clip, center crop)",
    )
    args = parser.parse_args(argv)
    setup_logging(is_master=True, stream=sys.stderr)
    with errors_end_in_one_line(parser):
        cfg, paths = load_tool_config(args)
        if not paths:
            parser.error("no VIDEO given")
        cfg.DATA.SKIP_BAD_TEST_VIDEOS = False
        view = default_view(cfg) if args.view is None else args.view
        views = views_per_video(cfg)
        if not 0 <= view < views:
            parser.error(f"--view is {view}; a video has views 0..{views - 1}")
        checkpoint = args.checkpoint or cfg.TEST.CHECKPOINT_FILE_PATH
        return 1 if visualize_videos(cfg, checkpoint, paths, view, args.output_dir) else 0
