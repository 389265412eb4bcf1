"""Logging: console and ``OUTPUT_DIR/stdout.log`` on the master process, json_stats lines.

Only the master process (global rank 0) writes; the other processes report
errors alone, so that N processes do not print N copies of every line. Records logged with
``extra=FILE_ONLY`` (the json_stats lines, the whole config) go to ``stdout.log`` alone unless
the console asks for them (CONSOLE.PROGRESS "json", the original's console); the console shows
progress bars and summaries instead (:mod:`timesformer.engine.console_progress`). Console lines
go through ``tqdm.write``, so that they never break a live progress bar.
"""

import decimal
import json
import logging
import os
import sys

import simplejson
from fvcore.common.config import CfgNode
from tqdm import tqdm

_FORMAT = "[%(asctime)s][%(levelname)s] %(name)s:%(lineno)d: %(message)s"
_DATE_FORMAT = "%m/%d %H:%M:%S"
LOG_FILE_NAME = "stdout.log"
FILE_ONLY = {"file_only": True}
"""``extra`` of a record for stdout.log alone (unless the console shows them: ``console_json``)."""


class _ConsoleHandler(logging.StreamHandler):
    """The console: lines written with ``tqdm.write`` (a live bar is redrawn below them);
    records marked :data:`FILE_ONLY` left out unless ``console_json``."""

    def __init__(self, stream, console_json: bool):
        super().__init__(stream)
        self.console_json = console_json

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "file_only", False) and not self.console_json:
            return False
        return bool(super().filter(record))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            tqdm.write(self.format(record), file=self.stream)
            self.flush()
        except Exception:  # logging's own contract: a handler never raises
            self.handleError(record)


def setup_logging(
    output_dir: str | None = None,
    is_master: bool | None = None,
    stream=None,
    console_json: bool = True,
) -> None:
    """Configure the root logger for this process.

    Args:
        output_dir: when given (master only), lines are also appended to
            ``output_dir/stdout.log``; earlier lines are kept.
        is_master: whether this process writes logs; default: global rank 0.
        stream: the console stream, stdout by default; the tools that print their
            results on stdout log to stderr.
        console_json: the console shows the :data:`FILE_ONLY` records too (json_stats, the
            config); the training and test loops turn it off unless CONSOLE.PROGRESS is
            "json".
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
    console = _ConsoleHandler(stream or sys.stdout, console_json)
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


def setup_run_logging(cfg: CfgNode) -> None:
    """:func:`setup_logging` of a run's process: OUTPUT_DIR/stdout.log, and json_stats and the
    config on the console only with CONSOLE.PROGRESS "json"."""
    setup_logging(cfg.OUTPUT_DIR, console_json=cfg.CONSOLE.PROGRESS == "json")


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
    (logger or logging.getLogger(__name__)).info("json_stats: %s", line, extra=FILE_ONLY)


def read_json_stats(path: str, start: int = 0) -> list[dict]:
    """The json_stats records of the log file ``path`` (a run's stdout.log), in order, from
    byte ``start`` on (where an earlier size of the file left off); none when it is missing."""
    if not os.path.isfile(path):
        return []
    records = []
    with open(path, "rb") as stream:
        stream.seek(start)
        for raw in stream:
            line = raw.decode("utf-8", errors="replace")
            if "json_stats: " in line:
                records.append(json.loads(line.split("json_stats: ", 1)[1]))
    return records
