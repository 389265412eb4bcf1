"""Small run-wide helpers: seeding and the job launcher."""

import random

import numpy as np
import torch

from timesformer.utils.multiprocessing import launch_job

__all__ = ["launch_job", "set_seed"]


def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's (CPU and CUDA) random generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
