"""tools/model_stats.py: the model's cost as one JSON object."""

import json

from helpers import TINY_RUN
from timesformer.cli.model_stats import main


def test_cli_json(capsys):
    assert main(["--json"] + TINY_RUN) == 0
    stats = json.loads(capsys.readouterr().out)
    assert set(stats) == {
        "params_m",
        "gflops_per_view",
        "gflops_per_video",
        "views_per_video",
        "activations_m",
        "computed_gflops_per_view",
    }
