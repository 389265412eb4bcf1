"""timesformer/benchmarks/model_pair.py: our model and the reference get the same weights and
compute the same logits."""

import torch

from helpers import tiny_benchmark_args
from timesformer.benchmarks.model_pair import Case, build_models, build_random_batch, logits_of


def test_both_models_get_the_same_weights_and_agree():
    args = tiny_benchmark_args()
    for attention in ("divided_space_time", "joint_space_time", "space_only"):
        case = Case(attention, 2)
        models = build_models(args, case)
        with torch.no_grad():
            ours, reference = (
                logits_of(model.eval(), impl, build_random_batch(args, case, impl)[0])
                for impl, model in models.items()
            )
        assert ours.shape == reference.shape == (1, 5)
        if (
            attention != "space_only"
        ):  # the reference classifies each frame; its mean is another function
            torch.testing.assert_close(ours, reference, atol=1e-5, rtol=1e-5)
