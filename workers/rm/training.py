"""Train one reward model on cleaned targets: a head on frozen embeddings, or a full fine-tune.

The loss is TRL's RewardTrainer loss with PrefLab's label smoothing, a per-pair margin and
TRL's optional reward centring (loss.bradley_terry_loss), fed the per-pair targets of a
cleaning recipe: flipped pairs come in with chosen and rejected swapped, dropped pairs do not
come in (see recipes.apply_recipe).

After every epoch the held-out pairs are scored, so that the curves show held-out loss and
accuracy too; the held-out pairs never reach the optimiser.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from workers.rm.classifier import load_reward_model, pair_rewards, prepare_tokenizer, reward_margins
from workers.rm.config import default_encoder_path
from workers.rm.device import resolve_autocast, resolve_device, torch_threads
from workers.rm.heads import RewardHeads
from workers.rm.loss import bradley_terry_loss
from workers.rm.progress import CancelCheck, StepProgress, raise_if_cancelled
from workers.rm.text import tokenize_left

ModelKind = Literal["head", "finetune"]
# (epoch, metrics) after each epoch: train_loss, train_accuracy, heldout_loss, heldout_accuracy.
EpochCallback = Callable[[int, dict[str, float]], None]


def _default_model() -> str:
    return str(default_encoder_path())


@dataclass(frozen=True)
class TrainConfig:
    """One reward model trained on a project's (cleaned) training pairs."""

    # "head": a reward head on frozen encoder embeddings (CPU, cached embeddings);
    # "finetune": the whole transformer with a one-output classification head (GPU queue).
    kind: ModelKind = "head"
    # Encoder (head) or base model (finetune): a Hugging Face folder or hub name.
    model: str = field(default_factory=_default_model)
    # Tokens per (prompt, response) text, cut from the left.
    max_length: int = 256
    # Hidden units of the head's one ReLU layer; 0 = linear head (head kind only).
    hidden: int = 0
    epochs: int = 20
    # Pairs per optimiser step.
    batch_size: int = 256
    lr: float = 3e-3
    weight_decay: float = 1e-2
    # TRL's center_rewards_coefficient: pulls r(chosen) + r(rejected) towards 0; None = off.
    center_rewards_coefficient: float | None = None
    seed: int = 0
    # "auto": cuda > mps > cpu for finetune; heads train on cpu unless told otherwise.
    device: str = "cpu"
    # torch threads while training (0 = leave as is); see EnsembleConfig.threads.
    threads: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainResult:
    """What training leaves: the model's weights, its held-out margins and its curves."""

    state: dict[str, torch.Tensor]  # head weights (head kind); empty for finetune
    heldout_margins: np.ndarray  # (N_heldout,) r(chosen) - r(rejected) of the final model
    curves: dict[str, list[float]]  # per epoch: train_loss, train_accuracy, heldout_*
    model: Any = None  # the fine-tuned transformer (finetune kind)
    tokenizer: Any = None


def _accuracy(margins: torch.Tensor) -> float:
    """Share of pairs whose chosen response gets the higher reward; a tie counts half."""
    if margins.numel() == 0:
        return float("nan")
    return float(((margins > 0).float() + 0.5 * (margins == 0).float()).mean())


def _heldout_loss(margins: torch.Tensor) -> float:
    """Mean loss of held-out pairs from their margins r(chosen) - r(rejected): the likelihood of
    their labels as they are, without the training targets' margin or smoothing."""
    if margins.numel() == 0:
        return math.nan
    return float(bradley_terry_loss(r_chosen=margins, r_rejected=torch.zeros_like(margins)))


class _Loop:
    """What both kinds' training loops share: AdamW over the model's parameters, the pairs in a
    seeded random order each epoch, a cancel check and a progress report after every step, and
    the curves (with the on_epoch callback) after every epoch."""

    def __init__(
        self,
        *,
        parameters: Any,
        n_pairs: int,
        config: TrainConfig,
        on_epoch: EpochCallback | None,
        progress: StepProgress | None,
        cancel: CancelCheck | None,
    ) -> None:
        self.optimizer = torch.optim.AdamW(
            parameters, lr=config.lr, weight_decay=config.weight_decay
        )
        self._generator = torch.Generator().manual_seed(config.seed)
        self._n_pairs = n_pairs
        self._batch_size = min(config.batch_size, n_pairs)
        self._total = config.epochs * math.ceil(n_pairs / self._batch_size)
        self._done = 0
        self._on_epoch, self._progress, self._cancel = on_epoch, progress, cancel
        self.curves: dict[str, list[float]] = {
            k: [] for k in ("train_loss", "train_accuracy", "heldout_loss", "heldout_accuracy")
        }

    def batches(self) -> tuple[torch.Tensor, ...]:
        """This epoch's pair indices in batches, in the generator's next random order."""
        return torch.randperm(self._n_pairs, generator=self._generator).split(self._batch_size)

    def step(self, message: str) -> None:
        """Apply the gradients of one batch, then check for cancel and report progress."""
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        self._done += 1
        raise_if_cancelled(self._cancel)
        if self._progress is not None:
            self._progress(self._done, self._total, message)

    def end_epoch(
        self, epoch: int, *, train_loss: float, train_accuracy: float, heldout: torch.Tensor
    ) -> None:
        """Add one point to each curve, from the held-out margins of the model as it is now."""
        point = {
            "train_loss": train_loss,
            "train_accuracy": train_accuracy,
            "heldout_loss": _heldout_loss(heldout),
            "heldout_accuracy": _accuracy(heldout),
        }
        for key, value in point.items():
            self.curves[key].append(value)
        if self._on_epoch is not None:
            self._on_epoch(epoch, point)


def train_head(
    *,
    x_chosen: np.ndarray,
    x_rejected: np.ndarray,
    margin: np.ndarray,
    smoothing: np.ndarray,
    heldout_chosen: np.ndarray,
    heldout_rejected: np.ndarray,
    config: TrainConfig,
    on_epoch: EpochCallback | None = None,
    progress: StepProgress | None = None,
    cancel: CancelCheck | None = None,
) -> TrainResult:
    """One reward head on (N, D) embeddings of the training pairs as they are to be trained
    (flips already applied), scored on the (N_h, D) held-out pairs after every epoch."""
    if x_chosen.shape != x_rejected.shape or x_chosen.ndim != 2 or len(x_chosen) == 0:
        raise ValueError(f"training embeddings must be (N, D), got {x_chosen.shape}")
    n_pairs, dim = x_chosen.shape
    device = resolve_device(config.device)
    xc = torch.as_tensor(x_chosen, dtype=torch.float32, device=device)
    xr = torch.as_tensor(x_rejected, dtype=torch.float32, device=device)
    m = torch.as_tensor(margin, dtype=torch.float32, device=device)
    a = torch.as_tensor(smoothing, dtype=torch.float32, device=device)
    hc = torch.as_tensor(heldout_chosen, dtype=torch.float32, device=device)
    hr = torch.as_tensor(heldout_rejected, dtype=torch.float32, device=device)
    head = RewardHeads(dim=dim, hidden=config.hidden, seeds=[config.seed]).to(device)
    loop = _Loop(
        parameters=head.parameters(),
        n_pairs=n_pairs,
        config=config,
        on_epoch=on_epoch,
        progress=progress,
        cancel=cancel,
    )
    with torch_threads(config.threads):
        for epoch in range(config.epochs):
            loss_sum = 0.0
            for rows in loop.batches():
                loss = bradley_terry_loss(
                    r_chosen=head(xc[rows])[:, 0],
                    r_rejected=head(xr[rows])[:, 0],
                    margin=m[rows],
                    smoothing=a[rows],
                    center_rewards_coefficient=config.center_rewards_coefficient,
                )
                loss.backward()
                loss_sum += float(loss.detach()) * len(rows)
                loop.step(f"epoch {epoch + 1}/{config.epochs}")
            with torch.inference_mode():
                train_margins = head(xc)[:, 0] - head(xr)[:, 0]
                held = head(hc)[:, 0] - head(hr)[:, 0] if len(hc) else torch.zeros(0)
            loop.end_epoch(
                epoch,
                train_loss=loss_sum / n_pairs,
                train_accuracy=_accuracy(train_margins),
                heldout=held,
            )
    state = {k: v.detach().cpu().contiguous() for k, v in head.state_dict().items()}
    return TrainResult(state=state, heldout_margins=held.cpu().numpy(), curves=loop.curves)


def head_margins(
    *, state: dict[str, torch.Tensor], hidden: int, x_chosen: np.ndarray, x_rejected: np.ndarray
) -> np.ndarray:
    """(N,) margins of a saved head on (N, D) embeddings."""
    dim = int(x_chosen.shape[1])
    head = RewardHeads(dim=dim, hidden=hidden, seeds=[0])
    head.load_state_dict(state)
    with torch.inference_mode():
        xc = torch.as_tensor(x_chosen, dtype=torch.float32)
        xr = torch.as_tensor(x_rejected, dtype=torch.float32)
        return (head(xc)[:, 0] - head(xr)[:, 0]).numpy().astype(np.float32)


def finetune_reward_model(
    *,
    chosen_texts: Sequence[str],
    rejected_texts: Sequence[str],
    margin: np.ndarray,
    smoothing: np.ndarray,
    heldout_chosen: Sequence[str],
    heldout_rejected: Sequence[str],
    config: TrainConfig,
    on_epoch: EpochCallback | None = None,
    progress: StepProgress | None = None,
    cancel: CancelCheck | None = None,
) -> TrainResult:
    """A full sequence-classification reward model (one output) trained on the texts of the
    training pairs (flips applied), with the same loss as the heads."""
    torch.manual_seed(config.seed)
    device = resolve_device(config.device)
    autocast_dtype = resolve_autocast("auto", device=device)
    tokenizer = prepare_tokenizer(config.model)
    model = load_reward_model(config.model, pad_id=tokenizer.pad_token_id)
    model.to(device)

    def ids(texts: Sequence[str]) -> list[list[int]]:
        return tokenize_left(tokenizer=tokenizer, texts=texts, max_length=config.max_length)

    ids_c, ids_r = ids(chosen_texts), ids(rejected_texts)
    held_c, held_r = ids(heldout_chosen), ids(heldout_rejected)
    n_pairs = len(ids_c)
    m = torch.as_tensor(margin, dtype=torch.float32, device=device)
    a = torch.as_tensor(smoothing, dtype=torch.float32, device=device)
    loop = _Loop(
        parameters=model.parameters(),
        n_pairs=n_pairs,
        config=config,
        on_epoch=on_epoch,
        progress=progress,
        cancel=cancel,
    )
    held = np.zeros(0, dtype=np.float32)
    with torch_threads(config.threads if device.type == "cpu" else 0):
        for epoch in range(config.epochs):
            model.train()
            loss_sum, right = 0.0, 0.0
            for rows in loop.batches():
                batch = rows.tolist()
                r_c, r_r = pair_rewards(
                    model=model,
                    ids_chosen=ids_c,
                    ids_rejected=ids_r,
                    rows=batch,
                    pad_id=tokenizer.pad_token_id,
                    device=device,
                    autocast_dtype=autocast_dtype,
                )
                loss = bradley_terry_loss(
                    r_chosen=r_c,
                    r_rejected=r_r,
                    margin=m[rows.to(device)],
                    smoothing=a[rows.to(device)],
                    center_rewards_coefficient=config.center_rewards_coefficient,
                )
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
                loss_sum += float(loss.detach()) * len(batch)
                right += _accuracy((r_c - r_r).detach()) * len(batch)
                loop.step(f"fine-tune epoch {epoch + 1}/{config.epochs}")
            held = reward_margins(
                model=model,
                ids_chosen=held_c,
                ids_rejected=held_r,
                pad_id=tokenizer.pad_token_id,
                batch_size=32,
                device=device,
                cancel=cancel,
            )
            loop.end_epoch(
                epoch,
                train_loss=loss_sum / n_pairs,
                train_accuracy=right / n_pairs,  # running, on the batches as trained
                heldout=torch.as_tensor(held),
            )
    model.eval()
    return TrainResult(
        state={}, heldout_margins=held, curves=loop.curves, model=model.cpu(), tokenizer=tokenizer
    )
