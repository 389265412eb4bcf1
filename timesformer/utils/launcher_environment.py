"""A process that a launcher started as one rank of a job: torchrun (torch.distributed.run,
also under ``srun``), the Kubernetes training operator's PyTorchJob, or anything else that sets
the same environment variables.

The contract, torchrun's (the variables every launcher of PyTorch jobs sets): ``RANK`` (global),
``WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT`` (where the processes meet), and, from
torchrun, ``LOCAL_RANK`` / ``LOCAL_WORLD_SIZE`` (this process on its machine; 0 / 1 when absent,
one process per pod as a PyTorchJob runs it), ``GROUP_RANK`` (the machine's index) and
``TORCHELASTIC_RESTART_COUNT``. The job's shape then comes from the environment:

    processes per machine = LOCAL_WORLD_SIZE        (NUM_GPUS, or NUM_PROCS on the CPU)
    NUM_SHARDS            = WORLD_SIZE / LOCAL_WORLD_SIZE
    SHARD_ID              = GROUP_RANK, else RANK // LOCAL_WORLD_SIZE
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from fvcore.common.config import CfgNode

from timesformer.config.check_rules import ConfigError

REQUIRED_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
"""What a launcher must set for a process to join its job."""
_MARKERS = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
"""Any of these says a launcher started this process."""
_INTEGERS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "MASTER_PORT")


@dataclass(frozen=True)
class LauncherEnvironment:
    """This process's place in a launched job, as its environment says (the module docstring)."""

    rank: int
    world_size: int
    local_rank: int
    local_world_size: int
    node_rank: int
    master_addr: str
    master_port: int
    restart_count: int
    agent_store: bool
    """torchrun's agent already holds the job's store at MASTER_ADDR:MASTER_PORT (the
    processes then meet through it, as ``env://`` does under torchrun)."""

    @property
    def num_nodes(self) -> int:
        return self.world_size // self.local_world_size

    @property
    def endpoint(self) -> str:
        return f"{self.master_addr}:{self.master_port}"

    def describe(self) -> str:
        """``rank 3 of 4 (machine 1 of 2, process 1 of 2 on it)``."""
        return (
            f"rank {self.rank} of {self.world_size} (machine {self.node_rank} of "
            f"{self.num_nodes}, process {self.local_rank} of {self.local_world_size} on it)"
        )


def _integers(environ: Mapping[str, str]) -> dict[str, int]:
    values = {}
    for name in _INTEGERS:
        if name not in environ:
            continue
        try:
            values[name] = int(environ[name])
        except ValueError:
            raise ConfigError(
                f"The launcher's environment variable {name} is {environ[name]!r}; expected a "
                "whole number."
            ) from None
    return values


def launcher_environment(environ: Mapping[str, str] | None = None) -> LauncherEnvironment | None:
    """The launched job this process belongs to, or None when no launcher started it (none of
    RANK, WORLD_SIZE, LOCAL_RANK is set: a plain command, whose NUM_GPUS / NUM_PROCS processes
    are spawned as the original's are).

    Raises:
        ConfigError: the variables are half set (one line naming what is missing) or
            inconsistent (a rank outside the world, a world not a whole number of machines).
    """
    environ = os.environ if environ is None else environ
    if not any(name in environ for name in _MARKERS):
        return None
    missing = [name for name in REQUIRED_VARIABLES if not environ.get(name)]
    if missing:
        known = dict.fromkeys((*_MARKERS, *REQUIRED_VARIABLES))
        present = ", ".join(name for name in known if name in environ)
        raise ConfigError(
            f"This process was started by a launcher ({present} set) but {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set; a launcher (torchrun, a "
            "PyTorchJob...) sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT, or unset them all "
            "to let NUM_GPUS / NUM_PROCS start the processes."
        )
    values = _integers(environ)
    world_size, rank = values["WORLD_SIZE"], values["RANK"]
    local_world_size = values.get("LOCAL_WORLD_SIZE", 1)
    _check(world_size >= 1 and 0 <= rank < world_size, f"RANK {rank} of WORLD_SIZE {world_size}")
    _check(
        local_world_size >= 1 and world_size % local_world_size == 0,
        f"WORLD_SIZE {world_size} is not a whole number of machines of LOCAL_WORLD_SIZE "
        f"{local_world_size} processes",
    )
    local_rank = values.get("LOCAL_RANK", rank % local_world_size)
    _check(0 <= local_rank < local_world_size, f"LOCAL_RANK {local_rank} of {local_world_size}")
    return LauncherEnvironment(
        rank=rank,
        world_size=world_size,
        local_rank=local_rank,
        local_world_size=local_world_size,
        node_rank=values.get("GROUP_RANK", rank // local_world_size),
        master_addr=environ["MASTER_ADDR"],
        master_port=values["MASTER_PORT"],
        restart_count=int(environ.get("TORCHELASTIC_RESTART_COUNT", "0") or 0),
        agent_store=environ.get("TORCHELASTIC_USE_AGENT_STORE", "").lower() == "true",
    )


def _check(condition: bool, problem: str) -> None:
    if not condition:
        raise ConfigError(f"The launcher's environment is inconsistent: {problem}.")


def _shape_keys(cfg: CfgNode) -> dict[str, int]:
    processes_key = "NUM_GPUS" if cfg.NUM_GPUS > 0 else "NUM_PROCS"
    return {
        processes_key: cfg[processes_key],
        "NUM_SHARDS": cfg.NUM_SHARDS,
        "SHARD_ID": cfg.SHARD_ID,
    }


def apply_launcher_environment(
    cfg: CfgNode, environment: LauncherEnvironment, explicit: set[str]
) -> list[str]:
    """Set the job's shape keys of ``cfg`` (NUM_GPUS or NUM_PROCS, NUM_SHARDS, SHARD_ID) from
    ``environment``; returns ``KEY config -> launcher`` for each key the config (its YAML file)
    set otherwise, for one line of the log.

    Raises:
        ConfigError: a key given ``explicit``ly (on the command line) disagrees with the
            launcher, naming both.
    """
    launched = {
        "NUM_GPUS" if cfg.NUM_GPUS > 0 else "NUM_PROCS": environment.local_world_size,
        "NUM_SHARDS": environment.num_nodes,
        "SHARD_ID": environment.node_rank,
    }
    changed = []
    for key, configured in _shape_keys(cfg).items():
        wanted = launched[key]
        if configured == wanted:
            continue
        if key in explicit:
            raise ConfigError(
                f"{key} {configured} was given on the command line, but the launcher started "
                f"this process as {environment.describe()}, which makes {key} {wanted}; drop "
                f"{key} (the launcher's counts are used) or launch "
                f"{_launch_shape(key, configured)}."
            )
        changed.append(f"{key} {configured} -> {wanted}")
        cfg[key] = wanted
    return changed


def _launch_shape(key: str, configured: int) -> str:
    if key == "NUM_SHARDS":
        return f"{configured} machine(s) (torchrun --nnodes {configured})"
    if key == "SHARD_ID":
        return f"this process on machine {configured} (torchrun --node_rank {configured})"
    return f"{configured} process(es) per machine (torchrun --nproc_per_node {configured})"
