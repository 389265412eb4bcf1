"""Shared fixtures; shared helpers are in helpers.py."""

import huggingface_hub
import pytest
import torch

from helpers import write_kinetics_dir


def pytest_collection_modifyitems(config, items):
    """Tests marked ``cuda`` are skipped on a machine without a CUDA GPU."""
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def offline_weight_caches(tmp_path_factory):
    """No test touches the network or this machine's weight caches: Hugging Face hub offline,
    and the hub's and torch hub's caches (where timm keeps ImageNet weights) empty folders of
    the test session, for this process and the processes it spawns. Returns the folder."""
    root = tmp_path_factory.mktemp("weight_caches")
    hub_cache = str(root / "huggingface" / "hub")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("HF_HOME", str(root / "huggingface"))
        patch.setenv("HF_HUB_CACHE", hub_cache)
        patch.setenv("TORCH_HOME", str(root / "torch"))
        patch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
        patch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", hub_cache)
        yield root


@pytest.fixture(scope="session")
def kinetics_dir(tmp_path_factory):
    """A Kinetics-format folder of tiny videos (see helpers.write_kinetics_dir); read-only."""
    folder = str(tmp_path_factory.mktemp("kinetics"))
    write_kinetics_dir(folder)
    return folder


@pytest.fixture
def torch_load_reads(monkeypatch):
    """The files ``torch.load`` reads in full from now on, in order (mapped loads, which do not
    read the tensors, left out)."""
    reads, load = [], torch.load

    def counting_load(path, *args, **kwargs):
        if not kwargs.get("mmap"):
            reads.append(str(path))
        return load(path, *args, **kwargs)

    monkeypatch.setattr(torch, "load", counting_load)
    return reads
