"""timesformer.utils.deprecation: the old module paths of weights and checkpoints still give the
same objects, with a DeprecationWarning naming the new module, and importing one imports
nothing of the layer the code moved to; the original's function names that were renamed still
call the new functions, with a DeprecationWarning naming the new name."""

import importlib
import subprocess
import sys
import warnings

import pytest
import torch

from helpers import TINY_MODEL, TINY_VIDEO_DATA, tiny_cfg
from timesformer.datasets import loader
from timesformer.models import optimizer as optim
from timesformer.models.build import build_bare_model
from timesformer.utils.deprecation import renamed_function

MOVED = {
    "timesformer.models.weights": ("timesformer.checkpoint.formats", "load_model_weights"),
    "timesformer.models.weight_files": ("timesformer.checkpoint.files", "CheckpointError"),
    "timesformer.models.hugging_face": (
        "timesformer.checkpoint.hugging_face",
        "convert_hf_state_dict",
    ),
    "timesformer.models.imagenet_weights": (
        "timesformer.checkpoint.imagenet",
        "load_pretrained_imagenet",
    ),
    "timesformer.utils.checkpoint": ("timesformer.checkpoint.training_state", "save_checkpoint"),
}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_path_gives_the_same_object_and_warns(old):
    new, name = MOVED[old]
    module = importlib.import_module(old)
    with pytest.warns(DeprecationWarning, match=f"^{old} is deprecated: it moved to {new};"):
        moved = getattr(module, name)
    assert moved is getattr(importlib.import_module(new), name)


def test_the_original_cu_import_still_works():
    import timesformer.checkpoint.training_state as training_state
    import timesformer.utils.checkpoint as cu

    with pytest.warns(DeprecationWarning, match="timesformer.checkpoint.training_state"):
        assert cu.get_path_to_checkpoint is training_state.get_path_to_checkpoint
    with pytest.warns(DeprecationWarning):
        from timesformer.utils.checkpoint import get_last_checkpoint
    assert get_last_checkpoint is training_state.get_last_checkpoint


def test_an_unknown_name_and_module_internals_are_not_found():
    import timesformer.models.weights as weights

    with pytest.warns(DeprecationWarning), pytest.raises(AttributeError, match="no_such_name"):
        weights.no_such_name  # noqa: B018 -- the attribute read is the test
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not hasattr(weights, "__wrapped__")  # a name inspect and doctest look for


def test_importing_an_old_path_imports_nothing_of_the_checkpoint_layer():
    code = (
        "import importlib, sys\n"
        f"for name in {sorted(MOVED)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith('timesformer.checkpoint')))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_a_renamed_function_warns_then_calls_the_new_one_with_the_same_arguments():
    def build_thing(size: int, name: str = "") -> tuple[int, str]:
        return size, name

    old = renamed_function(build_thing, "make_thing")
    with pytest.warns(DeprecationWarning, match=r"\.make_thing is deprecated: call build_thing,"):
        assert old(3, name="x") == (3, "x")
    assert old.__name__ == "make_thing" and old.__wrapped__ is build_thing


def test_the_original_construct_loader_still_builds_the_loader(kinetics_dir):
    cfg = tiny_cfg(kinetics_dir, "", *TINY_VIDEO_DATA)
    with pytest.warns(DeprecationWarning, match="construct_loader is deprecated: call build_"):
        old = loader.construct_loader(cfg, "test")
    new = loader.build_loader(cfg, "test")
    assert len(old.dataset) == len(new.dataset) and old.batch_size == new.batch_size


def test_the_original_construct_optimizer_still_builds_the_optimizer():
    cfg = tiny_cfg("", "", *TINY_MODEL)
    model = build_bare_model(cfg)
    with pytest.warns(DeprecationWarning, match="construct_optimizer is deprecated"):
        old = optim.construct_optimizer(model, cfg)
    new = optim.build_optimizer(model, cfg)
    assert type(old) is type(new) and old.defaults == new.defaults
    assert isinstance(old, torch.optim.Optimizer)
