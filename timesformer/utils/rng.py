"""The random generators of a process: seeding, and capturing and restoring their state
(exact resume, side-effect-free evaluation)."""

import random
from contextlib import contextmanager

import numpy as np
import torch


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's (CPU and CUDA) random generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _numpy_state() -> dict:
    state = np.random.get_state(legacy=True)
    assert isinstance(state, tuple)  # the legacy form of the global generator, an MT19937
    kind, keys, position, has_gauss, cached_gaussian = state
    return {
        "kind": kind,
        "keys": torch.from_numpy(keys.astype(np.int64)),
        "position": int(position),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached_gaussian),
    }


def _set_numpy_state(state: dict) -> None:
    keys = state["keys"].numpy().astype(np.uint32)
    np.random.set_state(
        (state["kind"], keys, state["position"], state["has_gauss"], state["cached_gaussian"])
    )


def get_rng_state() -> dict:
    """State of Python's, NumPy's and PyTorch's (CPU and CUDA) generators of this process.

    Made of tensors, numbers, strings and tuples only, so that checkpoints holding
    it load with ``torch.load(..., weights_only=True)``.
    """
    state = {
        "python": random.getstate(),
        "numpy": _numpy_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore a state from :func:`get_rng_state`."""
    random.setstate(state["python"])
    _set_numpy_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@contextmanager
def preserved_rng_state():
    """Run a block without changing any generator's state afterwards."""
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
