"""What a submitted job asks Slurm for: its resources and sbatch options, each value checked
before it reaches the sbatch script.

Every value here becomes part of one line of the sbatch script submitit writes
(``#SBATCH --comment=...``). A control character would break that line: after a newline,
sbatch stops reading ``#SBATCH`` lines and the rest runs as shell commands of the job. So
every value is refused when it has one (:func:`no_control_characters`).

The checks are argparse types: a bad value stops the command line with ``argument --FLAG:``
and the reason, exit status 2.
"""

import argparse
import unicodedata

CPUS_PER_GPU = 10
MEM_GB_PER_GPU = 60
SIGNAL_DELAY_S = 120
VOLTA32_CONSTRAINT = "volta32gb"

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
