"""timesformer/benchmarks/decode_floor.py: the floor timed in a process of its own while a loader
runs counts only the spans it decodes once the timing started."""

import os
import time

from helpers import VIDEOS
from timesformer.benchmarks.decode_floor import FloorDuringLoader
from timesformer.config.defaults import get_cfg


def test_the_floor_counts_the_spans_it_decodes_while_the_loader_is_timed(kinetics_dir):
    cfg = get_cfg()
    cfg.DATA.NUM_FRAMES, cfg.DATA.SAMPLING_RATE = 4, 2  # spans of 8 frames at 30 fps
    paths = [os.path.join(kinetics_dir, name) for name in VIDEOS]
    with FloorDuringLoader(cfg, paths) as untimed:
        time.sleep(1.0)  # spans decoded, none counted: the timing never started
    assert 0 < untimed.timing["frames"] <= 8  # the one span decoded after the block
    with FloorDuringLoader(cfg, paths) as timed:
        timed.start_timing()
        time.sleep(1.0)
    assert timed.timing["frames"] > 8 * len(paths) and timed.timing["seconds"] > 0
