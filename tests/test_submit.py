"""tools/submit.py (timesformer/cli/submit.py, over engine/submission.py and
engine/sbatch_options.py): its flags, errors, the sbatch file it makes, and its jobs, locally
and on a fake Slurm (what each node runs: test_submitit_job.py).

Fast tests run the job through submitit with a stub in place of training and testing
that records the config each phase receives (submitit pickles it by value, so the job
process needs no import of this module); the end-to-end tests at the bottom train the
tiny CPU model for real.
"""

import json
import os
import pickle
import signal
import sys
import threading
import time

import cloudpickle
import psutil
import pytest
import submitit

from helpers import (
    DEMO_CFG,
    json_stats,
    write_color_dataset,
)
from timesformer.cli import submit
from timesformer.engine import submission
from timesformer.engine.launch import train_then_test
from timesformer.engine.submitit_job import NodeJob


def record(cfg, name: str) -> None:
    entry = {
        "func": name,
        "pid": os.getpid(),
        "shard_id": cfg.SHARD_ID,
        "num_shards": cfg.NUM_SHARDS,
        "num_gpus": cfg.NUM_GPUS,
        "auto_resume": cfg.TRAIN.AUTO_RESUME,
        "output_dir": cfg.OUTPUT_DIR,
        "checkpoint_file": cfg.TRAIN.CHECKPOINT_FILE_PATH,
        "batch_size": cfg.TRAIN.BATCH_SIZE,
    }
    with open(os.path.join(cfg.OUTPUT_DIR, "calls.jsonl"), "a") as stream:
        stream.write(json.dumps(entry) + "\n")


def recording_train_then_test(cfg) -> None:
    """Records "train" (then fails, or blocks once, as OUTPUT_DIR/stub_mode says) and "test"."""
    record(cfg, "train")
    mode_file = os.path.join(cfg.OUTPUT_DIR, "stub_mode")
    mode = open(mode_file).read() if os.path.exists(mode_file) else ""
    if mode == "fail":
        raise RuntimeError("stub training failed on purpose")
    started = os.path.join(cfg.OUTPUT_DIR, "blocked_once")
    if mode == "block_once" and not os.path.exists(started):
        open(started, "w").close()
        time.sleep(120)
    record(cfg, "test")


class RecordingNodeJob(NodeJob):
    """A NodeJob whose processes run :func:`recording_train_then_test`."""

    def __init__(self, cfg_file: str, opts: list[str], run=recording_train_then_test) -> None:
        super().__init__(cfg_file, opts, run)


@pytest.fixture
def stub_job(monkeypatch):
    """submit.py submits :class:`RecordingNodeJob` instead of the real job."""
    monkeypatch.setattr(submission, "NodeJob", RecordingNodeJob)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def _calls(job_dir) -> list[dict]:
    with open(os.path.join(job_dir, "calls.jsonl")) as stream:
        return [json.loads(line) for line in stream]


def _submit_local(job_dir, *extra: str) -> int:
    return submit.main(
        [
            "--cfg",
            DEMO_CFG,
            "--job_dir",
            str(job_dir),
            "--num_gpus",
            "0",
            "--cluster",
            "local",
            *extra,
        ]
    )


def _submitit_log(job_dir, job_id: str) -> str:
    """Output and error streams of the job's task 0, as submitit wrote them."""
    folder = os.path.join(job_dir, "submitit", job_id)
    return "".join(
        open(os.path.join(folder, f"{job_id}_0_log.{ext}")).read() for ext in ("out", "err")
    )


def _exit_status(argv: list[str]) -> int:
    """The exit status submit.py's main ends with on an error (reported in one line)."""
    with pytest.raises(SystemExit) as exit_info:
        submit.main(argv)
    return exit_info.value.code


def _job_ids(job_dir) -> list[str]:
    """Ids of the jobs of ``job_dir`` (submitit also leaves an empty ``%j`` staging folder)."""
    return sorted(name for name in os.listdir(os.path.join(job_dir, "submitit")) if name != "%j")


# ---------------------------------------------------------------------------- #
# Arguments and errors
# ---------------------------------------------------------------------------- #


def test_help_lists_the_original_flags(capsys):
    with pytest.raises(SystemExit):
        submit.parse_args(["--help"])
    out = capsys.readouterr().out
    for flag in (
        "--cfg",
        "--job_dir",
        "--num_shards",
        "--num_gpus",
        "--partition",
        "--timeout",
        "--name",
        "--use_volta32",
        "--mail",
        "--comment",
        "--resume-from",
        "--resume-job",
        "--cluster",
        "--cpus_per_task",
        "--mem_gb",
        "--account",
        "--qos",
        "--constraint",
        "--sbatch",
        "KEY VALUE",
    ):
        assert flag in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--cpus_per_task", "0"], "argument --cpus_per_task: expected an integer >= 1, got '0'"),
        (["--cpus_per_task", "two"], "argument --cpus_per_task: expected an integer >= 1"),
        (["--mem_gb", "-4"], "argument --mem_gb: expected a number > 0, got '-4'"),
        (["--mem_gb", "nan"], "argument --mem_gb: expected a number > 0"),
        (["--sbatch", "reservation="], "expected KEY=VALUE or KEY"),
        (["--sbatch", "=big"], "expected KEY=VALUE or KEY"),
        (["--sbatch", "partition=gpu"], "use --partition for --partition"),
        (["--sbatch=--mem=4G"], "use --mem_gb for --mem"),
        (["--sbatch", "cpus-per-task=4"], "use --cpus_per_task for --cpus-per-task"),
        (["--sbatch", "signal=USR1@60"], "submitit sets --signal itself"),
        (["--sbatch", "ntasks-per-node=8"], "submitit sets --ntasks-per-node itself"),
    ],
)
def test_bad_resource_flags_are_refused_by_the_parser(tmp_path, capsys, argv, message):
    job_dir = tmp_path / "job"
    with pytest.raises(SystemExit) as exit_info:
        submit.main(["--cfg", DEMO_CFG, "--job_dir", str(job_dir), *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not job_dir.exists()


CONTROL_CHARACTERS = ["\n", "\r", "\t", "\x00", "\x1b", "\x85"]
"""Newline, carriage return, tab, NUL, escape and NEL: Unicode category Cc, all refused."""


@pytest.mark.parametrize("char", CONTROL_CHARACTERS, ids=repr)
@pytest.mark.parametrize(
    "flag, value",
    [
        ("--comment", "deadline{}#SBATCH --exclusive"),
        ("--partition", "learnfair{}touch pwned"),
        ("--account", "research{}touch pwned"),
        ("--qos", "high{}touch pwned"),
        ("--constraint", "a100{}touch pwned"),
        ("--mail", "me@example.org{}touch pwned"),
        ("--name", "k400{}touch pwned"),
        ("--sbatch", "reservation=big{}touch pwned"),
        ("--sbatch", "reser{}vation=big"),
        ("--job_dir", "job{}touch pwned"),
    ],
)
def test_control_characters_never_reach_the_sbatch_script(tmp_path, capsys, flag, value, char):
    """Each of these values becomes part of a line of the sbatch script: a newline would end its
    ``#SBATCH`` lines (sbatch stops reading them) and run the rest as shell code."""
    value = value.format(char)
    job_dir = tmp_path / "job"
    if flag == "--job_dir":
        value, job_dir = str(tmp_path / value), tmp_path / value
    argv = ["--cfg", DEMO_CFG, "--job_dir", str(job_dir), "--num_gpus", "0", flag, value]
    with pytest.raises(SystemExit) as exit_info:
        submit.main(argv)
    assert exit_info.value.code == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"error: argument {flag}: {value!r} has control character(s) {char!r}" in last_line
    assert not job_dir.exists() and not (tmp_path / "pwned").exists()


def test_job_named_after_a_config_file_with_a_newline_needs_a_name(tmp_path, monkeypatch, capsys):
    _fake_slurm_commands(tmp_path, monkeypatch, SBATCH_STUB)
    cfg_file = tmp_path / "demo\ntouch pwned.yaml"
    cfg_file.write_text(open(DEMO_CFG).read())
    argv = ["--cfg", str(cfg_file), "--job_dir", str(tmp_path / "job"), "--num_gpus", "0"]
    assert _exit_status(argv) == 2
    err = capsys.readouterr().err
    assert (
        "the job is named after the config file, whose name has control character(s) '\\n'" in err
    )
    assert "give the job a --name" in err and not (tmp_path / "submitted.sh").exists()
    assert submit.main([*argv, "--name", "demo"]) == 0
    sbatch = (tmp_path / "submitted.sh").read_text()
    assert "#SBATCH --job-name=demo\n" in sbatch and "\ntouch pwned" not in sbatch


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--cfg", "configs/none.yaml"], "--cfg configs/none.yaml: no such file"),
        ([], "--cfg is required"),
        (["--cfg", DEMO_CFG, "SOLVER.BASE_RL", "0.1"], "SOLVER.BASE_RL"),
        (["--cfg", DEMO_CFG, "--num_gpus", "0", "TRAIN.BATCH_SIZE", "0"], "TRAIN.BATCH_SIZE is 0"),
        (["--cfg", DEMO_CFG, "--cluster", "local", "--num_shards", "2"], "--num_shards 1"),
        (
            # Batches that 64 GPUs divide: the batch checks, which need no torch, come first.
            ["--cfg", DEMO_CFG, "--cluster", "local", "--num_gpus", "64"]
            + ["TRAIN.BATCH_SIZE", "64", "TEST.BATCH_SIZE", "64", "GLOBAL_BATCH_SIZE", "64"],
            "NUM_GPUS is 64 but this machine has",
        ),
        (
            ["--cfg", DEMO_CFG, "--resume-from", "/nonexistent.pyth"],
            "--resume-from /nonexistent.pyth: no such file",
        ),
        (["--cfg", DEMO_CFG, "--resume-job", "123"], "--resume-job 123"),
    ],
)
def test_bad_submissions_fail_with_a_message(tmp_path, capsys, argv, message):
    job_dir = tmp_path / "job"
    assert _exit_status(argv[:2] + ["--job_dir", str(job_dir)] + argv[2:]) == 2
    assert message in capsys.readouterr().err
    assert not job_dir.exists()


class RunsCode:
    """Unpickling it creates the file ``path`` (what a crafted pickle in a job folder could do)."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_resume_job_never_unpickles_the_job_folder(tmp_path, capsys):
    job_dir = tmp_path / "job"
    folder = job_dir / "submitit" / "123"
    folder.mkdir(parents=True)
    marker = tmp_path / "code_ran"
    (folder / "123_submitted.pkl").write_bytes(pickle.dumps(RunsCode(str(marker))))
    argv = ["--job_dir", str(job_dir), "--resume-job", "123", "--num_gpus", "0"]
    assert _exit_status(argv + ["--cluster", "local"]) == 2
    assert not marker.exists()
    (line,) = capsys.readouterr().err.splitlines()
    assert line.split(": ", 1)[1] == (
        f"error: --resume-job 123: {folder / 'submission.json'} does not exist; jobs "
        f"of {job_dir} that can be resumed: none (or give --cfg and the overrides again)."
    )


def test_resume_job_checks_what_it_reads(tmp_path, capsys):
    job_dir = tmp_path / "job"
    folder = job_dir / "submitit" / "7"
    folder.mkdir(parents=True)
    (folder / "submission.json").write_text(json.dumps({"cfg_file": DEMO_CFG, "opts": [1, 2]}))
    argv = ["--job_dir", str(job_dir), "--resume-job", "7", "--cluster", "local"]
    assert _exit_status(argv) == 2
    assert "must hold a 'cfg_file' string and an 'opts' list of strings" in capsys.readouterr().err


def test_job_dir_that_cannot_be_created(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    argv = [
        "--cfg",
        DEMO_CFG,
        "--job_dir",
        str(blocker / "job"),
        "--cluster",
        "local",
        "--num_gpus",
        "0",
    ]
    assert _exit_status(argv) == 2
    assert f"--job_dir {blocker / 'job'}: cannot create it" in capsys.readouterr().err


def test_job_dir_that_is_not_writable(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # root may write anywhere
    assert _exit_status(["--cfg", DEMO_CFG, "--job_dir", str(tmp_path / "job")]) == 2
    assert "is not writable" in capsys.readouterr().err


def test_slurm_without_slurm_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no srun
    argv = ["--cfg", DEMO_CFG, "--job_dir", str(tmp_path / "job"), "--num_gpus", "0"]
    assert _exit_status(argv) == 2
    assert "--cluster local" in capsys.readouterr().err


# ---------------------------------------------------------------------------- #
# Slurm: the sbatch file submitit writes, and what a node of the job runs
# ---------------------------------------------------------------------------- #

SBATCH_STUB = """#!/bin/bash
cp "$1" "$STUB_LOG/submitted.sh"
echo "Submitted batch job 777"
"""


def _fake_slurm_commands(tmp_path, monkeypatch, sbatch: str) -> None:
    """Put stub sbatch (whose script is ``sbatch``), srun and sacct first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("sbatch", sbatch), ("srun", "#!/bin/bash\n"), ("sacct", "#!/bin/bash\n")):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("STUB_LOG", str(tmp_path))


def test_slurm_submission_requests_the_flags(tmp_path, monkeypatch, capsys):
    _fake_slurm_commands(tmp_path, monkeypatch, SBATCH_STUB)
    job_dir = tmp_path / "job"
    argv = [
        "--cfg",
        DEMO_CFG,
        "--job_dir",
        str(job_dir),
        "--num_shards",
        "4",
        "--num_gpus",
        "8",
        "--partition",
        "learnfair",
        "--timeout",
        "600",
        "--name",
        "k400_divST",
        "--use_volta32",
        "--mail",
        "me@example.org",
        "--comment",
        "deadline",
        "TRAIN.BATCH_SIZE",
        "8",
        "GLOBAL_BATCH_SIZE",
        "64",
    ]
    assert submit.main(argv) == 0
    assert "Submitted job 777 (slurm): 4 node(s) x 8 GPU(s)" in capsys.readouterr().out
    sbatch = (tmp_path / "submitted.sh").read_text()
    for line in (
        "--job-name=k400_divST",
        "--nodes=4",
        "--ntasks-per-node=1",
        "--gpus-per-node=8",
        "--cpus-per-task=80",
        "--mem=480GB",
        "--time=600",
        "--partition=learnfair",
        "--constraint=volta32gb",
        "--mail-user=me@example.org",
        "--mail-type=END,FAIL",
        "--comment=deadline",
        "--signal=USR2@120",
        "--open-mode=append",
    ):
        assert f"#SBATCH {line}\n" in sbatch, line
    assert f"--output={job_dir}/submitit/%j/%j_0_log.out" in sbatch
    # The pickled job is what each node runs: the config with OUTPUT_DIR = job dir.
    node_job = submitit.helpers.DelayedSubmission.load(
        job_dir / "submitit" / "777" / "777_submitted.pkl"
    ).function
    assert (
        isinstance(node_job, NodeJob)
        and node_job.cfg_file == DEMO_CFG
        and node_job.run is train_then_test
    )
    assert node_job.opts[-4:] == ["OUTPUT_DIR", str(job_dir), "NUM_GPUS", "8"]
    assert node_job.opts[:4] == ["TRAIN.BATCH_SIZE", "8", "GLOBAL_BATCH_SIZE", "64"]


def test_slurm_submission_passes_account_qos_constraint_and_other_options(
    tmp_path, monkeypatch, capsys
):
    _fake_slurm_commands(tmp_path, monkeypatch, SBATCH_STUB)
    job_dir = tmp_path / "job"
    argv = [
        "--cfg",
        DEMO_CFG,
        "--job_dir",
        str(job_dir),
        "--num_shards",
        "2",
        "--num_gpus",
        "4",
        "--cpus_per_task",
        "16",
        "--mem_gb",
        "96",
        "--account",
        "vision",
        "--qos",
        "high",
        "--constraint",
        "ib|roce",
        "--use_volta32",
        "--sbatch",
        "exclusive",
        "--sbatch=--reservation=big",
        "--sbatch",
        "gres-flags=enforce-binding",
        "--sbatch",
        "reservation=bigger",
    ]
    assert submit.main(argv) == 0
    out = capsys.readouterr().out
    assert "2 node(s) x 4 GPU(s), 16 CPU(s) and 96 GB per node." in out
    sbatch = (tmp_path / "submitted.sh").read_text()
    for line in (
        "--nodes=2",
        "--gpus-per-node=4",
        "--cpus-per-task=16",
        "--mem=96GB",
        "--account=vision",
        "--qos=high",
        "--constraint='volta32gb&(ib|roce)'",
        "--exclusive",
        "--reservation=bigger",  # the last of a repeated option wins
        "--gres-flags=enforce-binding",
        "--signal=USR2@120",
    ):
        assert f"#SBATCH {line}\n" in sbatch, line
    assert "--reservation=big\n" not in sbatch


def test_cpu_job_asks_for_no_cpus_or_memory_unless_told(tmp_path, monkeypatch, capsys):
    """A CPU job gets the partition's defaults rather than 10 CPUs and 60 GB it may not have."""
    _fake_slurm_commands(tmp_path, monkeypatch, SBATCH_STUB)
    argv = ["--cfg", DEMO_CFG, "--job_dir", str(tmp_path / "job"), "--num_gpus", "0"]
    assert submit.main(argv) == 0
    assert "the partition's default CPUs and the partition's default memory per node" in (
        capsys.readouterr().out
    )
    sbatch = (tmp_path / "submitted.sh").read_text()
    for option in ("--cpus-per-task", "--mem", "--gpus-per-node", "--constraint", "--account"):
        assert f"#SBATCH {option}=" not in sbatch, option
    assert submit.main(argv + ["--cpus_per_task", "1", "--mem_gb", "0.5"]) == 0
    sbatch = (tmp_path / "submitted.sh").read_text()
    assert "#SBATCH --cpus-per-task=1\n" in sbatch and "#SBATCH --mem=512MB\n" in sbatch
    assert "#SBATCH --constraint=" not in sbatch
    assert submit.main(argv + ["--constraint", "avx512"]) == 0
    assert "#SBATCH --constraint=avx512\n" in (tmp_path / "submitted.sh").read_text()


def test_submission_from_a_job_keeps_the_cluster_config_only(tmp_path, monkeypatch):
    """sbatch must not inherit an enclosing job's SLURM_* variables, but needs SLURM_CONF (where
    the cluster's slurm.conf is, on sites without /etc/slurm)."""
    env_stub = '#!/bin/bash\nenv > "$STUB_LOG/sbatch.env"\necho "Submitted batch job 778"\n'
    _fake_slurm_commands(tmp_path, monkeypatch, env_stub)
    monkeypatch.setenv("SLURM_CONF", "/opt/slurm/etc/slurm.conf")
    monkeypatch.setenv("SLURM_JOB_ID", "12")
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "80")
    argv = ["--cfg", DEMO_CFG, "--job_dir", str(tmp_path / "job"), "--num_gpus", "0"]
    assert submit.main(argv) == 0
    env = (tmp_path / "sbatch.env").read_text().splitlines()
    assert [line for line in env if line.startswith("SLURM_")] == [
        "SLURM_CONF=/opt/slurm/etc/slurm.conf"
    ]
    assert os.environ["SLURM_JOB_ID"] == "12"  # restored after the submission


def test_refused_slurm_submission_exits_nonzero(tmp_path, monkeypatch, capsys):
    refusing = "#!/bin/bash\necho 'sbatch: error: invalid partition specified: nope' >&2\nexit 1\n"
    _fake_slurm_commands(tmp_path, monkeypatch, refusing)
    argv = ["--cfg", DEMO_CFG, "--job_dir", str(tmp_path / "job"), "--partition", "nope"]
    assert _exit_status(argv) == 1
    assert (
        "submission failed: sbatch: error: invalid partition specified: nope"
        in capsys.readouterr().err
    )


# ---------------------------------------------------------------------------- #
# Local executor, stub training
# ---------------------------------------------------------------------------- #


def test_local_job_trains_then_tests_and_exits_zero(stub_job, tmp_path, capsys):
    job_dir = tmp_path / "job"
    assert _submit_local(job_dir, "TRAIN.BATCH_SIZE", "4", "GLOBAL_BATCH_SIZE", "4") == 0
    calls = _calls(job_dir)
    assert [c["func"] for c in calls] == ["train", "test"]
    assert calls[0]["pid"] != os.getpid()  # ran in submitit's job process
    assert {
        (c["shard_id"], c["num_shards"], c["num_gpus"], c["auto_resume"], c["batch_size"])
        for c in calls
    } == {(0, 1, 0, True, 4)}
    assert calls[0]["output_dir"] == str(job_dir)
    assert (job_dir / "config.yaml").is_file()
    out = capsys.readouterr().out
    (job_id,) = _job_ids(job_dir)
    assert f"training log: {job_dir / 'stdout.log'}" in out
    assert f"job output:   {job_dir / 'submitit' / job_id / (job_id + '_0_log.out')}" in out
    assert "finished" in out


def test_failed_local_job_exits_nonzero_and_points_to_its_logs(stub_job, tmp_path, capsys):
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    (job_dir / "stub_mode").write_text("fail")
    assert _submit_local(job_dir) == 1
    err = capsys.readouterr().err
    assert "stub training failed on purpose" in err
    assert "_0_log.err" in err
    assert [c["func"] for c in _calls(job_dir)] == ["train"]


def test_debug_cluster_runs_in_this_process(stub_job, tmp_path):
    job_dir = tmp_path / "job"
    assert (
        submit.main(
            ["--cfg", DEMO_CFG, "--job_dir", str(job_dir), "--num_gpus", "0", "--cluster", "debug"]
        )
        == 0
    )
    assert [(c["func"], c["pid"]) for c in _calls(job_dir)] == [
        ("train", os.getpid()),
        ("test", os.getpid()),
    ]


def _job_process(job_dir, timeout: float = 30) -> psutil.Process:
    """The submitit task process (``python -m submitit.core._submit FOLDER``) of the job in
    ``job_dir`` (not one an earlier test left exiting)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for child in psutil.Process().children(recursive=True):
            try:
                command = " ".join(child.cmdline())
                if "submitit.core._submit" in command and str(job_dir) in command:
                    return child
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.05)
    raise AssertionError("no submitit job process started")


def _wait_for_file(path, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while not os.path.exists(path):
        assert time.time() < deadline, f"{path} did not appear within {timeout}s"
        time.sleep(0.02)


def _submit_in_background(argv: list[str]) -> tuple[threading.Thread, list]:
    status = []
    thread = threading.Thread(target=lambda: status.append(submit.main(argv)), daemon=True)
    thread.start()
    return thread, status


def test_preempted_local_job_is_checkpointed_and_requeued(stub_job, tmp_path):
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    (job_dir / "stub_mode").write_text("block_once")
    thread, status = _submit_in_background(
        ["--cfg", DEMO_CFG, "--job_dir", str(job_dir), "--num_gpus", "0", "--cluster", "local"]
    )
    _wait_for_file(job_dir / "blocked_once")
    _job_process(job_dir).send_signal(
        signal.SIGUSR2
    )  # what Slurm sends before preemption / the time limit
    thread.join(timeout=60)
    assert status == [0]
    calls = _calls(job_dir)
    assert [c["func"] for c in calls] == ["train", "train", "test"]
    assert calls[0]["pid"] != calls[1]["pid"]  # the requeued job is a new process
    (job_id,) = _job_ids(job_dir)
    log = _submitit_log(job_dir, job_id)
    assert "Requeuing" in log and f"Requeued job {job_id}" in log


def test_resume_job_reuses_the_jobs_config_and_overrides(stub_job, tmp_path):
    job_dir = tmp_path / "job"
    assert _submit_local(job_dir, "TRAIN.BATCH_SIZE", "4", "GLOBAL_BATCH_SIZE", "4") == 0
    (first,) = _job_ids(job_dir)
    submission = json.loads((job_dir / "submitit" / first / "submission.json").read_text())
    assert submission["cfg_file"] == DEMO_CFG
    assert submission["opts"][:4] == ["TRAIN.BATCH_SIZE", "4", "GLOBAL_BATCH_SIZE", "4"]
    assert (
        submit.main(
            [
                "--job_dir",
                str(job_dir),
                "--resume-job",
                first,
                "--num_gpus",
                "0",
                "--cluster",
                "local",
            ]
        )
        == 0
    )
    assert len(_job_ids(job_dir)) == 2
    assert [c["batch_size"] for c in _calls(job_dir)] == [4, 4, 4, 4]


# ---------------------------------------------------------------------------- #
# End to end: the tiny CPU model, trained through submitit's local executor
# ---------------------------------------------------------------------------- #

TINY = [
    "TRAIN.BATCH_SIZE",
    "2",
    "TEST.BATCH_SIZE",
    "2",
    "GLOBAL_BATCH_SIZE",
    "2",
    "DATA_LOADER.NUM_WORKERS",
    "0",
    "TIMESFORMER.EMBED_DIM",
    "32",
    "TIMESFORMER.DEPTH",
    "1",
    "TIMESFORMER.NUM_HEADS",
    "2",
    "DATA.NUM_FRAMES",
    "2",
    "DATA.SAMPLING_RATE",
    "1",
    "DATA.TRAIN_CROP_SIZE",
    "32",
    "DATA.TEST_CROP_SIZE",
    "32",
    "DATA.TRAIN_JITTER_SCALES",
    "[32,40]",
    "MODEL.NUM_CLASSES",
    "2",
    "SOLVER.MAX_EPOCH",
    "2",
    "SOLVER.WARMUP_EPOCHS",
    "0.0",
    "TRAIN.CHECKPOINT_PERIOD",
    "1",
    "TRAIN.EVAL_PERIOD",
    "1",
    "TEST.NUM_ENSEMBLE_VIEWS",
    "1",
    "TEST.NUM_SPATIAL_CROPS",
    "1",
    "LOG_PERIOD",
    "1",
    "TENSORBOARD.ENABLE",
    "False",
]


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return write_color_dataset(str(tmp_path_factory.mktemp("data")), videos_per_class=2)


def _records(job_dir) -> list[dict]:
    return json_stats(str(job_dir))


def _checkpoints(job_dir) -> list[str]:
    return sorted(os.listdir(os.path.join(job_dir, "checkpoints")))


def test_tiny_cpu_job_trains_checkpoints_and_tests(tiny_data, tmp_path):
    job_dir = tmp_path / "job"
    assert _submit_local(job_dir, *TINY, "DATA.PATH_TO_DATA_DIR", tiny_data) == 0
    assert _checkpoints(job_dir) == ["checkpoint_epoch_00001.pyth", "checkpoint_epoch_00002.pyth"]
    records = _records(job_dir)
    assert [r["split"] for r in records].count("train_epoch") == 2
    final = records[-1]
    assert final["split"] == "test_final" and "top1_acc" in final and "top5_acc" in final
    assert "Resumed from" not in (job_dir / "stdout.log").read_text()


@pytest.fixture(scope="module")
def longer_epochs_data(tmp_path_factory):
    """Three times tiny_data's videos: epochs long enough that a signal sent once epoch 1's
    checkpoint appears lands in epoch 2, also on a loaded machine."""
    return write_color_dataset(str(tmp_path_factory.mktemp("data")), videos_per_class=6)


def test_tiny_cpu_job_stopped_mid_run_resumes_from_its_checkpoint(longer_epochs_data, tmp_path):
    job_dir = tmp_path / "job"
    thread, status = _submit_in_background(
        [
            "--cfg",
            DEMO_CFG,
            "--job_dir",
            str(job_dir),
            "--num_gpus",
            "0",
            "--cluster",
            "local",
            *TINY,
            "DATA.PATH_TO_DATA_DIR",
            longer_epochs_data,
        ]
    )
    _wait_for_file(job_dir / "checkpoints" / "checkpoint_epoch_00001.pyth", timeout=90)
    # Preempt it during epoch 2 (of 2): submitit checkpoints and requeues the job.
    _job_process(job_dir).send_signal(signal.SIGUSR2)
    thread.join(timeout=120)
    assert status == [0]
    log = (job_dir / "stdout.log").read_text()
    assert "Resumed from " + str(job_dir / "checkpoints" / "checkpoint_epoch_00001.pyth") in log
    assert _checkpoints(job_dir) == ["checkpoint_epoch_00001.pyth", "checkpoint_epoch_00002.pyth"]
    records = _records(job_dir)
    epochs = [r["epoch"] for r in records if r["split"] == "train_epoch"]
    # Epoch 1 is not redone. Epoch 2 is redone when the signal lands after its last iteration
    # but before its checkpoint (the epoch in progress is what a preemption may lose).
    assert epochs in (["1/2", "2/2"], ["1/2", "2/2", "2/2"]), epochs
    assert records[-1]["split"] == "test_final"
    (job_id,) = _job_ids(job_dir)
    assert f"Requeued job {job_id}" in _submitit_log(job_dir, job_id)
