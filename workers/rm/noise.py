"""The noise model: P(a pair's label is wrong), learnt from the answers reviewers give.

A review decision labels the pair's label: a flip says it was wrong, a keep that it was right.
So do gold answers and decisive human votes that came after the label. The model is one small
logistic regression per project over what PrefLab already knows about each pair (the
ensemble's mu and sigma, how its members split, the strength decile, human votes and their
split, the voters' own agreement, check results, texts' lengths, judges' verdicts where there
are any): it is calibrated by construction, and its coefficients say why a pair ranks where it
does. Until enough answers exist it is the prior: P(wrong) = 1 - sigmoid(mu), the ensemble's
own probability that the label is wrong. The prior's logit is also one of the model's
features, so the fit starts from it and corrects it.

Every answered pair is scored out of fold (K folds over the answered pairs); the others by the
model fitted on all answers. ``queue_order`` turns P(wrong) into the review queue: most likely
wrong first, with a share of places given to the pairs the model is least sure about, so that
its answers keep teaching the model where it is weakest (uncertainty sampling, as in active
learning for label noise).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

PRIOR = "prior_logit"


@dataclass(frozen=True)
class NoiseConfig:
    # Out-of-fold splits of the answered pairs (fewer when there are fewer answers per class).
    folds: int = 5
    # Below this many answers, or with answers of one kind only, P(wrong) is the prior.
    min_answers: int = 10
    # Inverse strength of the L2 penalty on the corrections to the prior; features are
    # standardised first. Strong (0.1): the answers come from the head of the queue, and a
    # weak penalty let a few of them reorder the rest (bench_review_learning).
    c: float = 0.1
    # Share of queue places given to the pairs the model is least sure about (its fold
    # models disagree most). 0.1 cost a tenth of the flips found in the simulated review,
    # 0.05 about none.
    explore_share: float = 0.05
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class NoiseScores:
    p_wrong: np.ndarray  # (N,) P(the label is wrong)
    source: str  # "prior" | "model"
    names: list[str]  # the model's features after imputation (missing-value indicators too)
    # (N, F) each feature's part of the logit, relative to an average pair; zeros for the prior
    contributions: np.ndarray
    coefficients: dict[str, float] = field(default_factory=dict)
    # Out-of-fold quality on the answered pairs, beside the prior's on the same pairs.
    metrics: dict[str, float] = field(default_factory=dict)
    # (N,) how much the fold models disagree on the pair's logit (their std): how unsure the
    # model is of it; zeros for the prior
    doubt: np.ndarray = field(default_factory=lambda: np.zeros(0))
    n_answers: int = 0

    def why(self, row: int, top: int = 3) -> list[tuple[str, float]]:
        """The features that raise this pair's P(wrong) the most, with their part of the
        logit; the prior when no model was fitted."""
        if self.source == "prior":
            return [(PRIOR, float(np.log(self.p_wrong[row] / (1 - self.p_wrong[row]))))]
        parts = self.contributions[row]
        order = np.argsort(-parts, kind="stable")[:top]
        return [(self.names[j], float(parts[j])) for j in order if parts[j] > 0]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _matrix(features: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    if PRIOR not in features:
        raise ValueError(f"the features must hold {PRIOR!r} (the prior's logit, -mu)")
    names = [PRIOR, *sorted(k for k in features if k != PRIOR)]
    columns = [np.asarray(features[name], dtype=np.float64) for name in names]
    lengths = {len(c) for c in columns}
    if len(lengths) != 1:
        raise ValueError(f"features of different lengths: {sorted(lengths)}")
    return names, np.column_stack(columns)


class _Model:
    """Logistic regression with the prior's logit as an offset: logit P(wrong) = prior logit
    + b + w . z, z the standardised features (the prior's logit among them, so its scale can be
    corrected), w under an L2 penalty of 1 / (2C) and b free. With few answers, or answers from
    one end of the queue only, w stays small and the model stays the prior; it leaves the prior
    where the answers say so."""

    def __init__(self, config: NoiseConfig) -> None:
        from sklearn.impute import SimpleImputer
        from sklearn.preprocessing import StandardScaler

        self.config = config
        self.imputer = SimpleImputer(
            strategy="median", add_indicator=True, keep_empty_features=True
        )
        self.scaler = StandardScaler()
        self.coef_ = np.zeros(0)
        self.intercept_ = 0.0

    def z(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.scaler.transform(self.imputer.transform(x)), dtype=np.float64)

    def fit(self, x: np.ndarray, y: np.ndarray) -> _Model:
        from scipy.optimize import minimize

        z = np.asarray(self.scaler.fit_transform(self.imputer.fit_transform(x)), dtype=np.float64)
        offset = np.nan_to_num(x[:, 0], nan=0.0)
        target = y.astype(np.float64)
        penalty = 1.0 / self.config.c

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            logit = offset + theta[0] + z @ theta[1:]
            p = _sigmoid(logit)
            # log(1 + exp(t)) - y t, written to stay finite for large |t|
            value = np.logaddexp(0.0, logit) - target * logit
            grad = p - target
            total = float(value.sum() + 0.5 * penalty * theta[1:] @ theta[1:])
            g = np.concatenate([[grad.sum()], z.T @ grad + penalty * theta[1:]])
            return total, g

        theta = minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B").x
        self.intercept_, self.coef_ = float(theta[0]), theta[1:]
        return self

    def logit(self, x: np.ndarray) -> np.ndarray:
        return np.nan_to_num(x[:, 0], nan=0.0) + self.intercept_ + self.z(x) @ self.coef_

    def predict(self, x: np.ndarray) -> np.ndarray:
        return _sigmoid(self.logit(x))


def fit_noise_model(
    *,
    features: dict[str, np.ndarray],
    answered: np.ndarray,
    wrong: np.ndarray,
    config: NoiseConfig | None = None,
) -> NoiseScores:
    """P(wrong) for N pairs. ``features``: name -> (N,) floats (NaN where unknown), with
    PRIOR among them; ``answered``: (A,) row indices of the pairs with an answer; ``wrong``:
    (A,) True where the answer says the label was wrong."""
    from sklearn.metrics import brier_score_loss, log_loss
    from sklearn.model_selection import StratifiedKFold

    config = config or NoiseConfig()
    names, x = _matrix(features)
    prior = _sigmoid(np.nan_to_num(x[:, 0], nan=0.0))
    answered = np.asarray(answered, dtype=np.int64)
    y = np.asarray(wrong, dtype=bool)
    if len(answered) != len(y):
        raise ValueError("answered and wrong must have the same length")
    n_minority = int(min(y.sum(), (~y).sum())) if len(y) else 0
    if len(y) < config.min_answers or n_minority < 2:
        return NoiseScores(
            prior, "prior", [PRIOR], np.zeros((len(x), 1)), n_answers=len(y),
            doubt=np.zeros(len(x)),
        )  # fmt: skip
    model = _Model(config).fit(x[answered], y)
    p = model.predict(x)
    folds = min(config.folds, n_minority)
    oof = np.empty(len(answered))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    logits = []
    for train, test in splitter.split(answered, y):
        part = _Model(config).fit(x[answered[train]], y[train])
        oof[test] = part.predict(x[answered[test]])
        logits.append(part.logit(x))
    doubt = np.std(np.stack(logits), axis=0)
    p[answered] = oof
    z, coef = model.z(x), model.coef_
    parts = z * coef
    offset = np.nan_to_num(x[:, 0], nan=0.0)
    parts[:, 0] += offset - offset.mean()  # the prior itself is the first feature's part too
    out_names = [
        str(n).replace("missingindicator_", "missing ") for n in _out_names(model.imputer, names)
    ]
    metrics = {
        "auc_model": _auc(y, oof),
        "auc_prior": _auc(y, prior[answered]),
        "brier_model": float(brier_score_loss(y, oof)),
        "brier_prior": float(brier_score_loss(y, prior[answered])),
        "log_loss_model": float(log_loss(y, np.clip(oof, 1e-6, 1 - 1e-6), labels=[0, 1])),
        "log_loss_prior": float(
            log_loss(y, np.clip(prior[answered], 1e-6, 1 - 1e-6), labels=[0, 1])
        ),
        "share_wrong": float(y.mean()),
    }
    return NoiseScores(
        p_wrong=p,
        source="model",
        names=out_names,
        contributions=parts,
        coefficients={name: float(c) for name, c in zip(out_names, coef, strict=True)},
        metrics=metrics,
        n_answers=len(y),
        doubt=doubt,
    )


def _out_names(imputer: Any, names: list[str]) -> list[str]:
    return [str(n) for n in imputer.get_feature_names_out(names)]


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score)) if 0 < y.sum() < len(y) else float("nan")


def queue_order(
    p_wrong: np.ndarray,
    *,
    explore_share: float = 0.1,
    decided: np.ndarray | None = None,
    doubt: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(order, exploring): row indices from first in the queue to last, and whether each
    place went to a pair the model is least sure about rather than to the most likely wrong.

    The share ``explore_share`` of the undecided pairs the model is least sure about (``doubt``
    highest, then P(wrong) nearest 1/2) take every k-th place (k = round(1 / explore_share));
    the other undecided pairs fill the rest,
    most likely wrong first; decided pairs (``decided``) come last, in the same order. The
    review queue's SQL (webapp/review/queue.py) ranks by this same rule."""
    if not 0.0 <= explore_share < 1.0:
        raise ValueError("explore_share must be in [0, 1)")
    n = len(p_wrong)
    done = np.zeros(n, dtype=bool) if decided is None else np.asarray(decided, dtype=bool)
    open_rows = np.flatnonzero(~done)
    k = round(1.0 / explore_share) if explore_share > 0 else 0
    n_explore = int(np.ceil(explore_share * len(open_rows))) if k >= 2 else 0
    # least sure: the fold models disagree most, then P(wrong) nearest 1/2
    disagree = np.zeros(n) if doubt is None else np.asarray(doubt, dtype=np.float64)
    doubt = np.lexsort((open_rows, np.abs(p_wrong[open_rows] - 0.5), -disagree[open_rows]))
    explore = np.zeros(n, dtype=bool)
    explore[open_rows[doubt[:n_explore]]] = True
    # place keys: the i-th exploiting pair (1-based) at i + (i - 1) // (k - 1), the j-th
    # exploring one at j * k; decided pairs after every open one
    key = np.zeros(n, dtype=np.float64)
    exploit_rows = open_rows[~explore[open_rows]]
    exploit_rows = exploit_rows[np.lexsort((exploit_rows, -p_wrong[exploit_rows]))]
    i = np.arange(1, len(exploit_rows) + 1)
    key[exploit_rows] = i + ((i - 1) // (k - 1) if k >= 2 else 0)
    explore_rows = open_rows[doubt[:n_explore]]
    key[explore_rows] = np.arange(1, len(explore_rows) + 1) * k
    decided_rows = np.flatnonzero(done)
    decided_rows = decided_rows[np.lexsort((decided_rows, -p_wrong[decided_rows]))]
    key[decided_rows] = n * (k + 1) + np.arange(1, len(decided_rows) + 1)
    order = np.lexsort((np.arange(n), key))
    return order, explore[order]
