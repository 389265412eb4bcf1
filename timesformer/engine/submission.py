"""The submission protocol: what a training + testing job handed to submitit needs, from the
options of ``tools/submit.py`` to the job that runs (a
:class:`~timesformer.engine.submitit_job.NodeJob`) and its end.

1. The node job (:func:`build_node_job`): the config file and overrides (or those of an earlier
   job of the folder, ``--resume-job``, read from the plain JSON file this module writes, never
   from submitit's pickles), ``--resume-from``, OUTPUT_DIR and NUM_GPUS; and its name
   (:func:`job_name`).
2. Its config, loaded as its nodes will load it (:func:`check_config`), so that a mistake
   fails now rather than in the queue.
3. The job folder, created and free (:func:`prepare_job_dir`).
4. The executor asking for the job's resources (:func:`build_executor`), then the submission
   (:func:`submit_job`) and, for a job run here, waiting for it (:func:`wait_for_job`).

``args`` is the parsed command line, its fields named as ``tools/submit.py``'s flags
(``cfg_file``, ``opts``, ``num_shards``, ``num_gpus``, ``cluster``, ...).
"""

import argparse
import json
import os
import time

import submitit
from submitit.core.utils import FailedJobError

from timesformer.checkpoint.start_state import prepare_start_state
from timesformer.config.packaged import packaged_config
from timesformer.engine.submitit_job import NodeJob
from timesformer.errors import TimesformerError
from timesformer.utils.file_io import RunFolderError, atomic_write
from timesformer.utils.output_lock import OutputDirLockedError, lock_output_dir
from timesformer.utils.parser import load_config
from timesformer.utils.sbatch_options import (
    SIGNAL_DELAY_S,
    control_characters,
    node_resources,
    slurm_options,
)

MAX_REQUEUES = 30
POLL_S = 0.2
SUBMISSION_FILE = "submission.json"


class SubmitError(TimesformerError):
    """A submission that cannot go ahead (bad argument, file or folder): a mistake in the
    command line (exit status 2)."""

    exit_status = 2


class SubmissionRefused(TimesformerError):
    """The cluster refused the job (sbatch failed); the message ends with sbatch's."""


def job_folder(job_dir: str) -> str:
    """``--job_dir`` as the absolute path every node and every later submission sees."""
    return os.path.abspath(os.path.expanduser(job_dir))


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
    except (OutputDirLockedError, RunFolderError) as error:
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


def build_node_job(args: argparse.Namespace, job_dir: str) -> NodeJob:
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
        packaged = packaged_config(cfg_file)
        if packaged is None:
            raise SubmitError(f"--cfg {cfg_file}: no such file, nor a packaged config.")
        cfg_file = packaged
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
    """Load the job's config as its nodes will (:attr:`NodeJob.run_opts`), so that a bad key
    fails now rather than in the queue; when the job will train from ImageNet weights, get them
    into timm's cache here (:func:`~timesformer.checkpoint.start_state.prepare_start_state`).

    Raises:
        SubmitError: a bad --num_shards or --num_gpus.
        ConfigError: a mistake in the config.
        CheckpointError: the ImageNet weights cannot be had.
    """
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
        opts=node_job.run_opts,
        shard_id=0,
        num_shards=args.num_shards,
    )
    prepare_start_state(load_config(namespace, check_devices=args.cluster != "slurm"))


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


def prepare_submission(
    args: argparse.Namespace, job_dir: str
) -> tuple[NodeJob, submitit.AutoExecutor]:
    """Steps 1-4 before submitting: (the node job, its executor). Raises :class:`SubmitError`,
    or the config's :class:`~timesformer.errors.TimesformerError`."""
    node_job = build_node_job(args, job_dir)
    name = job_name(args, node_job)
    check_config(node_job, args)
    prepare_job_dir(job_dir)
    return node_job, build_executor(args, job_dir, name)


def submit_job(executor: submitit.AutoExecutor, node_job: NodeJob, job_dir: str) -> submitit.Job:
    """Submit ``node_job`` (to Slurm; or start it here) and record its config file and
    overrides for ``--resume-job``. sbatch does not see an enclosing job's ``SLURM_*`` and
    ``SBATCH_*`` variables, but does see ``SLURM_CONF`` (the cluster's slurm.conf).

    Raises:
        SubmissionRefused: sbatch refused the job.
    """
    cluster_config = {name: os.environ[name] for name in ("SLURM_CONF",) if name in os.environ}
    try:
        with submitit.helpers.clean_env():  # drops SLURM_*, SBATCH_* (of an enclosing job)
            os.environ.update(cluster_config)  # but sbatch needs the cluster's slurm.conf
            job = executor.submit(node_job)
    except FailedJobError as error:
        raise SubmissionRefused(f"submission failed: {str(error).strip()}") from error
    save_submission(job_dir, job.job_id, node_job)
    return job


def wait_for_job(job: submitit.Job) -> None:
    """Wait for a local or debug job to end; raise what made it fail (submitit's
    FailedJobError / UncompletedJobError, or the job's own error). Ctrl-C cancels the job,
    then goes on as KeyboardInterrupt."""
    try:
        while not job.done():  # submitit's own wait polls once a second
            time.sleep(POLL_S)
        job.result()
    except KeyboardInterrupt:
        job.cancel()
        raise
