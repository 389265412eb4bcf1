"""timesformer.errors: the one family of errors a user can act on from their message alone, their
exit statuses, and their class and one-line message when a DataLoader worker raised them."""

import importlib
import pkgutil

import pytest
import torch

import timesformer
from timesformer.checkpoint.files import CheckpointError
from timesformer.cli.benchmark import GpuFigureError
from timesformer.cli.export import ExportMismatchError
from timesformer.config import ConfigError
from timesformer.datasets.clip_dataset import TooManyUnreadableVideosError
from timesformer.datasets.preparation.errors import PreparationError
from timesformer.datasets.split_file import SplitFileError
from timesformer.datasets.video_container import VideoReadError
from timesformer.engine.launch import RendezvousError
from timesformer.engine.submission import SubmissionRefused, SubmitError
from timesformer.engine.trainer import NonFiniteLossError
from timesformer.errors import TimesformerError, worker_message
from timesformer.utils.file_io import DiskFullError, RunFolderError
from timesformer.utils.output_lock import OutputDirLockedError
from timesformer.utils.user_errors import RunStopped
from timesformer.visualization.class_names import ClassNamesError

FAMILY = {
    ConfigError: (2, ValueError),
    SubmitError: (2, Exception),
    CheckpointError: (1, ValueError),
    ClassNamesError: (1, ValueError),
    SplitFileError: (1, ValueError),
    VideoReadError: (1, RuntimeError),
    TooManyUnreadableVideosError: (1, RuntimeError),
    OutputDirLockedError: (1, RuntimeError),
    NonFiniteLossError: (1, FloatingPointError),
    DiskFullError: (1, OSError),
    RunFolderError: (1, OSError),
    SubmissionRefused: (1, Exception),
    RunStopped: (1, Exception),
    ExportMismatchError: (1, Exception),
    GpuFigureError: (1, Exception),
    PreparationError: (2, ValueError),
    RendezvousError: (1, RuntimeError),
}
"""Every error class of the package a user can act on: (exit status, the base class it had
before the family, which ``except`` clauses written against it still catch)."""

WORKER_TEXT = (
    "Caught {name} in DataLoader worker process 0.\n"
    "Original Traceback (most recent call last):\n"
    '  File "/site-packages/torch/utils/data/_utils/worker.py", line 349, in _worker_loop\n'
    "    data = fetcher.fetch(index)\n"
    '  File "/work/timesformer/datasets/kinetics.py", line 80, in __getitem__\n'
    "    raise {name}(message)\n"
    "{module}.{name}: /data/v.mp4: cannot open: Invalid data found (fix it)\n"
)
"""What PyTorch's ExceptionWrapper.reraise passes to an error class re-raising a worker's error."""


def _name(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def _subclasses(kind: type) -> set[type]:
    return {sub for direct in kind.__subclasses__() for sub in {direct, *_subclasses(direct)}}


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


def test_every_error_a_user_can_act_on_is_of_the_family():
    for module in pkgutil.walk_packages(timesformer.__path__, "timesformer."):
        importlib.import_module(module.name)
    assert {_name(kind) for kind in _subclasses(TimesformerError)} == set(map(_name, FAMILY))


@pytest.mark.parametrize("kind", FAMILY, ids=lambda kind: kind.__name__)
def test_exit_status_and_the_base_class_kept(kind):
    exit_status, base = FAMILY[kind]
    error = kind("the message")
    assert isinstance(error, TimesformerError) and isinstance(error, base)
    assert (str(error), error.exit_status) == ("the message", exit_status)


@pytest.mark.parametrize("kind", FAMILY, ids=lambda kind: kind.__name__)
def test_every_class_is_made_from_a_workers_traceback_as_its_one_line(kind):
    text = WORKER_TEXT.format(name=kind.__name__, module=kind.__module__)
    assert str(kind(text)) == "/data/v.mp4: cannot open: Invalid data found (fix it)"


def test_other_text_is_the_message_as_it_is():
    assert worker_message("Caught you: a.mp4: no frames") == "Caught you: a.mp4: no frames"
    assert worker_message("line one\nline two") == "line one\nline two"


@pytest.mark.parametrize(
    "error, message",
    [
        (VideoReadError("/v.mp4", "cannot open", advice="fix it"), "/v.mp4: cannot open (fix it)"),
        (ConfigError("DATA.NUM_FRAMES is 0; expected 1 or more."), None),
        (TooManyUnreadableVideosError("11 videos in a row could not be read."), None),
    ],
    ids=lambda value: type(value).__name__,
)
def test_an_error_raised_in_a_loader_worker_keeps_its_class_and_one_line(error, message):
    raised = _raised_by_a_loader_worker(error)
    assert type(raised) is type(error)
    assert str(raised) == (message or str(error))
    assert raised.exit_status == error.exit_status


def test_a_bug_in_a_loader_worker_is_not_of_the_family():
    """Its traceback is what helps: the loader's message keeps the worker's whole traceback."""
    raised = _raised_by_a_loader_worker(ZeroDivisionError("integer modulo by zero"))
    assert not isinstance(raised, TimesformerError)
    assert "Original Traceback" in str(raised)


def test_a_video_read_error_from_its_message_alone():
    error = VideoReadError("/v.mp4: file not found")
    assert (error.path, error.reason, str(error)) == (None, str(error), "/v.mp4: file not found")
