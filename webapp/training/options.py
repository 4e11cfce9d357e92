"""What a training run is asked to do: its options, checked and turned into the recipe and the
training config of workers/rm, and the error a request that cannot run raises. The run itself
is services.py's."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from webapp.training.models import TrainingRun

# Flags that "drop flagged" leaves out unless told otherwise.
DEFAULT_DROP_FLAGS = ["likely_mislabelled", "degenerate", "duplicate_conflict"]
# Per kind: (lr, batch size) when the options leave them unset.
DEFAULTS = {"head": (3e-3, 256), "finetune": (2e-5, 8)}


class TrainingError(ValueError):
    """A training request that cannot run, with a message for the person who asked."""


@dataclass
class TrainingOptions:
    kind: str = "head"  # head | finetune
    # The scoring run whose mu the recipe reads and whose deciles split the held-out metrics;
    # None = the project's latest complete run (if any).
    scoring_run: int | None = None
    # The recipe (workers/rm/recipes.py RecipeConfig).
    drop_flagged: bool = False
    drop_flag_kinds: list[str] = field(default_factory=lambda: list(DEFAULT_DROP_FLAGS))
    drop_bottom_pct: float = 0.0
    drop_top_pct: float = 0.0
    flip_below: float | None = None
    smoothing: float = 0.0
    smooth_below: float | None = None
    margin_lambda: float = 0.0
    # Training (workers/rm/training.py TrainConfig); None = the kind's default.
    epochs: int = 20
    lr: float | None = None
    batch_size: int | None = None
    hidden: int = 0
    center_rewards_coefficient: float | None = None
    max_length: int = 256
    model: str = ""  # encoder (head) or base model (finetune); "" = the bundled MiniLM
    seed: int = 0

    def recipe(self) -> Any:
        from workers.rm.recipes import RecipeConfig

        try:
            return RecipeConfig(
                drop_flagged=self.drop_flagged,
                drop_bottom_pct=self.drop_bottom_pct,
                drop_top_pct=self.drop_top_pct,
                flip_below=self.flip_below,
                smoothing=self.smoothing,
                smooth_below=self.smooth_below,
                margin_lambda=self.margin_lambda,
            )
        except ValueError as exc:
            raise TrainingError(str(exc)) from exc

    def train_config(self) -> Any:
        from workers.rm.training import TrainConfig

        if self.kind not in TrainingRun.Kind.values:
            raise TrainingError(f"unknown model kind {self.kind!r}; expected head or finetune")
        if self.kind == TrainingRun.Kind.STEP_FINETUNE:
            raise TrainingError("a step model trains in a steps project (webapp/training/steps.py)")
        lr, batch_size = DEFAULTS[self.kind]
        config = TrainConfig(
            kind=self.kind,  # type: ignore[arg-type]
            max_length=self.max_length,
            hidden=self.hidden,
            epochs=self.epochs,
            batch_size=self.batch_size or batch_size,
            lr=self.lr if self.lr is not None else lr,
            weight_decay=1e-2 if self.kind == "head" else 0.0,
            center_rewards_coefficient=self.center_rewards_coefficient,
            seed=self.seed,
            device="cpu" if self.kind == "head" else "auto",
            threads=1 if self.kind == "head" else 0,
        )
        if self.model:
            config = dataclasses.replace(config, model=self.model)
        if config.epochs < 1 or config.batch_size < 1 or config.lr <= 0:
            raise TrainingError("epochs, batch size and learning rate must be positive")
        return config
