"""timesformer.engine.launch: spawned processes that end with their parent, errors of spawned
processes as one line, and the OUTPUT_DIR a run owns (lock, saved config, changed keys, the
folders it writes checked first)."""

import datetime
import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest
import torch

from helpers import REPO_ROOT, run_net, tiny_args, tiny_cfg, write_color_dataset
from timesformer.checkpoint.training_state import list_checkpoints
from timesformer.engine import launch
from timesformer.utils.output_lock import lock_output_dir

RUN_NET = os.path.join(REPO_ROOT, "tools", "run_net.py")


@pytest.fixture(scope="module")
def two_videos(tmp_path_factory):
    return write_color_dataset(str(tmp_path_factory.mktemp("data")), videos_per_class=1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.2)


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_training_processes_end_when_the_launcher_is_killed(two_videos, tmp_path):
    """kill -9 of the parent of a NUM_PROCS 2 run: its processes used to train on and write
    checkpoints, holding the rendezvous port. The launcher starts with SIGINT ignored, as a
    command started with '&' from a script does (torch's own parent-death signal is SIGINT)."""
    out = str(tmp_path / "run")
    port = _free_port()
    argv = [RUN_NET, "--init_method", f"tcp://127.0.0.1:{port}"]
    argv += tiny_args(two_videos, out, "NUM_PROCS", "2", "TRAIN.BATCH_SIZE", "2")
    argv += ["GLOBAL_BATCH_SIZE", "2", "SOLVER.MAX_EPOCH", "1000", "TEST.ENABLE", "False"]
    launcher = subprocess.Popen(
        [sys.executable, *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    workers = []
    try:
        _wait_for(lambda: len(list_checkpoints(out)) >= 1, 120, "the first checkpoint")
        workers = [
            child
            for child in psutil.Process(launcher.pid).children()
            if "spawn_main" in " ".join(child.cmdline())
        ]
        assert len(workers) == 2
        launcher.send_signal(signal.SIGKILL)
        launcher.wait(timeout=10)
        _wait_for(lambda: not any(_running(w) for w in workers), 15, "the workers to end")
    finally:
        if launcher.poll() is None:
            launcher.kill()
        launcher.wait()
        for worker in workers:
            if _running(worker):
                worker.kill()
    written = len(list_checkpoints(out))
    time.sleep(2)
    assert len(list_checkpoints(out)) == written  # nobody trains any more
    # A rerun can take the rendezvous port again.
    store = torch.distributed.TCPStore(
        "127.0.0.1", port, 1, True, timeout=datetime.timedelta(seconds=10)
    )
    del store


def test_error_in_spawned_processes_ends_the_run_with_one_line(two_videos, tmp_path, capfd):
    out = str(tmp_path / "run")
    with pytest.raises(SystemExit) as exit_info:
        run_net(
            ["--init_method", f"tcp://127.0.0.1:{_free_port()}"]
            + tiny_args(two_videos, out, "NUM_PROCS", "2", "TRAIN.BATCH_SIZE", "4")
        )
    assert exit_info.value.code == 2
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1].endswith(
        ": error: TRAIN.BATCH_SIZE is 4 (2 per process), but the train split of "
        "kinetics has 2 video(s) for 2 process(es), 1 each: not one complete batch to train on; "
        "use TRAIN.BATCH_SIZE 2 or less, or add videos."
    )
    assert not list_checkpoints(out)


def test_a_bad_class_names_file_ends_the_run_in_one_line(two_videos, tmp_path, capsys):
    """A missing TENSORBOARD.CLASS_NAMES_PATH ended the run in a ClassNamesError traceback."""
    out, names = str(tmp_path / "run"), tmp_path / "classes.json"
    figures = ["TENSORBOARD.ENABLE", "True", "TENSORBOARD.CONFUSION_MATRIX.ENABLE", "True"]
    figures += ["TENSORBOARD.CLASS_NAMES_PATH", str(names)]
    with pytest.raises(SystemExit) as exit_info:
        run_net(
            tiny_args(two_videos, out, "TRAIN.BATCH_SIZE", "2", "GLOBAL_BATCH_SIZE", "2", *figures)
        )
    assert exit_info.value.code == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(f": error: Class names {names}: no such file.")
    assert not list_checkpoints(out)


LOCK_HOLDER = """
import sys, time
from timesformer.utils.output_lock import lock_output_dir
with lock_output_dir(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_second_run_in_a_busy_output_dir_stops_naming_the_first(two_videos, tmp_path, capsys):
    """Two runs in one OUTPUT_DIR used to resume from each other's checkpoints and overwrite
    them. The lock is the OS's: once its holder is killed, it is free at once."""
    out = str(tmp_path / "run")
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, out], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(SystemExit) as exit_info:
            run_net(tiny_args(two_videos, out, "SOLVER.BASE_LR", "0.2"))
        assert exit_info.value.code == 1
        (line,) = capsys.readouterr().err.splitlines()
        assert line.split(": ", 1)[1].startswith(
            f"error: OUTPUT_DIR {out} is in use by another run "
            f"(pid {holder.pid} on {socket.gethostname()}, started "
        )
        assert "Wait for it to end or stop it, or choose another OUTPUT_DIR." in line
        assert sorted(os.listdir(out)) == ["run.lock"]  # nothing of the second run
    finally:
        holder.kill()
        holder.wait()
    with lock_output_dir(out):
        pass


def test_resume_logs_the_keys_that_differ_from_the_saved_config(two_videos, tmp_path):
    out = str(tmp_path / "run")
    args = tiny_args(
        two_videos, out, "TRAIN.BATCH_SIZE", "2", "GLOBAL_BATCH_SIZE", "2", "TEST.ENABLE", "False"
    )
    assert run_net(args + ["SOLVER.MAX_EPOCH", "1"]) == 0
    assert run_net(args + ["SOLVER.MAX_EPOCH", "2", "SOLVER.BASE_LR", "0.1"]) == 0
    log = open(os.path.join(out, "stdout.log")).read()
    assert "[WARNING] timesformer.engine.launch" in log
    assert "2 key(s) differ from the config an earlier run saved in" in log
    assert "  SOLVER.BASE_LR: 0.05 -> 0.1\n  SOLVER.MAX_EPOCH: 1 -> 2\n" in log
    assert log.index("differ from the config") < log.index("Resumed from")


def test_output_dir_that_cannot_be_created_is_one_line(two_videos, tmp_path, capsys):
    (tmp_path / "a_file").write_text("")
    out = str(tmp_path / "a_file" / "run")
    with pytest.raises(SystemExit) as exit_info:
        run_net(tiny_args(two_videos, out))
    assert exit_info.value.code == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(
        f": error: OUTPUT_DIR {out} cannot be created or written: {tmp_path / 'a_file'} is a "
        "file, not a folder."
    )


def test_a_damaged_saved_config_is_set_aside_and_the_run_resumes(two_videos, tmp_path):
    """Random bytes in OUTPUT_DIR/config.yaml stopped every rerun with a UnicodeDecodeError."""
    out = tmp_path / "run"
    args = tiny_args(
        two_videos,
        str(out),
        "TRAIN.BATCH_SIZE",
        "2",
        "GLOBAL_BATCH_SIZE",
        "2",
        "TEST.ENABLE",
        "False",
    )
    assert run_net(args + ["SOLVER.MAX_EPOCH", "1"]) == 0
    (checkpoint,) = list_checkpoints(str(out))
    written = open(checkpoint, "rb").read()
    damaged = b"\x89\xfe\x00\xc3(\xff" * 20
    (out / "config.yaml").write_bytes(damaged)
    assert run_net(args + ["SOLVER.MAX_EPOCH", "2"]) == 0
    assert (out / "config.yaml.unreadable").read_bytes() == damaged
    assert "MAX_EPOCH: 2" in (out / "config.yaml").read_text()
    assert open(checkpoint, "rb").read() == written
    assert len(list_checkpoints(str(out))) == 2
    log = (out / "stdout.log").read_text()
    assert (
        f"The saved config {out}/config.yaml cannot be read (not UTF-8 text); it is kept as "
        f"{out}/config.yaml.unreadable, and this run's config is saved as {out}/config.yaml."
    ) in log
    assert log.index("cannot be read (not UTF-8") < log.index("Resumed from")


def test_a_folder_in_place_of_the_saved_config_stops_in_one_line(two_videos, tmp_path, capsys):
    out = tmp_path / "run"
    (out / "config.yaml").mkdir(parents=True)
    with pytest.raises(SystemExit) as exit_info:
        run_net(tiny_args(two_videos, str(out)))
    assert exit_info.value.code == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(
        f": error: {out}/config.yaml is a folder, but a run saves its config there as a YAML "
        "file: move the folder away, or choose another OUTPUT_DIR."
    )
    assert os.listdir(out / "config.yaml") == []


def _dangling(path, out):
    os.symlink(out.parent / "scratch" / "gone", path)
    return f"it is a symlink to {out.parent / 'scratch' / 'gone'}, which does not exist"


def _loop(path, out):
    os.symlink(path.name, path)
    return "it is a symlink loop (following it leads back to it)"


def _a_file(path, out):
    path.write_text("")
    return "it is a file, not a folder"


@pytest.mark.parametrize("make", [_dangling, _loop, _a_file], ids=lambda make: make.__name__)
@pytest.mark.parametrize(
    "folder, what, overrides",
    [
        ("checkpoints", "The checkpoint folder", []),
        ("tb", "The TensorBoard folder (TENSORBOARD.LOG_DIR)", ["TENSORBOARD.ENABLE", "True"]),
    ],
    ids=["checkpoints", "tensorboard"],
)
def test_a_folder_the_run_cannot_write_stops_it_before_training(
    two_videos, tmp_path, capsys, monkeypatch, make, folder, what, overrides
):
    """OUTPUT_DIR/checkpoints as a dangling symlink (or a loop, or a file) trained a whole epoch,
    then died with a FileExistsError traceback and no checkpoint."""
    monkeypatch.setattr(launch, "train", lambda cfg: pytest.fail("training started"))
    out = tmp_path / "run"
    out.mkdir()
    why = make(out / folder, out)
    overrides = [*overrides, "TENSORBOARD.LOG_DIR", "tb"]
    with pytest.raises(SystemExit) as exit_info:
        run_net(tiny_args(two_videos, str(out), *overrides))
    assert exit_info.value.code == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(f": error: {what} {out / folder} cannot be created or written: {why}.")
    assert os.path.lexists(out / folder)  # left as it was
    assert not os.path.exists(out / "run.lock")  # stopped before taking OUTPUT_DIR


def test_a_dangling_output_dir_is_named_with_its_target(tmp_path, capsys):
    out = tmp_path / "run"
    os.symlink(tmp_path / "unmounted" / "run", out)
    with pytest.raises(SystemExit):
        run_net(tiny_args("", str(out)))
    (line,) = capsys.readouterr().err.splitlines()
    assert line.endswith(
        f": error: OUTPUT_DIR {out} cannot be created or written: it is a symlink to "
        f"{tmp_path / 'unmounted' / 'run'}, which does not exist."
    )
    assert not os.path.exists(tmp_path / "unmounted")  # nothing created


def test_folders_the_run_does_not_write_are_not_checked(tmp_path):
    """Testing alone writes no checkpoint: a dangling checkpoints link does not stop it."""
    out = tmp_path / "run"
    out.mkdir()
    os.symlink(tmp_path / "gone", out / "checkpoints")
    cfg = tiny_cfg("", str(out), "TRAIN.ENABLE", "False", "TEST.SAVE_RESULTS_PATH", "r/s.pyth")
    assert launch.run_folders(cfg) == {
        "OUTPUT_DIR": str(out),
        "The folder of TEST.SAVE_RESULTS_PATH": str(out / "r"),
    }
    launch.check_run_folders(cfg)
    assert not os.path.exists(out / "r")
