"""The config as tracker params: one flat ``{"KEY.SUB": "value"}`` entry per leaf of the tree."""

from fvcore.common.config import CfgNode


def config_params(cfg: CfgNode) -> dict[str, str]:
    """Every leaf key of ``cfg`` by its dotted name, its value as text (lists as ``[1, 2]``):
    ``{"SOLVER.BASE_LR": "0.005", "DATA.MEAN": "[0.45, 0.45, 0.45]", ...}``."""
    params: dict[str, str] = {}
    nodes = [("", cfg)]
    while nodes:
        prefix, node = nodes.pop(0)
        for key, value in node.items():
            if isinstance(value, dict):
                nodes.append((f"{prefix}{key}.", value))
            else:
                params[f"{prefix}{key}"] = str(value)
    return params
