"""The resize verb's ``--random-access`` preset: a key frame every 16 frames, 3 B-frames that
no frame references, and x264's fast-decode tuning (x264 ``keyint=16 bframes=3 b-pyramid=none
tune=fastdecode``). Torch-free, so that the verb's ``--help`` gives the values before the
encoder (and torch, with the decoder) loads.

Why these values: a training clip (8 x 32 frames at 30 fps) takes 8 frames of a 256-frame span,
one every 32 frames. With a key frame every 16 frames each of its frames gets a seek of its own
(:mod:`timesformer.datasets.clip_plan`): a key frame, the reference frames up to it (at most 15,
fewer than half of them with B-frames that nothing references, which the decoder skips) and the
frame. First measured on 2026-12-03 (random 8 x 32 clips of four 10 s 30 fps videos resized to
568x320, CRF 23, preset medium; synthetic moving texture; clips per CPU second, one thread):
35 frames decoded per clip against 145 from x264's defaults (a key frame every 250 frames,
B-pyramid), 2.05x, 2.06x and 2.32x the clips per CPU second in three runs, for 1.30x the bytes.
A key frame every 8 frames gave 2.8x the clips for 1.68x the bytes (over the 1.6x the target
allows); every 32, 1.3x the clips for 1.20x the bytes; B-frames that other frames reference
(x264's default pyramid) decode a quarter more frames per clip (44) at the same size (1.76x the
clips).

Fast decode: with so few frames decoded per clip, what each frame costs to decode is the rest.
x264's ``tune=fastdecode`` (CAVLC instead of CABAC, no deblocking filter, no weighted
prediction) halves it. Measured on 2026-12-04 with the training loader (``Kinetics(cfg,
"train")[i]``, 72 random clips per encoding in interleaved rounds, one thread, load average
1.0) on the eight 568x320 re-encodes of the loader benchmark's 720p sources
(:mod:`timesformer.benchmarks.mirror_sources`), against the default encoding (134 ms a clip,
1.00x the bytes, luma PSNR 35.76 dB against the source scaled the same way):

==================================  ===========  ======  =========
encoding                            clips/s      bytes   PSNR, dB
==================================  ===========  ======  =========
default + fast decode               2.17x        1.13x   35.40
key frame every 16, 3 B unref.      1.84x        1.44x   35.65
the same + fast decode (preset)     4.53-4.56x   1.53x   35.49
every 24, 3 B unref. + fast decode  3.80x        1.37x   35.65
every 32, 3 B unref. + fast decode  3.09x        1.39x   -
==================================  ===========  ======  =========

The preset is the fastest of these within 1.6x the bytes; ``--gop 24`` gives up a sixth of its
speed for a tenth fewer bytes.
"""

RANDOM_ACCESS_GOP = 16
"""Frames from one key frame to the next at most."""
RANDOM_ACCESS_B_FRAMES = 3
"""Consecutive B-frames at most (x264's medium preset's)."""
RANDOM_ACCESS_REFERENCE_B_FRAMES = False
"""Whether other frames may reference B-frames (x264's B-pyramid)."""
RANDOM_ACCESS_FAST_DECODE = True
"""Whether x264's ``tune=fastdecode`` is on."""
MAX_B_FRAMES = 16
"""x264's most consecutive B-frames (``--b-frames``)."""
