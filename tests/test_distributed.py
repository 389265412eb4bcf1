"""Helpers about this process's place in a job: without a process group, its device, and
the model inside DistributedDataParallel / torch.compile wrappers."""

import torch

from helpers import tiny_cfg
from timesformer.utils import distributed as du


def test_one_process_without_a_group_is_the_master_of_a_world_of_one():
    assert not du.is_distributed()
    assert (du.get_world_size(), du.get_rank(), du.is_master_proc()) == (1, 0, True)
    tensor = torch.tensor([3.0])
    assert du.all_reduce([tensor])[0].item() == 3.0 and du.all_gather([tensor])[0].tolist() == [3.0]
    du.synchronize()  # no group: returns at once


def test_cpu_runs_use_the_cpu():
    assert du.process_device(tiny_cfg("", "")) == torch.device("cpu")


class _Wrapper(torch.nn.Module):
    """Stands for DistributedDataParallel (``.module``) and torch.compile (``._orig_mod``)."""

    def __init__(self, inner: torch.nn.Module, attribute: str):
        super().__init__()
        setattr(self, attribute, inner)


def test_unwrap_model_finds_the_model_in_any_nesting_of_wrappers():
    model = torch.nn.Linear(2, 2)
    wrapped = _Wrapper(_Wrapper(model, "module"), "_orig_mod")
    assert du.unwrap_model(wrapped) is model
    assert du.unwrap_model(model) is model


def test_wrapper_prefixes_are_stripped_from_names():
    model = torch.nn.Linear(2, 2)
    wrapped = _Wrapper(_Wrapper(model, "module"), "_orig_mod")
    assert sorted(wrapped.state_dict()) == ["_orig_mod.module.bias", "_orig_mod.module.weight"]
    assert du.strip_wrapper_prefixes(wrapped.state_dict()).keys() == model.state_dict().keys()
