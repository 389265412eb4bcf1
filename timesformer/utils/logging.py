"""Logging: console and ``OUTPUT_DIR/stdout.log`` on the master process, json_stats lines.

Only the master process (global rank 0) writes; the other processes report
errors alone, so that N processes do not print N copies of every line.
"""

import decimal
import logging
import os
import sys

import simplejson

_FORMAT = "[%(asctime)s][%(levelname)s] %(name)s:%(lineno)d: %(message)s"
_DATE_FORMAT = "%m/%d %H:%M:%S"
LOG_FILE_NAME = "stdout.log"


def setup_logging(
    output_dir: str | None = None, is_master: bool | None = None, stream=None
) -> None:
    """Configure the root logger for this process.

    Args:
        output_dir: when given (master only), lines are also appended to
            ``output_dir/stdout.log``; earlier lines are kept.
        is_master: whether this process writes logs; default: global rank 0.
        stream: the console stream, stdout by default; the tools that print their
            results on stdout log to stderr.
    """
    if is_master is None:
        is_master = _is_global_rank_0()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    formatter = logging.Formatter(_FORMAT, datefmt=_DATE_FORMAT)
    if not is_master:
        root.setLevel(logging.ERROR)
        errors = logging.StreamHandler(sys.stderr)
        errors.setFormatter(formatter)
        root.addHandler(errors)
        return
    root.setLevel(logging.INFO)
    console = logging.StreamHandler(stream or sys.stdout)
    console.setFormatter(formatter)
    root.addHandler(console)
    if output_dir:
        os.makedirs(output_dir, exist_ok=True)
        log_file = logging.FileHandler(os.path.join(output_dir, LOG_FILE_NAME), mode="a")
        log_file.setFormatter(formatter)
        root.addHandler(log_file)


def _is_global_rank_0() -> bool:
    """:func:`timesformer.utils.distributed.is_master_proc`, without loading torch: a process that
    has not loaded torch.distributed is in no process group yet, so it is rank 0 as far as it
    knows (as ``is_master_proc`` says before the group starts)."""
    if "torch.distributed" not in sys.modules:
        return True
    from timesformer.utils.distributed import is_master_proc

    return is_master_proc()


def get_logger(name: str) -> logging.Logger:
    """The logger of module ``name``."""
    return logging.getLogger(name)


def _rounded(value):
    if isinstance(value, float):
        return decimal.Decimal(f"{value:.6g}")
    return value


def log_json_stats(stats: dict, logger: logging.Logger | None = None) -> None:
    """Log ``stats`` as one ``json_stats: {...}`` line (floats to 6 significant digits)."""
    rounded = {key: _rounded(value) for key, value in stats.items()}
    line = simplejson.dumps(rounded, sort_keys=True, use_decimal=True)
    (logger or logging.getLogger(__name__)).info("json_stats: %s", line)
