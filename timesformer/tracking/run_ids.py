"""``OUTPUT_DIR/trackers.json``: the run id of each tracker, ``{"mlflow": "...", "wandb":
"..."}``, so that a later run in the same OUTPUT_DIR (auto-resume, the test after training)
continues the same tracker runs."""

import json
import os

from timesformer.utils.file_io import atomic_write
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)

RUN_IDS_FILE = "trackers.json"


def run_ids_path(output_dir: str) -> str:
    return os.path.join(output_dir, RUN_IDS_FILE)


def read_run_ids(output_dir: str) -> dict[str, str]:
    """The kept run ids; ``{}`` when there are none. A damaged file is a warning and ``{}``
    (the trackers start new runs), never an error."""
    path = run_ids_path(output_dir)
    if not os.path.exists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as stream:
            ids = json.load(stream)
    except (OSError, ValueError) as error:
        logger.warning("%s cannot be read (%s); the trackers start new runs.", path, error)
        return {}
    if not isinstance(ids, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in ids.items()
    ):
        logger.warning("%s is not a JSON object of run ids; the trackers start new runs.", path)
        return {}
    return ids


def write_run_ids(output_dir: str, ids: dict[str, str]) -> None:
    """Keep ``ids`` (atomically: a crash leaves the old file or the new one). A file that cannot
    be written is a warning: the run goes on, a later one starts new tracker runs."""
    path = run_ids_path(output_dir)
    try:
        with atomic_write(path, binary=False) as stream:
            json.dump(ids, stream, indent=2, sort_keys=True)
    except OSError as error:
        logger.warning(
            "%s cannot be written (%s); a resumed run will start new tracker runs.", path, error
        )
