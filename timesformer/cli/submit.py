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

The submission itself is :mod:`timesformer.engine.submission`; this module parses the command
line and reports.
"""

import argparse
import os
import sys

import submitit

from timesformer.utils.parser import build_arg_parser
from timesformer.utils.sbatch_options import (
    CPUS_PER_GPU,
    MEM_GB_PER_GPU,
    VOLTA32_CONSTRAINT,
    no_control_characters,
    node_resources,
    positive_float,
    positive_int,
    sbatch_option,
)
from timesformer.utils.user_errors import errors_end_in_one_line


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


def report_end(job: submitit.Job) -> int:
    """Wait for a local or debug job and say how it ended: 0 when it succeeded, 1 when it
    failed, 130 on Ctrl-C (the job cancelled)."""
    from timesformer.engine.submission import wait_for_job

    try:
        wait_for_job(job)
    except KeyboardInterrupt:
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
    parser = build_submit_parser()
    args = parser.parse_args(argv)
    # torch and the engine load here, after the arguments are checked
    from timesformer.engine.submission import job_folder, prepare_submission, submit_job

    job_dir = job_folder(args.job_dir)
    with errors_end_in_one_line(parser):
        node_job, executor = prepare_submission(args, job_dir)
        job = submit_job(executor, node_job, job_dir)
    print(describe(job, args, job_dir), flush=True)
    if args.cluster == "slurm":
        return 0
    return report_end(job)
