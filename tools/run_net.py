#!/usr/bin/env python3
"""Train and/or test a TimeSformer model from a config file and KEY VALUE overrides.

    python tools/run_net.py --cfg configs/Kinetics/TimeSformer_divST_8x32_224.yaml \
        DATA.PATH_TO_DATA_DIR /data/kinetics NUM_GPUS 8 TRAIN.BATCH_SIZE 8

Trains when TRAIN.ENABLE, then tests when TEST.ENABLE.
"""

import sys

from test_net import test
from train_net import train

from timesformer.config import ConfigError
from timesformer.utils.misc import launch_job
from timesformer.utils.parser import load_config, parse_args, save_config


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg = load_config(args)
    except ConfigError as error:
        print(f"run_net.py: error: {error}", file=sys.stderr)
        return 2
    if cfg.SHARD_ID == 0:
        save_config(cfg)
    if cfg.TRAIN.ENABLE:
        launch_job(cfg, args.init_method, train)
    if cfg.TEST.ENABLE:
        launch_job(cfg, args.init_method, test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
