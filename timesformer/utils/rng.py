"""Capturing and restoring the random generators' state (exact resume, side-effect-free eval)."""

import random
from contextlib import contextmanager

import numpy as np
import torch


def get_rng_state() -> dict:
    """State of Python's, NumPy's and PyTorch's (CPU and CUDA) generators of this process."""
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore a state from :func:`get_rng_state`."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
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
