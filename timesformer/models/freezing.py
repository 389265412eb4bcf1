"""Frozen parts of the network for fine-tuning: TRAIN.LINEAR_PROBE (all but the head) and
TRAIN.FREEZE_BLOCKS (the embeddings and the first N blocks).

A frozen parameter has ``requires_grad`` False, so that DistributedDataParallel does not register
it and :func:`~timesformer.models.optimizer.build_optimizer` leaves it out; a frozen module is in
eval mode while the rest trains (no drop path, no dropout). :func:`freeze_for_finetuning` runs in
``build_model``, before the model is wrapped; :func:`set_train_mode` replaces ``model.train()``.
"""

from fvcore.common.config import CfgNode
from torch import nn

from timesformer.utils.distributed import unwrap_model

EMBEDDING_PARAMETERS = ("cls_token", "pos_embed", "time_embed")
"""The network's embedding parameters outside ``patch_embed`` (``time_embed``: when it has one)."""


def _network(model: nn.Module) -> nn.Module:
    """The network inside ``model``: a registered model holds it as ``.model``, possibly in
    DistributedDataParallel / ``torch.compile`` wrappers; or ``model`` is the network."""
    model = unwrap_model(model)
    return getattr(model, "model", model)


def frozen_modules(model: nn.Module, cfg: CfgNode) -> list[nn.Module]:
    """The network's modules that ``cfg`` freezes, in order: ``patch_embed``, the frozen blocks
    (all ``blocks`` and the final ``norm`` with TRAIN.LINEAR_PROBE); [] when nothing is frozen."""
    network = _network(model)
    if cfg.TRAIN.LINEAR_PROBE:
        return [network.get_submodule(name) for name in ("patch_embed", "blocks", "norm")]
    count = cfg.TRAIN.FREEZE_BLOCKS
    if count == 0:
        return []
    blocks = list(network.get_submodule("blocks").children())
    return [network.get_submodule("patch_embed"), *blocks[:count]]


def frozen_parameters(model: nn.Module, cfg: CfgNode) -> list[nn.Parameter]:
    """The parameters ``cfg`` freezes: with TRAIN.LINEAR_PROBE every one but the head's; with
    TRAIN.FREEZE_BLOCKS the embeddings' and those of the first N blocks; else none."""
    network = _network(model)
    if cfg.TRAIN.LINEAR_PROBE:
        head = {id(param) for param in network.get_submodule("head").parameters()}
        return [param for param in network.parameters() if id(param) not in head]
    modules = frozen_modules(model, cfg)
    if not modules:
        return []
    own = network.named_parameters(recurse=False)
    embeddings = [param for name, param in own if name in EMBEDDING_PARAMETERS]
    return embeddings + [param for module in modules for param in module.parameters()]


def freeze_for_finetuning(model: nn.Module, cfg: CfgNode) -> nn.Module:
    """Set ``requires_grad`` False on the parameters TRAIN.LINEAR_PROBE / TRAIN.FREEZE_BLOCKS
    freeze (:func:`frozen_parameters`); returns ``model``. Call it before wrapping the model in
    DistributedDataParallel, which registers only the parameters that require gradients."""
    for param in frozen_parameters(model, cfg):
        param.requires_grad_(False)
    return model


def set_train_mode(model: nn.Module, cfg: CfgNode) -> nn.Module:
    """``model.train()``, then the frozen modules (:func:`frozen_modules`) back in eval mode:
    their drop path and dropout off, while the head and its dropout train. Returns ``model``."""
    model.train()
    for module in frozen_modules(model, cfg):
        module.eval()
    return model
