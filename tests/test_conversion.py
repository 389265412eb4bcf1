"""timesformer.checkpoint.conversion: Hugging Face -> ours -> Hugging Face, the same model."""

import pytest
import torch
from transformers import TimesformerForVideoClassification

from helpers import tiny_hf_model
from timesformer.checkpoint.conversion import hf_to_pyth, pyth_to_hf


@pytest.mark.parametrize("attention_type", ["divided_space_time", "joint_space_time", "space_only"])
def test_hugging_face_to_ours_to_hugging_face_round_trip(attention_type, tmp_path):
    hf_model = tiny_hf_model(attention_type)
    hf_model.save_pretrained(tmp_path / "hf")
    hf_to_pyth(str(tmp_path / "hf"), str(tmp_path / "ours.pyth"))
    pyth_to_hf(str(tmp_path / "ours.pyth"), str(tmp_path / "hf_again"))
    again = TimesformerForVideoClassification.from_pretrained(tmp_path / "hf_again")
    for key in (
        "image_size",
        "patch_size",
        "num_frames",
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "intermediate_size",
        "attention_type",
        "num_labels",
    ):
        assert getattr(again.config, key) == getattr(hf_model.config, key), key
    original = hf_model.state_dict()
    assert again.state_dict().keys() == original.keys()
    for name, tensor in again.state_dict().items():
        assert torch.equal(tensor, original[name]), name
