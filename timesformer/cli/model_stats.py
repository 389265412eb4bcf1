"""Print a model's parameters, FLOPs per view and per video, and activations.

    python tools/model_stats.py --cfg configs/Kinetics/TimeSformer_divST_8x32_224.yaml
        [--json] [KEY VALUE...]

FLOPs are fvcore's (one fused multiply-add = one FLOP, attention products
included) for one test view of NUM_FRAMES x TEST_CROP_SIZE^2, and for a video's
TEST.NUM_ENSEMBLE_VIEWS x TEST.NUM_SPATIAL_CROPS views, with every token through
every block as the paper counts; "executed" is what this implementation's
forward pass computes. Runs on the CPU.
"""

import json
import sys

from timesformer.cli.config_loading import load_tool_config
from timesformer.utils.logging import setup_logging
from timesformer.utils.parser import build_arg_parser
from timesformer.utils.user_errors import errors_end_in_one_line


def measure(cfg) -> dict:
    """:func:`~timesformer.models.flops.model_stats` of the model ``cfg`` describes."""
    # imported here: --help and the argument and config checks answer before torch loads
    from timesformer.models.build import build_bare_model
    from timesformer.models.flops import model_stats

    return model_stats(build_bare_model(cfg), cfg)


def main(argv: list[str] | None = None) -> int:
    parser = build_arg_parser(__doc__)
    parser.add_argument(
        "--json", action="store_true", help="print the statistics as one JSON object"
    )
    args = parser.parse_args(argv)
    setup_logging(is_master=True, stream=sys.stderr)
    with errors_end_in_one_line(parser):
        cfg, extra = load_tool_config(args)
        if extra:
            parser.error(f"unexpected arguments before the config overrides: {' '.join(extra)}")
        stats = measure(cfg)
    if args.json:
        print(json.dumps(stats))
        return 0
    print(f"parameters:  {stats['params_m']:.2f} M")
    print(f"FLOPs/view:  {stats['gflops_per_view']:.2f} G")
    print(f"FLOPs/video: {stats['gflops_per_video']:.2f} G ({stats['views_per_video']} views)")
    print(f"activations: {stats['activations_m']:.2f} M per view")
    print(
        f"executed:    {stats['computed_gflops_per_view']:.2f} GFLOPs per view "
        "(by this implementation's exact shortcuts)"
    )
    return 0
