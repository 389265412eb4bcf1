"""`make demo`: the whole pipeline on real mp4 files, on a CPU, in minutes.

Generates the demo set (clips labelled only by their direction of motion) if it
is missing, trains and tests the tiny divided space-time model, then its
space-only twin, and prints a report. The last line is machine-readable:

    demo: divided_space_time top1_acc=XX.X space_only top1_acc=YY.Y seconds=NNN
"""

import argparse
import os
import time

from timesformer.cli.config_loading import load_command_config
from timesformer.config.packaged import checkout_root, packaged_file
from timesformer.utils.output_lock import lock_output_dir
from timesformer.utils.parser import build_arg_parser, save_config
from timesformer.utils.user_errors import errors_end_in_one_line

CONFIGS = {
    "divided_space_time": "Demo/TimeSformer_divST_tiny.yaml",
    "space_only": "Demo/TimeSformer_spaceOnly_tiny.yaml",
}
"""The demo's packaged configs (configs/Demo/), by attention type."""
TRAIN_CLIPS_PER_CLASS, TEST_CLIPS_PER_CLASS = 200, 60


def build_parser() -> argparse.ArgumentParser:
    parser = build_arg_parser(__doc__, config=False)
    parser.add_argument(
        "--data-dir",
        default=os.path.join(checkout_root() or os.getcwd(), ".cache", "demo_data"),
        help="Where the demo set is generated (once) and read from (default: .cache/demo_data "
        "in the checkout, or in this folder for an installed package).",
    )
    parser.add_argument(
        "--output-dir",
        default=None,
        help="Where checkpoints, logs and TensorBoard files go, one folder per model "
        "(default: each config's OUTPUT_DIR, output/demo/<attention type>).",
    )
    parser.add_argument("--train-clips-per-class", type=int, default=TRAIN_CLIPS_PER_CLASS)
    parser.add_argument(
        "--test-clips-per-class",
        type=int,
        default=TEST_CLIPS_PER_CLASS,
        help="Test clips of each class; the validation set has half as many.",
    )
    parser.add_argument("--epochs", type=int, default=None, help="Override SOLVER.MAX_EPOCH.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the generated set.")
    parser.add_argument(
        "opts",
        nargs=argparse.REMAINDER,
        metavar="KEY VALUE",
        help="Config overrides applied to both models.",
    )
    return parser


def _print_progress(done: int, total: int) -> None:
    if done % 40 == 0 or done == total:
        print(f"  generated {done}/{total} clips", flush=True)


def _demo_config(attention: str, args: argparse.Namespace):
    # Every demo run trains from scratch and tests what it trained, even where an
    # earlier run left checkpoints (they are overwritten epoch by epoch, never deleted).
    overrides = [
        "DATA.PATH_TO_DATA_DIR",
        args.data_dir,
        "DATA.PATH_PREFIX",
        args.data_dir,
        "TRAIN.AUTO_RESUME",
        "False",
    ]
    if args.output_dir is not None:
        overrides += ["OUTPUT_DIR", os.path.join(args.output_dir, attention)]
    if args.epochs is not None:
        overrides += ["SOLVER.MAX_EPOCH", str(args.epochs)]
    config = packaged_file(CONFIGS[attention])
    namespace = argparse.Namespace(cfg_file=config, opts=overrides + list(args.opts))
    return load_command_config(namespace)


def run_demo(args: argparse.Namespace) -> dict:
    """Generate data, train and test both models; return {attention: (top1, cfg)}."""
    configs = {attention: _demo_config(attention, args) for attention in CONFIGS}
    # torch loaded with the first config's implementations; the engine and the data generator
    # load here, after the arguments and the configs are checked
    from timesformer.checkpoint.training_state import get_path_to_checkpoint
    from timesformer.datasets.demo_data import DemoSpec, generate_demo_dataset
    from timesformer.engine.tester import test
    from timesformer.engine.trainer import train

    spec = DemoSpec(
        clips_per_class={
            "train": args.train_clips_per_class,
            "val": max(2, args.test_clips_per_class // 2),
            "test": args.test_clips_per_class,
        },
        seed=args.seed,
    )
    print(f"Demo data: {args.data_dir}", flush=True)
    if not generate_demo_dataset(args.data_dir, spec, progress=_print_progress):
        print("  already generated; reusing it", flush=True)
    results = {}
    for attention, cfg in configs.items():
        print(
            f"\n=== {attention}: training {cfg.SOLVER.MAX_EPOCH} epochs, then testing ===",
            flush=True,
        )
        with lock_output_dir(cfg.OUTPUT_DIR):
            save_config(cfg)
            train(cfg)
            cfg.TEST.CHECKPOINT_FILE_PATH = get_path_to_checkpoint(
                cfg.OUTPUT_DIR, cfg.SOLVER.MAX_EPOCH - 1
            )
            stats = test(cfg)
        assert stats is not None  # one process, the master, which returns them
        results[attention] = (stats["top1_acc"], cfg)
    return results


def _report(results: dict, seconds: float) -> None:
    from timesformer.datasets.demo_data import CLASS_NAMES
    from timesformer.visualization.tensorboard_vis import tensorboard_log_dir

    print("\n" + "=" * 72)
    print(
        f"TimeSformer demo: {len(CLASS_NAMES)} classes told apart by direction of motion only "
        f"(chance {100 / len(CLASS_NAMES):.0f}%)"
    )
    for attention, (top1, cfg) in results.items():
        print(f"  {attention:<20s} test top-1 {top1:5.1f}%   output: {cfg.OUTPUT_DIR}")
    divided_cfg = results["divided_space_time"][1]
    checkpoint = divided_cfg.TEST.CHECKPOINT_FILE_PATH
    print(f"Time: {seconds:.0f} s")
    print(f"Checkpoint:   {checkpoint}")
    print(f"Logs:         {os.path.join(divided_cfg.OUTPUT_DIR, 'stdout.log')}")
    print(f"TensorBoard:  {tensorboard_log_dir(divided_cfg)}")
    sample = os.path.join(divided_cfg.DATA.PATH_PREFIX, "videos", "test", "moving_right_0000.mp4")
    print("Next:")
    print(
        f"  timesformer predict --cfg {CONFIGS['divided_space_time']} "
        f"--checkpoint {checkpoint} "
        f"--labels {os.path.join(divided_cfg.DATA.PATH_TO_DATA_DIR, 'classes.txt')} {sample}"
    )
    print(f"  tensorboard --logdir {os.path.dirname(divided_cfg.OUTPUT_DIR)}")
    print(
        f"  timesformer run --cfg {CONFIGS['divided_space_time']} "
        f"TRAIN.ENABLE False TEST.CHECKPOINT_FILE_PATH {checkpoint}"
    )
    print("=" * 72)
    print(
        f"demo: divided_space_time top1_acc={results['divided_space_time'][0]:.1f} "
        f"space_only top1_acc={results['space_only'][0]:.1f} seconds={seconds:.0f}"
    )


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    start = time.perf_counter()
    with errors_end_in_one_line(parser):
        results = run_demo(args)
    _report(results, time.perf_counter() - start)
    return 0
