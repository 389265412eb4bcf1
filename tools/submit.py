#!/usr/bin/env python3
"""Submit a training + testing job to Slurm with submitit (or run it here, the same way).

    python tools/submit.py --cfg configs/Kinetics/TimeSformer_divST_8x32_224.yaml \
        --job_dir /checkpoint/$USER/divST_k400 --num_shards 4 --num_gpus 8 \
        --partition learnfair --timeout 4320 DATA.PATH_TO_DATA_DIR /data/k400

Each of the ``--num_shards`` nodes runs one task, which starts one training process
per GPU (``timesformer.engine.submitit_job.NodeJob``). OUTPUT_DIR is the job dir; submitit's
own files go to JOB_DIR/submitit/JOB_ID/. A preempted or timed-out job is requeued by
submitit and resumes from the last checkpoint in JOB_DIR/checkpoints.

``--cluster local`` runs the job on this machine through submitit's local executor
(``debug``: in this process) and waits for it; the exit status is the job's.
"""

import argparse
import json
import os
import sys
import time
import unicodedata

import submitit
from submitit.core.utils import FailedJobError

from timesformer.config import ConfigError
from timesformer.engine.submitit_job import NodeJob
from timesformer.engine.trainer import prepare_imagenet_weights
from timesformer.models.weight_files import CheckpointError
from timesformer.utils.file_io import atomic_write
from timesformer.utils.output_lock import OutputDirLockedError, lock_output_dir
from timesformer.utils.parser import build_arg_parser, load_config

CPUS_PER_GPU = 10
MEM_GB_PER_GPU = 60
SIGNAL_DELAY_S = 120
MAX_REQUEUES = 30
VOLTA32_CONSTRAINT = "volta32gb"
POLL_S = 0.2
SUBMISSION_FILE = "submission.json"


# sbatch options that --sbatch may not set: the flag that sets each, or why submitit needs it.
SBATCH_OPTIONS_WITH_A_FLAG = {
    "partition": "--partition",
    "account": "--account",
    "qos": "--qos",
    "constraint": "--constraint",
    "cpus_per_task": "--cpus_per_task",
    "mem": "--mem_gb",
    "nodes": "--num_shards",
    "gpus_per_node": "--num_gpus",
    "time": "--timeout",
    "job_name": "--name",
    "comment": "--comment",
    "mail_user": "--mail",
}
SBATCH_OPTIONS_OF_SUBMITIT = {
    "ntasks_per_node": "each node runs one task, which starts one process per GPU",
    "output": "submitit's log files are JOB_DIR/submitit/JOB_ID/",
    "error": "submitit's log files are JOB_DIR/submitit/JOB_ID/",
    "open_mode": "a requeued job appends to its logs",
    "signal": f"submitit requeues the job on USR2, {SIGNAL_DELAY_S} s before the time limit",
    "array": "one job per submission",
}


class SubmitError(Exception):
    """A submission that cannot go ahead (bad argument, file or folder)."""


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a number > 0 (integers stay int, so that sbatch gets whole GB)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return int(value) if value.is_integer() else value


def control_characters(text: str) -> str:
    """The control characters of ``text`` (Unicode category Cc: newline, carriage return, tab,
    NUL, escape...), each once, as ``repr`` writes them."""
    found = dict.fromkeys(char for char in text if unicodedata.category(char) == "Cc")
    return ", ".join(repr(char) for char in found)


def no_control_characters(text: str) -> str:
    """An argparse type: text without control characters. Each value of the job becomes part of
    one line of the sbatch script (``#SBATCH --comment=...``), which a newline would end: the
    rest would be read as shell commands of the job."""
    found = control_characters(text)
    if found:
        raise argparse.ArgumentTypeError(
            f"{text!r} has control character(s) {found}, which would break the sbatch script's "
            "lines; expected plain text."
        )
    return text


def sbatch_option(text: str) -> tuple[str, str | bool]:
    """An argparse type: ``KEY=VALUE`` or ``KEY`` (a flag) of ``--sbatch``, as submitit's
    ``slurm_additional_parameters`` item (KEY with underscores; leading dashes dropped)."""
    key, has_value, value = no_control_characters(text).partition("=")
    key = key.strip().lstrip("-").replace("-", "_")
    if not key.replace("_", "").isalnum() or (has_value and not value):
        raise argparse.ArgumentTypeError(
            f"expected KEY=VALUE or KEY, as in 'sbatch --KEY=VALUE', got {text!r}"
        )
    if key in SBATCH_OPTIONS_WITH_A_FLAG:
        raise argparse.ArgumentTypeError(
            f"{text!r}: use {SBATCH_OPTIONS_WITH_A_FLAG[key]} for --{key.replace('_', '-')}"
        )
    if key in SBATCH_OPTIONS_OF_SUBMITIT:
        raise argparse.ArgumentTypeError(
            f"{text!r}: submitit sets --{key.replace('_', '-')} itself "
            f"({SBATCH_OPTIONS_OF_SUBMITIT[key]})"
        )
    return key, value if has_value else True


def build_submit_parser() -> argparse.ArgumentParser:
    """The flags of the original TimeSformer ``submit.py``, plus ``--cluster``."""
    parser = build_arg_parser("Submit TimeSformer training and testing with submitit.")
    parser.add_argument(
        "--job_dir",
        required=True,
        type=no_control_characters,
        help="Folder of the job: OUTPUT_DIR, checkpoints and logs.",
    )
    parser.add_argument("--num_shards", type=int, default=1, help="Number of nodes.")
    parser.add_argument(
        "--num_gpus", type=int, default=8, help="GPUs per node (sets NUM_GPUS; 0: CPU)."
    )
    parser.add_argument(
        "--cpus_per_task",
        type=positive_int,
        default=None,
        help=f"CPUs of each node's task (default: {CPUS_PER_GPU} per GPU; a CPU job without it "
        "gets the partition's default).",
    )
    parser.add_argument(
        "--mem_gb",
        type=positive_float,
        default=None,
        help=f"Memory per node, in GB (default: {MEM_GB_PER_GPU} per GPU; a CPU job without it "
        "gets the partition's default).",
    )
    parser.add_argument(
        "--partition",
        type=no_control_characters,
        default=None,
        help="Slurm partition (default: the cluster's).",
    )
    parser.add_argument(
        "--account",
        type=no_control_characters,
        default=None,
        help="Slurm account to charge the job to.",
    )
    parser.add_argument(
        "--qos", type=no_control_characters, default=None, help="Slurm quality of service."
    )
    parser.add_argument(
        "--constraint",
        type=no_control_characters,
        default=None,
        help="Slurm node features the nodes must have, e.g. 'a100|h100' (ANDed with "
        "--use_volta32's).",
    )
    parser.add_argument(
        "--sbatch",
        dest="sbatch_options",
        metavar="KEY[=VALUE]",
        type=sbatch_option,
        action="append",
        default=[],
        help="Any other sbatch option, repeatable: --sbatch exclusive --sbatch "
        "reservation=big --sbatch=--gres=gpu:a100:8 (KEY as in 'sbatch --KEY=VALUE').",
    )
    parser.add_argument(
        "--timeout", type=int, default=60 * 72, help="Time limit of the job, in minutes."
    )
    parser.add_argument(
        "--name",
        type=no_control_characters,
        default="",
        help="Job name (default: the config file's name).",
    )
    parser.add_argument(
        "--use_volta32",
        action="store_true",
        help=f"Ask for 32GB V100s (constraint {VOLTA32_CONSTRAINT}).",
    )
    parser.add_argument(
        "--mail",
        type=no_control_characters,
        default="",
        help="Mail this address when the job ends or fails.",
    )
    parser.add_argument(
        "--comment",
        type=no_control_characters,
        default="",
        help="Comment passed to Slurm, e.g. a priority reason.",
    )
    parser.add_argument(
        "--resume-from",
        dest="resume_from",
        default="",
        help="Checkpoint (.pyth) to start from while JOB_DIR has none, or a 'last_checkpoint' "
        "file naming one in its folder.",
    )
    parser.add_argument(
        "--resume-job",
        dest="resume_job",
        default="",
        help="Id of an earlier job of JOB_DIR to continue: reuses its config and overrides "
        "(--cfg and new KEY VALUE pairs still apply).",
    )
    parser.add_argument(
        "--cluster",
        choices=("slurm", "local", "debug"),
        default="slurm",
        help=(
            "slurm: submit and return; local: run on this machine and wait; "
            "debug: run in this process."
        ),
    )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line (``sys.argv[1:]`` when ``argv`` is None)."""
    return build_submit_parser().parse_args(sys.argv[1:] if argv is None else argv)


def prepare_job_dir(job_dir: str) -> None:
    """Create the job dir if needed and check that it is writable and that no run holds it."""
    try:
        os.makedirs(job_dir, exist_ok=True)
    except OSError as error:
        raise SubmitError(f"--job_dir {job_dir}: cannot create it: {error.strerror}.") from error
    if not os.access(job_dir, os.W_OK | os.X_OK):
        raise SubmitError(f"--job_dir {job_dir} is not writable; choose a folder you can write to.")
    try:
        with lock_output_dir(job_dir):  # free now: no job is running there
            pass
    except (OutputDirLockedError, ConfigError) as error:
        raise SubmitError(f"--job_dir: {error}") from error


def resolve_resume_from(path: str) -> str:
    """The checkpoint ``--resume-from`` names (a file, or a ``last_checkpoint`` file naming one)."""
    if not os.path.isfile(path):
        raise SubmitError(f"--resume-from {path}: no such file.")
    if os.path.basename(path) != "last_checkpoint":
        return os.path.abspath(path)
    with open(path) as stream:
        name = stream.read().strip()
    target = os.path.join(os.path.dirname(os.path.abspath(path)), name)
    if not name or not os.path.isfile(target):
        raise SubmitError(
            f"--resume-from {path} names {name!r}, which is not a file in its folder."
        )
    return target


def submission_path(job_dir: str, job_id: str) -> str:
    """``JOB_DIR/submitit/JOB_ID/submission.json``: the config file and overrides of a job."""
    return os.path.join(job_dir, "submitit", str(job_id), SUBMISSION_FILE)


def save_submission(job_dir: str, job_id: str, node_job: NodeJob) -> str:
    """Write the config file and overrides of job ``job_id`` for ``--resume-job`` (plain JSON:
    resuming never loads submitit's pickles, which could run any code)."""
    path = submission_path(job_dir, job_id)
    with atomic_write(path, binary=False) as stream:
        json.dump({"cfg_file": node_job.cfg_file, "opts": node_job.opts}, stream, indent=2)
    return path


def previous_job(job_dir: str, job_id: str) -> tuple[str, list[str]]:
    """(config file, overrides) of job ``job_id`` of ``job_dir`` (for ``--resume-job``), from the
    JSON file :func:`save_submission` wrote."""
    path = submission_path(job_dir, job_id)
    if not os.path.isfile(path):
        jobs_dir = os.path.join(job_dir, "submitit")
        known = sorted(
            name
            for name in (os.listdir(jobs_dir) if os.path.isdir(jobs_dir) else [])
            if os.path.isfile(submission_path(job_dir, name))
        )
        raise SubmitError(
            f"--resume-job {job_id}: {path} does not exist; jobs of {job_dir} that can be "
            f"resumed: {', '.join(known) or 'none'} (or give --cfg and the overrides again)."
        )
    try:
        with open(path, encoding="utf-8") as stream:
            submission = json.load(stream)
        cfg_file, opts = submission["cfg_file"], submission["opts"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SubmitError(f"--resume-job {job_id}: {path} cannot be read: {error}.") from error
    if not isinstance(cfg_file, str) or not (
        isinstance(opts, list) and all(isinstance(item, str) for item in opts)
    ):
        raise SubmitError(
            f"--resume-job {job_id}: {path} must hold a 'cfg_file' string and an 'opts' list of "
            "strings."
        )
    return cfg_file, opts


def make_node_job(args: argparse.Namespace, job_dir: str) -> NodeJob:
    """The callable each node runs: config file and overrides, with OUTPUT_DIR and NUM_GPUS set."""
    cfg_file, opts = args.cfg_file, list(args.opts)
    if args.resume_job:
        earlier_cfg_file, earlier_opts = previous_job(job_dir, args.resume_job)
        cfg_file, opts = cfg_file or earlier_cfg_file, earlier_opts + opts
    if not cfg_file:
        raise SubmitError(
            "--cfg is required (the YAML config of the run), unless --resume-job is given."
        )
    if not os.path.isfile(cfg_file):
        raise SubmitError(f"--cfg {cfg_file}: no such file.")
    if args.resume_from:
        opts += ["TRAIN.CHECKPOINT_FILE_PATH", resolve_resume_from(args.resume_from)]
    opts += ["OUTPUT_DIR", job_dir, "NUM_GPUS", str(args.num_gpus)]
    return NodeJob(os.path.abspath(cfg_file), opts)


def job_name(args: argparse.Namespace, node_job: NodeJob) -> str:
    """``--name``, else the config file's name without its folder and extension (which goes into
    the sbatch script's ``#SBATCH --job-name`` line too, so it must have no control character)."""
    if args.name:
        return args.name
    name = os.path.splitext(os.path.basename(node_job.cfg_file))[0]
    if control_characters(name):
        raise SubmitError(
            f"--cfg {node_job.cfg_file!r}: the job is named after the config file, whose name has "
            f"control character(s) {control_characters(name)}; give the job a --name."
        )
    return name


def check_config(node_job: NodeJob, args: argparse.Namespace) -> None:
    """Load the job's config as its nodes will, so that a bad key fails now rather than in the
    queue; when the job will train from nothing, get the ImageNet weights it starts from into
    timm's cache here (:func:`~timesformer.engine.trainer.prepare_imagenet_weights`)."""
    if args.num_shards < 1 or args.num_gpus < 0:
        raise SubmitError(
            f"--num_shards {args.num_shards} / --num_gpus {args.num_gpus}: expected >= 1 / >= 0."
        )
    if args.cluster != "slurm" and args.num_shards != 1:
        raise SubmitError(
            f"--cluster {args.cluster} runs on this machine only; use --num_shards 1."
        )
    namespace = argparse.Namespace(
        cfg_file=node_job.cfg_file,
        opts=node_job.opts + ["TRAIN.AUTO_RESUME", "True"],  # as the nodes run it
        shard_id=0,
        num_shards=args.num_shards,
    )
    try:
        cfg = load_config(namespace, check_devices=args.cluster != "slurm")
        prepare_imagenet_weights(cfg)
    except (ConfigError, CheckpointError) as error:
        raise SubmitError(str(error)) from error


def build_executor(args: argparse.Namespace, job_dir: str, name: str) -> submitit.AutoExecutor:
    """A submitit executor for ``args.cluster`` with the job's resources.

    Slurm: one task per node, ``--num_gpus`` GPUs, CPUs and memory (:func:`node_resources`),
    and the preemption signal SIGNAL_DELAY_S seconds before the time limit.
    Submitit's files go to JOB_DIR/submitit/JOB_ID/.
    """
    folder = os.path.join(job_dir, "submitit", "%j")
    try:
        executor = submitit.AutoExecutor(
            folder=folder, cluster=args.cluster, slurm_max_num_timeout=MAX_REQUEUES
        )
    except RuntimeError as error:  # submitit's "Could not detect srun"
        raise SubmitError(
            f"--cluster {args.cluster}: {error} (use --cluster local to run here)."
        ) from error
    cpus_per_task, mem_gb = node_resources(args)
    executor.update_parameters(  # None: not requested at all
        name=name,
        nodes=args.num_shards,
        tasks_per_node=1,
        gpus_per_node=args.num_gpus or None,
        cpus_per_task=cpus_per_task,
        mem_gb=mem_gb,
        timeout_min=args.timeout,
        slurm_signal_delay_s=SIGNAL_DELAY_S,
        **slurm_options(args),
    )
    return executor


def node_resources(args: argparse.Namespace) -> tuple[int | None, float | None]:
    """CPUs of each node's task and GB of memory per node: ``--cpus_per_task`` and
    ``--mem_gb``, else CPUS_PER_GPU and MEM_GB_PER_GPU per GPU; None (not requested: the
    partition's default) for a CPU job without them."""
    cpus_per_task = args.cpus_per_task or CPUS_PER_GPU * args.num_gpus or None
    mem_gb = args.mem_gb or MEM_GB_PER_GPU * args.num_gpus or None
    return cpus_per_task, mem_gb


def slurm_options(args: argparse.Namespace) -> dict:
    """Slurm-only parameters from ``--partition``, ``--account``, ``--qos``, ``--constraint``,
    ``--use_volta32``, ``--mail``, ``--comment`` and ``--sbatch``."""
    options = {}
    for name in ("partition", "account", "qos", "comment"):
        if getattr(args, name):
            options[f"slurm_{name}"] = getattr(args, name)
    if args.use_volta32 and args.constraint:
        expression = f"({args.constraint})" if "|" in args.constraint else args.constraint
        options["slurm_constraint"] = f"{VOLTA32_CONSTRAINT}&{expression}"
    elif args.use_volta32 or args.constraint:
        options["slurm_constraint"] = args.constraint or VOLTA32_CONSTRAINT
    if args.mail:
        options.update(slurm_mail_user=args.mail, slurm_mail_type="END,FAIL")
    if args.sbatch_options:
        options["slurm_additional_parameters"] = dict(args.sbatch_options)
    return options


def describe(job: submitit.Job, args: argparse.Namespace, job_dir: str) -> str:
    """What the job asked for, and where it writes: training log, checkpoints and submitit's
    logs."""
    resources = f"{args.num_shards} node(s) x {args.num_gpus} GPU(s)"
    if args.cluster == "slurm":
        cpus_per_task, mem_gb = node_resources(args)
        cpus = f"{cpus_per_task} CPU(s)" if cpus_per_task else "the partition's default CPUs"
        mem = f"{mem_gb} GB" if mem_gb else "the partition's default memory"
        resources += f", {cpus} and {mem} per node"
    return "\n".join(
        [
            f"Submitted job {job.job_id} ({args.cluster}): {resources}.",
            f"  training log: {os.path.join(job_dir, 'stdout.log')}",
            f"  checkpoints:  {os.path.join(job_dir, 'checkpoints')}",
            f"  job output:   {job.paths.stdout}",
            f"  job errors:   {job.paths.stderr}",
        ]
    )


def wait_for(job: submitit.Job) -> int:
    """Wait for a local or debug job; 0 when it succeeded, 1 when it failed, 130 on Ctrl-C."""
    try:
        while not job.done():  # submitit's own wait polls once a second
            time.sleep(POLL_S)
        job.result()
    except KeyboardInterrupt:
        job.cancel()
        print(f"Interrupted; cancelled job {job.job_id}.", file=sys.stderr)
        return 130
    except Exception as error:  # submitit's FailedJobError / UncompletedJobError, or the job's own
        print(f"Job {job.job_id} failed: {error}", file=sys.stderr)
        print(f"Logs: {job.paths.stdout} and {job.paths.stderr}", file=sys.stderr)
        return 1
    print(f"Job {job.job_id} finished. Logs: {job.paths.stdout}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Submit (slurm) or run and wait (local, debug); return the exit status."""
    args = parse_args(argv)
    job_dir = os.path.abspath(os.path.expanduser(args.job_dir))
    try:
        node_job = make_node_job(args, job_dir)
        name = job_name(args, node_job)
        check_config(node_job, args)
        prepare_job_dir(job_dir)
        executor = build_executor(args, job_dir, name)
    except SubmitError as error:
        print(f"submit.py: error: {error}", file=sys.stderr)
        return 2
    cluster_config = {name: os.environ[name] for name in ("SLURM_CONF",) if name in os.environ}
    try:
        with submitit.helpers.clean_env():  # drops SLURM_*, SBATCH_* (of an enclosing job)
            os.environ.update(cluster_config)  # but sbatch needs the cluster's slurm.conf
            job = executor.submit(node_job)
    except FailedJobError as error:  # sbatch refused the job
        print(f"submit.py: error: submission failed: {str(error).strip()}", file=sys.stderr)
        return 1
    save_submission(job_dir, job.job_id, node_job)
    print(describe(job, args, job_dir), flush=True)
    if args.cluster == "slurm":
        return 0
    return wait_for(job)


if __name__ == "__main__":
    sys.exit(main())
