"""timesformer.utils.deprecation: the old module paths of weights and checkpoints still give the
same objects, with a DeprecationWarning naming the new module, and importing one imports
nothing of the layer the code moved to."""

import importlib
import subprocess
import sys
import warnings

import pytest

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
