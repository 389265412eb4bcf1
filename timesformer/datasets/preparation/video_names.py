"""Which files are videos, and which video paths a split file can hold.

A split file line is ``path label``: the reader strips the line and splits it at its last
separator, so a path may hold spaces, but not a line break, nor whitespace at its start or end;
and a name that is not UTF-8 cannot be written in a UTF-8 text file at all.
"""

import os
import unicodedata

VIDEO_EXTENSIONS = frozenset(
    (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv", ".3gp")
)
"""Extensions (lower case, with the dot) of the files taken for videos."""

_ODD_CATEGORIES = frozenset(("Cc", "Cs", "Zl", "Zp"))
"""Unicode categories a path may not hold: control characters (newline, tab, escape...),
surrogates (how Python spells the bytes of a name that is not UTF-8), line and paragraph
separators."""


def is_video(name: str) -> bool:
    """Whether the file ``name`` is taken for a video: a known extension (any case), and not a
    hidden file (``.name``: e.g. the ``._name.mp4`` resource forks macOS leaves behind)."""
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in VIDEO_EXTENSIONS


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot be written in a split file, or None when it can.

    The reasons: a byte sequence that is not UTF-8, a control character (a newline, a tab...)
    or a line separator, whitespace at the start or end (the reader strips it).
    """
    if any(unicodedata.category(char) in _ODD_CATEGORIES for char in path):
        if any(unicodedata.category(char) == "Cs" for char in path):
            return "its name is not valid UTF-8"
        return "its name holds a control character or a line break"
    if path != path.strip():
        return "its name starts or ends with whitespace, which the split file reader strips"
    return None


def shown(path: str) -> str:
    """``path`` as a message shows it on one line: as it is, or quoted with escapes (``\\n``,
    ``\\udcff``) when it holds characters that would break or hide in a line."""
    return path if path_problem(path) is None else ascii(path)
