"""The resize verb's ``--random-access`` preset: a key frame every 16 frames and 3 B-frames that
no frame references (x264 ``keyint=16 bframes=3 b-pyramid=none``). Torch-free, so that the
verb's ``--help`` gives the values before the encoder (and torch, with the decoder) loads.

Why these values: a training clip (8 x 32 frames at 30 fps) takes 8 frames of a 256-frame span,
one every 32 frames. With a key frame every 16 frames each of its frames gets a seek of its own
(:mod:`timesformer.datasets.clip_plan`): a key frame, the reference frames up to it (at most 15,
fewer than half of them with B-frames that nothing references, which the decoder skips) and the
frame. Measured on 2026-12-03 (random 8 x 32 clips of four 10 s 30 fps videos resized to
568x320, CRF 23, preset medium; synthetic moving texture; clips per CPU second, one thread):
35 frames decoded per clip against 145 from x264's defaults (a key frame every 250 frames,
B-pyramid), 2.05x, 2.06x and 2.32x the clips per CPU second in three runs, for 1.30x the bytes.
A key frame every 8 frames gave 2.8x the clips for 1.68x the bytes (over the 1.6x the target
allows); every 32, 1.3x the clips for 1.20x the bytes; B-frames that other frames reference
(x264's default pyramid) decode a quarter more frames per clip (44) at the same size (1.76x the
clips). 7 B-frames (``--b-frames 7``) did better still on this synthetic video (2.4x the clips
at 1.12x the bytes), whose frames are exactly predictable from their neighbours; the preset
keeps the 3 of x264's presets until real videos are measured.
"""

RANDOM_ACCESS_GOP = 16
"""Frames from one key frame to the next at most."""
RANDOM_ACCESS_B_FRAMES = 3
"""Consecutive B-frames at most (x264's medium preset's)."""
RANDOM_ACCESS_REFERENCE_B_FRAMES = False
"""Whether other frames may reference B-frames (x264's B-pyramid)."""
MAX_B_FRAMES = 16
"""x264's most consecutive B-frames (``--b-frames``)."""
