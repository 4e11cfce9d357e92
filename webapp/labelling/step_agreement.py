"""Agreement and aggregation for step labels: pure functions on tables of answers.

An answer of the `steps` scheme is one annotator's pass over one solution: a label per step
(+1 good, 0 neutral, -1 bad, None not labelled: after they stopped at the first bad step, say)
and a first error (the 0-based first wrong step, -1 for "every step is right", None unknown).
``step_tables`` turns answers into two tables:

    labels        task (the item's id), worker, step, label (+1 / 0 / -1; unlabelled steps
                  are left out)
    first_errors  task, worker, first_error (-1 or a step; unknown ones are left out)

The unit of agreement is a step (task, step): per-step Krippendorff's alpha is alpha over
those units, ordinal by default (bad < neutral < good), and nominal on request. First-error
agreement compares two annotators' first errors on the same solution: exact, or within one
step (-1, "none wrong", is within one of nothing but itself: an annotator who finds no error
and one who finds one disagree about the solution, however late the error).

Libraries do the statistics, as in agreement.py: krippendorff through
``agreement.krippendorff_alpha``, crowd-kit for majority vote and Dawid-Skene.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from crowdkit.aggregation import DawidSkene, MajorityVote

from webapp.labelling.agreement import DS_ITERATIONS, Level, krippendorff_alpha
from webapp.pairs.steps import first_error_of

STEP_LABELS = (1, 0, -1)
Method = Literal["majority", "dawid_skene"]


def step_tables(
    answers: Iterable[tuple[int, int, Mapping[str, Any]]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(labels, first_errors) tables (module doc) from (task, worker, payload) answers, whose
    payload is ``{"steps": [...], "first_error": k | -1 | None}``; a missing first error is
    read from the steps."""
    label_rows: list[tuple[int, int, int, int]] = []
    error_rows: list[tuple[int, int, int]] = []
    for task, worker, payload in answers:
        steps = list(payload.get("steps") or [])
        for step, label in enumerate(steps):
            if label is not None:
                label_rows.append((task, worker, step, int(label)))
        first = payload.get("first_error")
        if first is None:
            first = first_error_of(steps)
        if first is not None:
            error_rows.append((task, worker, int(first)))
    labels = pd.DataFrame(label_rows, columns=["task", "worker", "step", "label"], dtype="int64")
    errors = pd.DataFrame(error_rows, columns=["task", "worker", "first_error"], dtype="int64")
    return labels, errors


def step_alpha(labels: pd.DataFrame, *, level: Level = "ordinal") -> float | None:
    """Krippendorff's alpha over steps (units: (task, step)); None when undefined."""
    unit = labels["task"].astype(str) + ":" + labels["step"].astype(str)
    return krippendorff_alpha(pd.DataFrame({"task": unit, "value": labels["label"]}), level=level)


def first_error_agreement(errors: pd.DataFrame) -> dict[str, Any]:
    """Over every two annotators' first errors on the same solution: the share that are the
    same, and the share within one step (module doc); `pairs` says how many were compared."""
    both = errors.merge(errors, on="task")
    both = both[both["worker_x"] < both["worker_y"]]
    if both.empty:
        return {"pairs": 0, "exact": None, "within_one": None}
    x, y = both["first_error_x"].to_numpy(), both["first_error_y"].to_numpy()
    exact = x == y
    near = exact | ((x >= 0) & (y >= 0) & (np.abs(x - y) <= 1))
    return {"pairs": len(both), "exact": float(exact.mean()), "within_one": float(near.mean())}


def gold_accuracy(
    labels: pd.DataFrame,
    errors: pd.DataFrame,
    *,
    gold_first_errors: Mapping[int, int],
) -> pd.DataFrame:
    """Per annotator on the gold solutions (a first error known for sure): solutions answered,
    the share whose first error is exactly the gold one and within one step of it, and the
    share of their labelled steps up to the gold error that they got right (a step before it
    is not bad, the error step is bad). Index: worker."""
    gold = pd.Series(gold_first_errors, dtype="int64", name="gold")
    answered = errors.join(gold, on="task", how="inner")
    x, y = answered["first_error"].to_numpy(), answered["gold"].to_numpy()
    answered = answered.assign(
        exact=x == y, within_one=(x == y) | ((x >= 0) & (y >= 0) & (np.abs(x - y) <= 1))
    )
    steps = labels.join(gold, on="task", how="inner")
    upto = np.where(steps["gold"] == -1, np.iinfo(np.int64).max, steps["gold"])
    steps = steps[steps["step"] <= upto]
    right = np.where(steps["step"] == steps["gold"], steps["label"] == -1, steps["label"] != -1)
    step_acc = steps.assign(right=right).groupby("worker")["right"].mean()
    by = answered.groupby("worker")
    out = pd.DataFrame(
        {
            "n": by.size(),
            "first_error_exact": by["exact"].mean(),
            "first_error_within_one": by["within_one"].mean(),
        }
    )
    return out.join(step_acc.rename("step_accuracy"), how="outer")


def aggregate_steps(labels: pd.DataFrame, *, method: Method = "dawid_skene") -> pd.DataFrame:
    """One label per step and its confidence: majority (the share of votes for it) or
    crowd-kit's Dawid-Skene (its posterior), with the vote count. Columns: task, step,
    n_votes, label, confidence."""
    if labels.empty:
        return pd.DataFrame(columns=["task", "step", "n_votes", "label", "confidence"])
    if method not in ("majority", "dawid_skene"):
        raise ValueError(f"unknown method {method!r}")
    unit = labels["task"].astype(str) + ":" + labels["step"].astype(str)
    data = pd.DataFrame({"task": unit, "worker": labels["worker"], "label": labels["label"]})
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="crowdkit")
        model: Any = MajorityVote() if method == "majority" else DawidSkene(n_iter=DS_ITERATIONS)
        model.fit(data)
    probas = cast(pd.DataFrame, model.probas_)
    keys = probas.index.to_series().str.split(":", expand=True).astype("int64")
    return pd.DataFrame(
        {
            "task": keys[0].to_numpy(),
            "step": keys[1].to_numpy(),
            "n_votes": data.groupby("task").size().reindex(probas.index).to_numpy(),
            "label": model.labels_.reindex(probas.index).astype("int64").to_numpy(),
            "confidence": probas.max(axis=1).to_numpy(),
        }
    ).sort_values(["task", "step"], ignore_index=True)


def aggregate_first_errors(aggregated: pd.DataFrame) -> dict[int, int | None]:
    """Each task's first error under the aggregated step labels (``first_error_of`` on them;
    a step nobody labelled counts as unlabelled)."""
    out: dict[int, int | None] = {}
    for task, group in aggregated.groupby("task"):
        n = int(group["step"].max()) + 1
        steps: list[int | None] = [None] * n
        for step, label in zip(group["step"], group["label"], strict=True):
            steps[int(step)] = int(label)
        out[int(cast(int, task))] = first_error_of(steps)
    return out


def annotator_disagreement(labels: pd.DataFrame, aggregated: pd.DataFrame) -> pd.DataFrame:
    """Per annotator: steps labelled on steps with two or more votes, and the share of them
    whose label is not the aggregate's. Index: worker."""
    shared = aggregated[aggregated["n_votes"] >= 2][["task", "step", "label"]]
    both = labels.merge(shared, on=["task", "step"], suffixes=("", "_agg"))
    by = both.assign(differs=both["label"] != both["label_agg"]).groupby("worker")["differs"]
    return pd.DataFrame({"n": by.size(), "disagree_share": by.mean()})
