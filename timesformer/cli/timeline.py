"""Label a long video, or a live stream, over time: the model's scores of sliding windows, as
CSV, JSON and a plot, and optionally an annotated copy of the video.

    python tools/timeline.py --cfg configs/Kinetics/TimeSformer_divST_8x32_224.yaml \\
        --checkpoint TimeSformer_divST_8x32_224_K400.pyth [--class-names classes.json] \\
        [--stride SECONDS] [--top-k 5] [--smooth N] [--batch-size B] [--output-dir DIR] \\
        [--output-video OUT.mp4] [--timeout S] [--max-waiting N] [--input-format FMT] \\
        [--input-option KEY=VALUE ...] SOURCE [KEY VALUE...]

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

SOURCE is a video file, or a live source: a URL FFmpeg reads (rtsp://, udp://, rtp://,
http(s)://, tcp://, srt://, ...), a camera device (/dev/video0: V4L2), or - (a pipe on standard
input; give --input-format, e.g. mpegts, when FFmpeg cannot tell it). A live source is read as
it arrives (frame 0: the first frame that arrives) and the model keeps up or drops: when
--max-waiting windows (default: --batch-size) already wait for the model, the oldest waiting
one is dropped (marked skipped and dropped in the outputs, counted in a note), so a window is
scored within a few model runs of its last frame, however slow the model. The run ends with
the stream, after --timeout seconds without data (a stall or a lost connection; default 10,
also the limit for opening it), or on Ctrl-C, and writes the windows scored by then; the
outputs' default folder for a live source is timeline-YYYYMMDD-HHMMSS in the current folder.
Ctrl-C also stops a file's run early, its outputs written; the exit status is then 130.
"""

import os
import sys
import time

from timesformer.cli.config_loading import load_tool_config
from timesformer.datasets.video_source import is_live
from timesformer.utils.file_io import RunFolderError, folder_problem
from timesformer.utils.logging import setup_logging
from timesformer.utils.parser import build_arg_parser
from timesformer.utils.user_errors import errors_end_in_one_line
from timesformer.visualization.class_names import read_class_names

FILES = ("timeline.csv", "timeline.json", "timeline.png")
"""The files written in the output folder (engine.timeline_outputs.FILES)."""
INTERRUPTED = 130
"""The exit status after Ctrl-C (128 + SIGINT, as a shell reports it), the outputs written."""
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
    add(
        "--output-dir",
        default="",
        help="folder of the outputs (default: VIDEO_NAME.timeline; live: timeline-DATE-TIME)",
    )
    add("--output-video", default="", help="annotated copy of the video (.mp4, .mov, .mkv)")
    live = parser.add_argument_group("live sources")
    live.add_argument(
        "--timeout", type=float, default=10.0, help="seconds without data that end it (10)"
    )
    live.add_argument(
        "--max-waiting",
        type=int,
        default=None,
        help="windows that may wait for the model before the oldest is dropped (--batch-size)",
    )
    live.add_argument("--input-format", default=None, help="FFmpeg's demuxer, e.g. mpegts, v4l2")
    live.add_argument(
        "--input-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an option of FFmpeg's demuxer or protocol, e.g. rtsp_transport=tcp (repeatable)",
    )
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
    if args.timeout <= 0:
        parser.error(f"--timeout must be a positive number of seconds, not {args.timeout}")
    if args.max_waiting is not None and args.max_waiting < 1:
        parser.error("--max-waiting must be at least 1")
    for option in args.input_option:
        if "=" not in option or option.startswith("="):
            parser.error(f"--input-option takes KEY=VALUE, not {option!r}")
    extension = os.path.splitext(args.output_video)[1].lower()
    if args.output_video and extension not in VIDEO_EXTENSIONS:
        parser.error(f"--output-video must end in {', '.join(VIDEO_EXTENSIONS)}")


def output_folder(source: str, output_dir: str, live: bool) -> str:
    """--output-dir, else ``VIDEO_NAME.timeline`` next to a video file, or
    ``timeline-YYYYMMDD-HHMMSS`` (now, UTC) in the current folder for a live source."""
    if output_dir:
        return output_dir
    if live:
        return time.strftime("timeline-%Y%m%d-%H%M%S", time.gmtime())
    return os.path.splitext(source)[0] + ".timeline"


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
    if entry.dropped:
        print(f"{when}  dropped (the model was behind)", flush=True)
        return
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
            parser.error(f"give one SOURCE (got {len(paths)})")
        video = paths[0]
        folder = output_folder(video, args.output_dir, is_live(video))
        check_writable(folder, args.output_video)
        names_path = args.class_names or cfg.TENSORBOARD.CLASS_NAMES_PATH
        class_names = read_class_names(names_path, cfg.MODEL.NUM_CLASSES) if names_path else None
        cfg.DATA.SKIP_BAD_TEST_VIDEOS = False
        cfg.TEST.NUM_SPATIAL_CROPS = 1
        cfg.TEST.BATCH_SIZE = args.batch_size or cfg.TEST.BATCH_SIZE
        timeline = run(cfg, args, video, folder, class_names)
    for note in timeline.notes:
        print(f"note: {note}", file=sys.stderr)
    written = [os.path.join(folder, name) for name in FILES]
    written += [args.output_video] if args.output_video else []
    print(f"wrote {', '.join(written)}", file=sys.stderr)
    return INTERRUPTED if timeline.interrupted else 0


def run(cfg, args, source: str, folder: str, class_names):
    """The timeline of ``source`` (torch loads here) in ``folder``, each window printed as it is
    scored."""
    from timesformer.datasets.video_source import SourceOptions
    from timesformer.engine.timeline import TimelineRequest, video_timeline

    options = dict(option.split("=", 1) for option in args.input_option)
    request = TimelineRequest(
        stride=args.stride,
        top_k=args.top_k,
        output_dir=folder,
        smooth=args.smooth,
        batch_size=cfg.TEST.BATCH_SIZE,
        output_video=args.output_video,
        class_names=class_names,
        source=SourceOptions(args.timeout, args.input_format, options),
        max_waiting=args.max_waiting,
    )
    checkpoint = args.checkpoint or cfg.TEST.CHECKPOINT_FILE_PATH
    timeline, _ = video_timeline(cfg, checkpoint, source, request, on_entry=print_entry)
    return timeline
