"""Per-attribute strength: one ridge head per rated attribute on frozen response embeddings,
out of fold (the first stage of ArmoRM-style multi-objective reward models).

Responses are split into K folds by prompt. For each fold k and attribute a, M heads are fit
on the other folds' rated responses, each on its own bootstrap resample, and predict every
response of fold k: each response gets M predictions per attribute from heads that never saw
its prompt, whether or not it was rated. Their mean is the predicted score, their spread how
much the heads disagree.

How well an attribute is predicted: Spearman's rho between the mean prediction and the
ratings over every rated response (pooled out of fold), with a percentile interval from
resampling prompts, and beside it the baseline that predicts each fold's training mean. An
interval that reaches 0 says the heads found nothing in the texts that goes with the ratings:
the ratings may be noise, or the guideline unclear (``attribute_flags``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import spearmanr
from sklearn.linear_model import RidgeCV
from threadpoolctl import threadpool_limits

from workers.rm.config import AttributeConfig
from workers.rm.ensemble import assign_folds, head_seeds
from workers.rm.progress import CancelCheck, StepProgress, raise_if_cancelled


@dataclass
class AttributeFit:
    """How well one attribute is predicted out of fold."""

    name: str
    n_rated: int
    spearman: float | None  # pooled, mean prediction against ratings
    ci_low: float | None
    ci_high: float | None
    # mean over prompts with 3+ rated responses of rho within the prompt: how well the heads
    # order one prompt's responses, which is what pairs derived from the ratings ask of them
    within_prompt: float | None
    baseline_spearman: float | None  # the training-mean baseline, pooled the same way
    # 1 - squared error of the mean prediction / that of the baseline: above 0, better
    r2_vs_mean: float | None
    fold_spearman: list[float | None]  # per fold: the spread over folds
    residual_scale: float  # 1.4826 MAD of the out-of-fold residuals
    alphas: list[float] = field(default_factory=list)  # penalty each head chose

    @property
    def predictable(self) -> bool:
        return self.ci_low is not None and self.ci_low > 0

    def to_dict(self) -> dict[str, Any]:
        return {**vars(self), "predictable": self.predictable}


@dataclass
class AttributeResult:
    attributes: list[str]
    predictions: np.ndarray  # (N, A, M) float32, out of fold
    mean: np.ndarray  # (N, A) float32
    spread: np.ndarray  # (N, A) float32, population std over the M heads
    fold: np.ndarray  # (N,) fold of each response (its prompt's)
    fits: list[AttributeFit]
    config: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"attributes": [fit.to_dict() for fit in self.fits], "config": self.config}


def fit_attributes(
    *,
    features: np.ndarray,
    ratings: np.ndarray,
    groups: np.ndarray,
    attributes: list[str],
    config: AttributeConfig | None = None,
    progress: StepProgress | None = None,
    cancel: CancelCheck | None = None,
) -> AttributeResult:
    """Out-of-fold predictions of every attribute for N responses.

    features: (N, D) embeddings; ratings: (N, A) one value per response and attribute (the
    annotators' mean, say), NaN where unrated; groups: (N,) the prompt of each response."""
    config = config if config is not None else AttributeConfig()
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(ratings, dtype=np.float64)
    groups = np.asarray(groups)
    n, n_attributes = y.shape if y.ndim == 2 else (0, 0)
    if x.ndim != 2 or len(x) != n or groups.shape != (n,) or len(attributes) != n_attributes:
        raise ValueError(
            f"features {x.shape}, ratings {y.shape}, groups {groups.shape} and "
            f"{len(attributes)} attribute names do not fit together"
        )
    prompt_ids, prompt_of = np.unique(groups, return_inverse=True)
    fold = assign_folds(n_pairs=len(prompt_ids), n_folds=config.n_folds, seed=config.seed)[
        prompt_of
    ]
    seeds = head_seeds(seed=config.seed, n_heads=config.n_folds * config.n_models)
    predictions = np.zeros((n, n_attributes, config.n_models), dtype=np.float64)
    baseline = np.zeros((n, n_attributes), dtype=np.float64)
    chosen: list[list[float]] = [[] for _ in attributes]
    total = n_attributes * config.n_folds
    # one BLAS thread by default (AttributeConfig.threads): many small fits, where threads
    # cost more in hand-offs than they gain
    limits = threadpool_limits(limits=config.threads, user_api="blas") if config.threads else None
    try:
        for a in range(n_attributes):
            rated = ~np.isnan(y[:, a])
            for k in range(config.n_folds):
                raise_if_cancelled(cancel)
                train = np.flatnonzero(rated & (fold != k))
                scored = fold == k
                baseline[scored, a] = y[train, a].mean() if len(train) else np.nan
                for m in range(config.n_models):
                    seed = seeds[k * config.n_models + m]
                    predictions[scored, a, m], alpha = _fit_head(
                        x=x, y=y[:, a], train=train, scored=scored, alphas=config.alphas, seed=seed
                    )
                    chosen[a].append(alpha)
                if progress is not None:
                    progress(a * config.n_folds + k + 1, total, f"fitting {attributes[a]}")
    finally:
        if limits is not None:
            limits.restore_original_limits()
    mean = predictions.mean(axis=2)
    rng = np.random.default_rng(config.seed)
    fits = [
        _attribute_fit(
            name=name,
            y=y[:, a],
            prediction=mean[:, a],
            baseline=baseline[:, a],
            fold=fold,
            prompt=prompt_of,
            config=config,
            rng=rng,
            alphas=chosen[a],
        )
        for a, name in enumerate(attributes)
    ]
    return AttributeResult(
        attributes=list(attributes),
        predictions=predictions.astype(np.float32),
        mean=mean.astype(np.float32),
        spread=predictions.std(axis=2).astype(np.float32),
        fold=fold,
        fits=fits,
        config=config.to_dict(),
    )


def _fit_head(
    *,
    x: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    scored: np.ndarray,
    alphas: tuple[float, ...],
    seed: int,
) -> tuple[np.ndarray, float]:
    """One ridge head on a bootstrap resample of ``train``: its predictions of the ``scored``
    rows and the penalty it chose. Too few ratings to fit: the resample's mean."""
    if len(train) == 0:
        return np.full(int(scored.sum()), np.nan), float("nan")
    draws = np.random.default_rng(seed).integers(0, len(train), size=len(train))
    rows, counts = np.unique(train[draws], return_counts=True)
    if len(rows) < 3 or np.ptp(y[rows]) == 0:
        fallback = float(np.average(y[rows], weights=counts))
        return np.full(int(scored.sum()), fallback), float("nan")
    head = RidgeCV(alphas=alphas).fit(x[rows], y[rows], sample_weight=counts.astype(float))
    return head.predict(x[scored]), float(head.alpha_)


def spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman's rho; None with fewer than 3 values or a constant side."""
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rho = float(spearmanr(a, b).statistic)
    return rho if np.isfinite(rho) else None


def _attribute_fit(
    *,
    name: str,
    y: np.ndarray,
    prediction: np.ndarray,
    baseline: np.ndarray,
    fold: np.ndarray,
    prompt: np.ndarray,
    config: AttributeConfig,
    rng: np.random.Generator,
    alphas: list[float],
) -> AttributeFit:
    rated = ~np.isnan(y)
    y, prediction, baseline = y[rated], prediction[rated], baseline[rated]
    fold, prompt = fold[rated], prompt[rated]
    residual = y - prediction
    mad = float(np.median(np.abs(residual - np.median(residual)))) if len(y) else 0.0
    sse_base = float(((y - baseline) ** 2).sum())
    low, high = _prompt_bootstrap(y, prediction, prompt, config=config, rng=rng)
    within = [
        rho
        for p in np.unique(prompt)
        if (in_prompt := prompt == p).sum() >= 3
        and (rho := spearman(prediction[in_prompt], y[in_prompt])) is not None
    ]
    return AttributeFit(
        name=name,
        n_rated=len(y),
        spearman=spearman(prediction, y),
        ci_low=low,
        ci_high=high,
        within_prompt=float(np.mean(within)) if within else None,
        baseline_spearman=spearman(baseline, y),
        r2_vs_mean=1.0 - float((residual**2).sum()) / sse_base if sse_base > 0 else None,
        fold_spearman=[
            spearman(prediction[fold == k], y[fold == k]) for k in range(config.n_folds)
        ],
        residual_scale=1.4826 * mad,
        alphas=[a for a in alphas if np.isfinite(a)],
    )


def _prompt_bootstrap(
    y: np.ndarray,
    prediction: np.ndarray,
    prompt: np.ndarray,
    *,
    config: AttributeConfig,
    rng: np.random.Generator,
) -> tuple[float | None, float | None]:
    """Percentile interval of Spearman's rho over resamples of prompts (responses of one
    prompt are not independent, so prompts, not responses, are drawn)."""
    prompts = np.unique(prompt)
    if len(prompts) < 2 or config.n_boot < 1:
        return None, None
    members = [np.flatnonzero(prompt == p) for p in prompts]
    rhos = []
    for _ in range(config.n_boot):
        rows = np.concatenate([members[i] for i in rng.integers(0, len(prompts), len(prompts))])
        rho = spearman(prediction[rows], y[rows])
        if rho is not None:
            rhos.append(rho)
    if not rhos:
        return None, None
    tail = (1 - config.ci) / 2 * 100
    low, high = np.percentile(rhos, [tail, 100 - tail])
    return float(low), float(high)
