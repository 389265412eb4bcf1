"""The Weights & Biases tracker: the config, the json_stats as metrics, the figures as images and
the checkpoint as a "model" artifact of one W&B run (``pip install timesformer[wandb]``).

W&B wants the step of ``run.log`` to grow across all metrics, but iteration records count
global iterations and epoch records count epochs. So each section (the part of a key before its
first "/", a json_stats split such as ``train_iter``) gets a step metric of its own,
``{section}/step``, declared with ``run.define_metric`` the first time the section is logged;
``run.log`` itself is left to count W&B's own step.
"""

import io
import os
from typing import TYPE_CHECKING, Any

from fvcore.common.config import CfgNode

from timesformer.tracking.tracker import Tracker, default_run_name
from timesformer.utils.logging import get_logger

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from wandb.sdk.wandb_run import Run

logger = get_logger(__name__)


class WandbTracker(Tracker):
    """One W&B run of WANDB.PROJECT, its files under OUTPUT_DIR/wandb."""

    name = "Weights & Biases"
    section = "WANDB"
    extra = "wandb"

    def __init__(self, run: "Run", logs_checkpoints: bool):
        super().__init__(logs_checkpoints)
        self.run = run
        self._sections: set[str] = set()

    @classmethod
    def open(cls, cfg: CfgNode, run_id: str | None) -> "WandbTracker":
        """``wandb.init`` with ``id=run_id, resume="allow"`` (continues that run, or starts it),
        ``reinit="create_new"`` (a run of its own, whatever other run the process has)."""
        import wandb

        os.makedirs(cfg.OUTPUT_DIR, exist_ok=True)
        run = wandb.init(
            project=cfg.WANDB.PROJECT or None,
            entity=cfg.WANDB.ENTITY or None,
            name=cfg.WANDB.RUN_NAME or default_run_name(cfg),
            mode=cfg.WANDB.MODE or None,
            dir=cfg.OUTPUT_DIR,
            id=run_id,
            resume="allow",
            reinit="create_new",
        )
        logger.info("Weights & Biases: run %s (%s), %s", run.id, run.name, run.dir)
        return cls(run, cfg.WANDB.LOG_CHECKPOINT)

    @property
    def run_id(self) -> str:
        return self.run.id

    def log_params(self, params: dict[str, str]) -> None:
        """Into the run's config; a continued run takes the values of this run."""
        self.run.config.update(params, allow_val_change=True)

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        self._log(metrics, step)

    def log_figure(self, tag: str, figure: "Figure", step: int) -> None:
        """A ``wandb.Image`` under ``tag`` (``figures/{tag}`` for a tag without "/"), from the
        figure's PNG: ``wandb.Image`` of a figure itself needs matplotlib.pyplot imported, and
        our figures are made without pyplot."""
        import wandb
        from PIL import Image

        png = io.BytesIO()
        figure.savefig(png, format="png")
        png.seek(0)
        key = tag if "/" in tag else f"figures/{tag}"
        with Image.open(png) as image:
            self._log({key: wandb.Image(image)}, step)

    def log_artifact(self, path: str) -> None:
        """The file in the run's artifact ``model-{run id}`` (type "model"), a new version each
        time."""
        import wandb

        artifact = wandb.Artifact(f"model-{self.run.id}", type="model")
        artifact.add_file(path)
        self.run.log_artifact(artifact)

    def close(self) -> None:
        self.run.finish()

    def _log(self, values: dict[str, Any], step: int) -> None:
        """``run.log`` each section's values with its step metric ``{section}/step`` at
        ``step``, declaring the step metric first when the section is new."""
        sections: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            sections.setdefault(key.partition("/")[0], {})[key] = value
        for section, section_values in sections.items():
            step_key = f"{section}/step"
            if section not in self._sections:
                self.run.define_metric(step_key, hidden=True)
                self.run.define_metric(f"{section}/*", step_metric=step_key)
                self._sections.add(section)
            self.run.log({**section_values, step_key: step})
