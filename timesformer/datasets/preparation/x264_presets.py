"""x264's presets, the values of the resize command line's ``--preset``: torch-free, so that its
``--help`` lists them before the encoder (and torch, with the decoder) loads."""

X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)
"""x264's presets, fastest first; ``medium`` is x264's (and ffmpeg's) default."""
