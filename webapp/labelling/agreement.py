"""Agreement between annotators and aggregation of their votes: pure functions on a votes table.

The table (a pandas DataFrame) has one row per vote:

    task      the pair's id
    worker    the annotator's id
    label     the choice: "a", "b", "tie" or "both_bad" (always about response_a / response_b)
    strength  index into the project's strength scale, NaN when the vote has none
    left      for an A / B vote cast on the labelling page: True when the chosen response was
              shown on the left; NaN when unknown (imported votes) or not a side (tie, both bad)
    time_ms   time spent on the vote, NaN when unknown

The graded (ordinal) scale, for a project whose strength scale has S levels, weakest first:

    B better at level k  ->  -(k + 1)        e.g. S = 3:  B much better  -3
    tie, both bad        ->   0                            B clearly     -2
    A better at level k  ->  +(k + 1)                      B slightly    -1
                                                           tie/both bad   0
                                                           A slightly    +1 ... A much +3

"Both bad" says neither response is preferred, so as a preference it sits with ties at 0; the
nominal figures (Cohen's and Fleiss' kappa, raw agreement, Dawid-Skene) keep it as a category
of its own. An A / B vote without a strength (imported from a file) has no place on the graded
scale, so ``alpha_graded`` leaves it out; ``alpha_direction`` (B better < neither < A better)
uses every vote.

Libraries do the statistics: krippendorff (alpha), scikit-learn (Cohen's kappa), crowd-kit
(majority vote, Dawid-Skene), scipy (the binomial test of position bias). Fleiss' kappa is
written out in ``fleiss_kappa`` because none of our dependencies ships it (statsmodels does,
but is not one of them); its test checks it against Fleiss' published example.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Literal, cast

import krippendorff
import numpy as np
import pandas as pd
from crowdkit.aggregation import DawidSkene, MajorityVote
from scipy.stats import binomtest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import cohen_kappa_score

LABELS = ["a", "b", "tie", "both_bad"]
SIDED = ("a", "b")

# Pairs of annotators need this many pairs in common before their kappa is reported.
MIN_COMMON = 5
# "Always the same answer": at least this many votes, and one answer (or one screen side)
# in at least this share of them.
SAME_MIN_VOTES = 20
SAME_SHARE = 0.9
# Position bias is flagged when the left side's share differs from 50% with p below this.
POSITION_P = 0.01
DS_ITERATIONS = 100


def votes_frame(rows: list[tuple[Any, ...]] | None = None) -> pd.DataFrame:
    """An empty (or filled) votes table with the columns and types the functions here expect.

    ``rows`` hold (task, worker, label, strength, left, time_ms), None for unknown values."""
    frame = pd.DataFrame(
        rows or [], columns=["task", "worker", "label", "strength", "left", "time_ms"]
    )
    return frame.astype(
        {"task": "int64", "worker": "int64", "label": "object", "strength": "float64",
         "left": "object", "time_ms": "float64"}
    )  # fmt: skip


def scale_values(votes: pd.DataFrame) -> pd.DataFrame:
    """Each vote on the three scales alphas are computed on (module doc): ``graded`` (NaN for
    an A / B vote without strength), ``direction`` (-1, 0, +1) and ``nominal`` (the choice's
    index in LABELS), with its task and worker."""
    label = votes["label"]
    direction = label.map({"a": 1.0, "b": -1.0}).fillna(0.0).astype(float)
    sided = label.isin(SIDED)
    graded = (direction * (votes["strength"] + 1.0)).where(sided, 0.0)
    return pd.DataFrame(
        {
            "task": votes["task"],
            "worker": votes["worker"],
            "graded": graded,
            "direction": direction,
            "nominal": label.map(LABELS.index).astype(float),
            "has_strength": sided & votes["strength"].notna(),
        }
    )


def _clean(value: Any) -> float | None:
    """JSON-safe float: NaN and infinities become None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


Level = Literal["nominal", "ordinal", "interval", "ratio"]


def count_table(tasks: pd.Series, values: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """How often each value was given on each task: a (tasks x values) array, and the values
    in sorted order. NaN values are left out."""
    task_codes, _ = pd.factorize(tasks)
    value_codes, domain = pd.factorize(values, sort=True)
    keep = value_codes >= 0
    n_tasks, n_values = int(task_codes.max(initial=-1)) + 1, len(domain)
    flat = np.bincount(
        task_codes[keep] * n_values + value_codes[keep], minlength=n_tasks * n_values
    )
    return flat.reshape(n_tasks, n_values), list(domain)


def krippendorff_alpha(values: pd.DataFrame, *, level: Level) -> float | None:
    """Krippendorff's alpha of a (task, value) table; None when undefined (fewer than two
    pairable values, or a single value used by everyone)."""
    counts, domain = count_table(values["task"], values["value"])
    counts = counts[counts.sum(axis=1) >= 2]  # only pairable values count
    if len(counts) == 0 or (counts.sum(axis=0) > 0).sum() < 2:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = krippendorff.alpha(
                value_counts=counts.astype(float),
                value_domain=domain,
                level_of_measurement=level,
            )
    except (ValueError, ZeroDivisionError):
        return None
    return _clean(result)


def alphas(
    votes: pd.DataFrame, values: pd.DataFrame | None = None, *, only: str | None = None
) -> dict[str, Any]:
    """Ordinal alpha on the graded scale and on the direction scale, nominal alpha on the four
    choices, and which of them is the headline figure (graded when any vote has a strength).
    ``values``: ``scale_values(votes)``, when the caller has it already; ``only``: compute
    just that scale."""
    if values is None:
        values = scale_values(votes)

    def on(column: str, level: Level) -> float | None:
        if only not in (None, column):
            return None
        return krippendorff_alpha(
            values[["task", column]].rename(columns={column: "value"}), level=level
        )

    result: dict[str, Any] = {
        "graded": on("graded", "ordinal") if values["has_strength"].any() else None,
        "direction": on("direction", "ordinal"),
        "nominal": on("nominal", "nominal"),
    }
    result["headline"] = "graded" if result["graded"] is not None else "direction"
    result["value"] = result[result["headline"]]
    return result


def _pairs_of_votes(votes: pd.DataFrame) -> pd.DataFrame:
    """Every two votes on the same pair by two annotators, once (worker_x < worker_y)."""
    slim = votes[["task", "worker", "label"]]
    both = slim.merge(slim, on="task")
    return both[both["worker_x"] < both["worker_y"]]


def cohen_pairwise(votes: pd.DataFrame, *, min_common: int = MIN_COMMON) -> list[dict[str, Any]]:
    """Cohen's kappa and raw agreement for each two annotators with enough pairs in common."""
    out = []
    for (wx, wy), group in _pairs_of_votes(votes).groupby(["worker_x", "worker_y"]):
        if len(group) < min_common:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            kappa = cohen_kappa_score(group["label_x"], group["label_y"], labels=LABELS)
        out.append(
            {
                "a": int(wx),
                "b": int(wy),
                "n": len(group),
                "kappa": _clean(kappa),
                "agreement": float((group["label_x"] == group["label_y"]).mean()),
            }
        )
    return out


def fleiss_kappa(votes: pd.DataFrame) -> dict[str, Any]:
    """Fleiss' kappa (Fleiss 1971) over the pairs rated by the most common number of raters.

    The statistic wants the same number of raters on every item, so pairs with another count
    are left out; ``items`` and ``raters`` say what it was computed on.
    """
    per_task = votes.groupby("task")["label"].size()
    multi = per_task[per_task >= 2]
    if multi.empty:
        return {"kappa": None, "items": 0, "raters": 0}
    raters = int(multi.mode().max())
    tasks = multi.index[multi == raters]
    rated = votes[votes["task"].isin(tasks)]
    counts = count_table(rated["task"], rated["label"])[0].astype(float)
    n_items = counts.shape[0]
    p_category = counts.sum(axis=0) / (n_items * raters)
    p_item = ((counts * counts).sum(axis=1) - raters) / (raters * (raters - 1))
    p_bar, p_expected = p_item.mean(), float((p_category * p_category).sum())
    kappa = None if math.isclose(p_expected, 1.0) else (p_bar - p_expected) / (1 - p_expected)
    return {"kappa": _clean(kappa), "items": n_items, "raters": raters}


def raw_agreement(votes: pd.DataFrame) -> dict[str, Any]:
    """Share of agreeing vote pairs within pairs (pairwise percent agreement), and the share
    of multiply-voted pairs on which everyone agreed."""
    table = count_table(votes["task"], votes["label"])[0].astype(float)
    n = table.sum(axis=1)
    multi = n >= 2
    if not multi.any():
        return {"pairwise": None, "unanimous": None, "pairs": 0}
    agreeing = (table[multi] * (table[multi] - 1)).sum()
    possible = (n[multi] * (n[multi] - 1)).sum()
    unanimous = (table[multi].max(axis=1) == n[multi]).mean()
    return {
        "pairwise": float(agreeing / possible),
        "unanimous": float(unanimous),
        "pairs": int(multi.sum()),
    }


def aggregate(votes: pd.DataFrame, gold: dict[int, str] | None = None) -> pd.DataFrame:
    """Per pair: vote count, majority label and share, Dawid-Skene label, confidence and
    posteriors (crowd-kit). Gold answers, where known, guide Dawid-Skene's estimates of each
    annotator's confusion. Columns: n_votes, majority_label, majority_share, ds_label,
    ds_confidence, posteriors (dict); index: task."""
    with warnings.catch_warnings():
        # crowd-kit still passes pandas arguments that pandas 3 deprecates; nothing to act on.
        warnings.filterwarnings("ignore", module="crowdkit")
        return _aggregate(votes[["task", "worker", "label"]], gold)


def _aggregate(data: pd.DataFrame, gold: dict[int, str] | None) -> pd.DataFrame:
    mv = MajorityVote().fit(data)
    shares = cast(pd.DataFrame, mv.probas_)
    result = pd.DataFrame(
        {
            "n_votes": data.groupby("task").size(),
            "majority_label": mv.labels_,
            "majority_share": shares.max(axis=1),
        }
    )
    try:
        true_labels = None
        if gold:
            known = {t: lb for t, lb in gold.items() if t in result.index}
            true_labels = pd.Series(known, dtype=object) if known else None
        ds = DawidSkene(n_iter=DS_ITERATIONS).fit(data, true_labels=true_labels)
        posteriors = cast(pd.DataFrame, ds.probas_)
        probas = posteriors.reindex(columns=[c for c in LABELS if c in posteriors.columns])
        result["ds_label"] = ds.labels_
        result["ds_confidence"] = probas.max(axis=1)
        result["posteriors"] = [
            {k: round(float(v), 4) for k, v in row.items() if v >= 1e-4}
            for row in probas.to_dict("records")
        ]
    except (ValueError, ZeroDivisionError, FloatingPointError, IndexError, KeyError):
        # Dawid-Skene has nothing to estimate from (one label in all votes, say): majority it is.
        result["ds_label"] = None
        result["ds_confidence"] = np.nan
        result["posteriors"] = [{} for _ in range(len(result))]
    return result


def annotator_table(
    votes: pd.DataFrame,
    pairwise: list[dict[str, Any]],
    gold: dict[int, str] | None = None,
    *,
    headline: str = "direction",
) -> list[dict[str, Any]]:
    """Per annotator: votes, answer mix and "always the same answer", position bias (share of
    sided votes for the left screen side, binomial test against 50%), median time, agreement
    and mean kappa with co-annotators, alpha without them (leave one out), gold accuracy."""
    pairs = _pairs_of_votes(votes)
    gold = gold or {}
    values = scale_values(votes)
    rows = []
    for worker, mine in votes.groupby("worker"):
        counts = mine["label"].value_counts()
        top_label, top_n = str(counts.index[0]), int(counts.iloc[0])
        n = len(mine)
        sided = mine[mine["left"].notna()]
        n_sided = len(sided)
        n_left = int(sided["left"].astype(bool).sum())
        left_share = n_left / n_sided if n_sided else None
        p_value = binomtest(n_left, n_sided, 0.5).pvalue if n_sided else None
        with_others = pairs[(pairs["worker_x"] == worker) | (pairs["worker_y"] == worker)]
        kappas = [
            p["kappa"] for p in pairwise if worker in (p["a"], p["b"]) and p["kappa"] is not None
        ]
        others = values["worker"] != worker
        without = alphas(votes, values[others], only=headline)[headline] if others.any() else None
        gold_votes = mine[mine["task"].isin(gold.keys())]
        gold_ok = sum(
            gold[t] == lb for t, lb in zip(gold_votes["task"], gold_votes["label"], strict=True)
        )
        times = mine["time_ms"].dropna()
        rows.append(
            {
                "worker": int(worker),
                "votes": n,
                "labels": {k: int(v) for k, v in counts.items()},
                "top_label": top_label,
                "top_share": top_n / n,
                "same_answer": n >= SAME_MIN_VOTES and top_n / n >= SAME_SHARE,
                "sided": n_sided,
                "left_share": left_share,
                "position_p": _clean(p_value),
                "position_bias": bool(
                    p_value is not None and n_sided >= SAME_MIN_VOTES and p_value < POSITION_P
                ),
                "same_side": bool(
                    left_share is not None
                    and n_sided >= SAME_MIN_VOTES
                    and max(left_share, 1 - left_share) >= SAME_SHARE
                ),
                "median_time_ms": _clean(times.median()) if len(times) else None,
                "agreement": _clean((with_others["label_x"] == with_others["label_y"]).mean())
                if len(with_others)
                else None,
                "kappa_mean": float(np.mean(kappas)) if kappas else None,
                "alpha_without": without,
                "gold_votes": len(gold_votes),
                "gold_accuracy": gold_ok / len(gold_votes) if len(gold_votes) else None,
            }
        )
    return rows


def report(votes: pd.DataFrame, gold: dict[int, str] | None = None) -> dict[str, Any]:
    """Every project-level agreement figure, JSON-ready (see the module doc for the scale)."""
    pairwise = cohen_pairwise(votes)
    kappas = [p["kappa"] for p in pairwise if p["kappa"] is not None]
    alpha = alphas(votes)
    return {
        "n_votes": len(votes),
        "n_pairs": int(votes["task"].nunique()),
        "n_annotators": int(votes["worker"].nunique()),
        "alpha": alpha,
        "fleiss": fleiss_kappa(votes),
        "cohen": {"mean": float(np.mean(kappas)) if kappas else None, "pairs": pairwise},
        "raw": raw_agreement(votes),
        "votes_by_label": {k: int(v) for k, v in votes["label"].value_counts().items()},
        "annotators": annotator_table(votes, pairwise, gold, headline=alpha["headline"]),
    }
