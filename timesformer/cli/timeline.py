"""Label a long video over time: the model's scores of sliding windows, as CSV, JSON and a plot,
and optionally an annotated copy of the video.

    python tools/timeline.py --cfg configs/Kinetics/TimeSformer_divST_8x32_224.yaml \\
        --checkpoint TimeSformer_divST_8x32_224_K400.pyth [--class-names classes.json] \\
        [--stride SECONDS] [--top-k 5] [--smooth N] [--batch-size B] [--output-dir DIR] \\
        [--output-video OUT.mp4] VIDEO [KEY VALUE...]

A window is the model's clip: DATA.NUM_FRAMES frames DATA.SAMPLING_RATE apart at
DATA.TARGET_FPS (NUM_FRAMES * SAMPLING_RATE / TARGET_FPS seconds), the frames a test view
takes for a clip there, as the single-crop (centre) test view. Windows start every --stride
seconds (default: half a window); the video's windows are those that end inside it. The video
is decoded once, in order, keeping only the frames the open windows need; each window is scored
as predict scores a video (softmax; sigmoid with DATA.MULTI_LABEL), --batch-size windows per
model run (default TEST.BATCH_SIZE), and printed as it is scored. --smooth N (odd) replaces
each window's scores by their centred mean over N windows before the top-k and the argmax.

Writes --output-dir (default: VIDEO_NAME.timeline/ next to the video): timeline.csv and
timeline.json (per window: start and end in seconds, skipped, the top-k), timeline.png. A
video shorter than one window gets one window, its last frame repeated; windows over frames
that cannot be decoded are marked skipped. --output-video (.mp4, .mov, .mkv): the video with
each frame's window label drawn on it, H.264 at its frame rate; a frame is labelled by the
latest window that covers it, so it is written once that window is scored.
"""

import os
import sys

from timesformer.cli.config_loading import load_tool_config
from timesformer.utils.file_io import RunFolderError, folder_problem
from timesformer.utils.logging import setup_logging
from timesformer.utils.parser import build_arg_parser
from timesformer.utils.user_errors import errors_end_in_one_line
from timesformer.visualization.class_names import read_class_names

VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv")
"""What --output-video may end in (the formats of engine.annotated_video.VIDEO_FORMATS)."""


def build_parser():
    parser = build_arg_parser(__doc__, items="VIDEO")
    add = parser.add_argument
    add("--checkpoint", default="", help="model weights (default: TEST.CHECKPOINT_FILE_PATH)")
    add(
        "--class-names",
        "--labels",
        dest="class_names",
        default="",
        help="class names: one per line, or a JSON list or dict name -> id "
        "(default: TENSORBOARD.CLASS_NAMES_PATH)",
    )
    add("--stride", type=float, default=None, help="seconds between windows (default: half one)")
    add("--top-k", type=int, default=5, help="classes kept per window (default: 5)")
    add("--smooth", type=int, default=1, help="centred mean over N windows, N odd (default: 1)")
    add("--batch-size", type=int, default=None, help="windows per model run (TEST.BATCH_SIZE)")
    add("--output-dir", default="", help="folder of the outputs (default: VIDEO_NAME.timeline)")
    add("--output-video", default="", help="annotated copy of the video (.mp4, .mov, .mkv)")
    return parser


def check_arguments(parser, args) -> None:
    """The options' values that need no config, named before torch loads."""
    if args.stride is not None and args.stride <= 0:
        parser.error(f"--stride must be a positive number of seconds, not {args.stride}")
    if args.top_k < 1:
        parser.error("--top-k must be at least 1")
    if args.smooth < 1 or args.smooth % 2 == 0:
        parser.error(f"--smooth must be an odd number of windows (centred), not {args.smooth}")
    if args.batch_size is not None and args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    extension = os.path.splitext(args.output_video)[1].lower()
    if args.output_video and extension not in VIDEO_EXTENSIONS:
        parser.error(f"--output-video must end in {', '.join(VIDEO_EXTENSIONS)}")


def output_folder(video: str, output_dir: str) -> str:
    """--output-dir, else ``VIDEO_NAME.timeline`` next to the video."""
    return output_dir or os.path.splitext(video)[0] + ".timeline"


def check_writable(folder: str, output_video: str) -> None:
    """RunFolderError naming the output folder (or the annotated copy's) that cannot be
    written, before anything is decoded."""
    for where in (folder, os.path.dirname(os.path.abspath(output_video)) if output_video else ""):
        problem = folder_problem(where) if where else None
        if problem:
            culprit, why = problem
            raise RunFolderError(f"Cannot write the outputs in {where}: {culprit} {why}.")


def print_entry(entry) -> None:
    """One line per window: its time range, then its top-1 name (or label) and score."""
    when = f"{entry.start:8.2f}-{entry.end:8.2f} s"
    if entry.skipped:
        print(f"{when}  skipped (frames could not be decoded)", flush=True)
        return
    best = entry.top_k[0]
    name = best["name"] if best["name"] is not None else str(best["label"])
    print(f"{when}  {name}  {best['score']:.4f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(is_master=True, stream=sys.stderr)
    with errors_end_in_one_line(parser):
        check_arguments(parser, args)
        cfg, paths = load_tool_config(args)
        if len(paths) != 1:
            parser.error(f"give one VIDEO (got {len(paths)})")
        video = paths[0]
        folder = output_folder(video, args.output_dir)
        check_writable(folder, args.output_video)
        names_path = args.class_names or cfg.TENSORBOARD.CLASS_NAMES_PATH
        class_names = read_class_names(names_path, cfg.MODEL.NUM_CLASSES) if names_path else None
        cfg.DATA.SKIP_BAD_TEST_VIDEOS = False
        cfg.TEST.NUM_SPATIAL_CROPS = 1
        cfg.TEST.BATCH_SIZE = args.batch_size or cfg.TEST.BATCH_SIZE
        timeline = run(cfg, args, video, class_names)
        written = write_outputs(timeline, folder)
    for note in timeline.notes:
        print(f"note: {note}", file=sys.stderr)
    written += [args.output_video] if args.output_video else []
    print(f"wrote {', '.join(written)}", file=sys.stderr)
    return 0


def write_outputs(timeline, folder: str) -> list[str]:
    """timeline.csv, timeline.json and timeline.png in ``folder``; their paths."""
    from timesformer.engine.timeline_outputs import write_timeline

    return write_timeline(timeline, folder)


def run(cfg, args, video: str, class_names):
    """The timeline of ``video`` (torch loads here), each window printed as it is scored."""
    from timesformer.engine.timeline import TimelineRequest, video_timeline

    request = TimelineRequest(
        stride=args.stride,
        top_k=args.top_k,
        smooth=args.smooth,
        batch_size=cfg.TEST.BATCH_SIZE,
        output_video=args.output_video,
        class_names=class_names,
    )
    checkpoint = args.checkpoint or cfg.TEST.CHECKPOINT_FILE_PATH
    timeline, _ = video_timeline(cfg, checkpoint, video, request, on_entry=print_entry)
    return timeline
