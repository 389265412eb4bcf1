"""The exponential moving average of a model's weights during training (MODEL_EMA), on timm's
``ModelEmaV3``, with the count of its updates, so that a resumed run continues it exactly.

After optimizer step ``t`` (counted from 1 over the whole run), every tensor of the model's state
dict (parameters and buffers) is folded in::

    ema = decay_t * ema + (1 - decay_t) * weights

with ``decay_t`` = 0 at ``t`` = 1 (the average starts as a copy of the weights), then
MODEL_EMA.DECAY; with MODEL_EMA.WARMUP ``min(DECAY, 1 - t^(-2/3))`` (timm's warm-up with its
defaults, gamma 1 and power 2/3), which is 0 at ``t`` = 1 too.
"""

import torch
from fvcore.common.config import CfgNode
from timm.utils import ModelEmaV3

from timesformer.checkpoint.training_state import EMA_STATE_KEY, EMA_UPDATES_KEY
from timesformer.utils import distributed as du
from timesformer.utils.logging import get_logger

logger = get_logger(__name__)


class ModelEma:
    """The EMA of ``model``'s weights (unwrapped from DistributedDataParallel / torch.compile),
    kept on its device. ``module``: the averaged model, in eval mode, to validate and test with.

    Each process keeps its own copy; the weights it averages are the same on every process after
    an optimizer step, so the copies stay equal without communication.
    """

    def __init__(self, model: torch.nn.Module, decay: float, warmup: bool):
        self._average = ModelEmaV3(du.unwrap_model(model), decay=decay, use_warmup=warmup)
        self.updates = 0

    @classmethod
    def from_cfg(cls, cfg: CfgNode, model: torch.nn.Module) -> "ModelEma | None":
        """The EMA that MODEL_EMA asks for, starting from ``model``'s weights; None when off."""
        if not cfg.MODEL_EMA.ENABLE:
            return None
        return cls(model, cfg.MODEL_EMA.DECAY, cfg.MODEL_EMA.WARMUP)

    @property
    def module(self) -> torch.nn.Module:
        return self._average.module

    def update(self, model: torch.nn.Module) -> None:
        """Fold in ``model``'s weights after an optimizer step."""
        self.updates += 1
        self._average.update(du.unwrap_model(model), step=self.updates)

    def restart_from(self, model: torch.nn.Module) -> None:
        """Start the average again from ``model``'s weights, with no update counted (a run that
        starts from a checkpoint or ImageNet weights, once they are loaded)."""
        self.module.load_state_dict(du.unwrap_model(model).state_dict())
        self.updates = 0

    def checkpoint_entries(self) -> dict:
        """What a training checkpoint holds of the EMA: its weights and update count."""
        return {EMA_STATE_KEY: self.module.state_dict(), EMA_UPDATES_KEY: self.updates}

    def resume(self, checkpoint_state: dict, path: str, model: torch.nn.Module) -> None:
        """Continue the EMA a training checkpoint (its dict ``checkpoint_state``, read from
        ``path``) holds; one written without MODEL_EMA starts the average from ``model``'s
        resumed weights, with a warning."""
        if EMA_STATE_KEY not in checkpoint_state:
            logger.warning(
                "MODEL_EMA.ENABLE is set but %s holds no EMA weights (written without it): the "
                "average starts from its weights.",
                path,
            )
            self.restart_from(model)
            return
        self.module.load_state_dict(checkpoint_state[EMA_STATE_KEY])
        self.updates = int(checkpoint_state[EMA_UPDATES_KEY])
