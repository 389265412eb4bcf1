"""timesformer.engine.user_errors: which errors end a run with their message alone."""

import pytest
import torch

from timesformer.config import ConfigError
from timesformer.datasets.video_container import VideoReadError
from timesformer.engine.user_errors import stopped_run


class FailingVideos(torch.utils.data.Dataset):
    def __init__(self, error: Exception):
        self.error = error

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int):
        raise self.error


def _raised_by_a_loader_worker(error: Exception) -> Exception:
    with pytest.raises(Exception) as raised:
        next(iter(torch.utils.data.DataLoader(FailingVideos(error), num_workers=1)))
    return raised.value


def test_errors_a_message_explains_and_bugs():
    config = stopped_run(ConfigError("X is 0"))
    assert (str(config), config.exit_status) == ("X is 0", 2)
    video = stopped_run(VideoReadError("/v.mp4", "file not found"))
    assert (str(video), video.exit_status) == ("/v.mp4: file not found", 1)
    assert stopped_run(ZeroDivisionError("integer modulo by zero")) is None


def test_error_of_a_loader_worker_is_its_message_not_the_workers_traceback():
    """The loader re-raises a worker's error with the worker's traceback as its message."""
    raised = _raised_by_a_loader_worker(VideoReadError("/v.mp4", "cannot open", advice="fix it"))
    assert "Traceback" in str(raised)
    stopped = stopped_run(raised)
    assert (str(stopped), stopped.exit_status) == ("/v.mp4: cannot open (fix it)", 1)
    assert stopped_run(_raised_by_a_loader_worker(KeyError("a bug"))) is None
