"""Agreement between annotators who rate responses on named attributes: pure functions on a
ratings table (the pair figures are in ``agreement``; rankings in ``ranking_agreement``).

The table (a pandas DataFrame) has one row per rating of one response on one attribute:

    answer     the answer's id; ids grow with time, so an annotator's first answer on an item
               is their lowest id there
    item       the item's id (a prompt with its set of responses)
    response   the response's position in the item
    worker     the annotator's id
    attribute  the attribute's name
    value      the rating, a number on the attribute's scale

A unit of agreement is one (item, response) on one attribute. Each annotator's first answer
on an item is theirs; a later answer on the same item is a repeat, which measures only the
annotator's self-consistency (``self_consistency``) and enters no other figure.

Scales: ``{attribute: (low, high)}``, the ends of each attribute's scale. Leniency and range
are also given as a share of the scale's width, so attributes of different scales compare.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from crowdkit.aggregation import DawidSkene
from scipy.stats import ttest_1samp

from webapp.labelling.agreement import DS_ITERATIONS, krippendorff_alpha
from webapp.labelling.item_scores import ScoreRow

Scales = Mapping[str, tuple[float, float]]

COLUMNS = ["answer", "item", "response", "worker", "attribute", "value"]
# An annotator's leniency is flagged when it differs from zero with p below this, over at
# least LENIENCY_MIN ratings that others also rated, and by at least LENIENCY_SHARE of the
# scale: a shift too small to change a derived pair is not worth a reviewer's time.
LENIENCY_P = 0.01
LENIENCY_MIN = 10
LENIENCY_SHARE = 0.05
# "Narrow range": at least RANGE_MIN ratings of an attribute whose spread is below this share
# of the spread of everyone's ratings of it.
RANGE_MIN = 20
NARROW_STD_SHARE = 0.5
# Dawid-Skene treats each level as a class: on scales with more levels than this it has too
# many confusions to estimate from a few ratings each, and the mean is the aggregate.
DS_MAX_LEVELS = 11


def ratings_frame(scores: Iterable[ScoreRow] = ()) -> pd.DataFrame:
    """The ratings table from the rows ``item_scores`` reads (the overall score, "", is not a
    rating anyone gave and is left out). Each annotator answers an item once there, so the
    answer id is the (item, annotator) pair's; a table with repeats is built by hand."""
    out = [
        (0, s.item_id, s.position, s.annotator_id, s.attribute, s.value)
        for s in scores
        if s.kind == "rating" and s.attribute != ""
    ]
    frame = pd.DataFrame(out, columns=COLUMNS)
    frame["answer"] = _answer_ids(frame)
    return frame.astype(
        {"answer": "int64", "item": "int64", "response": "int64", "worker": "int64",
         "attribute": "object", "value": "float64"}
    )  # fmt: skip


def _answer_ids(frame: pd.DataFrame) -> np.ndarray:
    return pd.factorize(pd.MultiIndex.from_frame(frame[["item", "worker"]]))[0]


def split_repeats(ratings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(first answers, repeats): each annotator's first answer on each item, and the others."""
    first = ratings.groupby(["item", "worker"])["answer"].transform("min")
    is_first = ratings["answer"] == first
    return ratings[is_first], ratings[~is_first]


def _units(ratings: pd.DataFrame) -> pd.Series:
    return pd.Series(
        pd.factorize(pd.MultiIndex.from_frame(ratings[["item", "response"]]))[0],
        index=ratings.index,
    )


def _clean(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _width(scales: Scales, attribute: str, values: pd.Series) -> float:
    """The width of an attribute's scale; without a scale, that of the values seen."""
    low, high = scales.get(attribute, (values.min(), values.max()))
    return float(high - low) or 1.0


def attribute_alphas(first: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per attribute: Krippendorff's alpha, interval and ordinal, on first answers, with the
    number of units rated by two annotators or more (the ones alpha is computed on)."""
    out = {}
    for attribute, group in first.groupby("attribute", sort=True):
        values = pd.DataFrame({"task": _units(group), "value": group["value"]})
        per_unit = values.groupby("task").size()
        out[str(attribute)] = {
            "interval": krippendorff_alpha(values, level="interval"),
            "ordinal": krippendorff_alpha(values, level="ordinal"),
            "units": int((per_unit >= 2).sum()),
            "ratings": len(group),
        }
    return out


def others_mean(first: pd.DataFrame) -> pd.Series:
    """For each rating, the mean of the other annotators' ratings of the same response on the
    same attribute; NaN where nobody else rated it."""
    keys = [first["item"], first["response"], first["attribute"]]
    total = first.groupby(keys)["value"].transform("sum")
    count = first.groupby(keys)["value"].transform("size")
    return ((total - first["value"]) / (count - 1)).where(count > 1)


def leniency(first: pd.DataFrame, scales: Scales) -> dict[int, dict[str, Any]]:
    """Per annotator: how much higher they rate than the others on the same responses.

    ``mean``: the mean of (their rating - the others' mean) over ratings that others also
    gave, each difference as a share of its attribute's scale width; ``by_attribute``: the
    mean difference in the attribute's own units; ``p``: one-sample t-test of the shares
    against 0; ``lenient`` / ``severe``: a significant shift of at least LENIENCY_SHARE."""
    diff = first["value"] - others_mean(first)
    width = first["attribute"].map(
        {a: _width(scales, a, g["value"]) for a, g in first.groupby("attribute")}
    )
    table = first.assign(diff=diff, share=diff / width).dropna(subset=["diff"])
    out: dict[int, dict[str, Any]] = {}
    for worker, mine in table.groupby("worker"):
        n = len(mine)
        mean = float(mine["share"].mean())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # constant diffs: p is NaN
            p = _clean(ttest_1samp(mine["share"], 0.0).pvalue) if n >= 2 else None
        if p is None and n >= 2 and mine["share"].std() == 0 and mean != 0:
            p = 0.0  # every difference the same and not zero: as significant as it gets
        shifted = p is not None and p < LENIENCY_P and n >= LENIENCY_MIN
        out[int(worker)] = {
            "n": n,
            "mean": mean,
            "p": p,
            "by_attribute": {
                str(a): float(g["diff"].mean()) for a, g in mine.groupby("attribute", sort=True)
            },
            "lenient": bool(shifted and mean >= LENIENCY_SHARE),
            "severe": bool(shifted and mean <= -LENIENCY_SHARE),
        }
    return out


def range_use(first: pd.DataFrame, scales: Scales) -> dict[int, dict[str, Any]]:
    """Per annotator and attribute: levels used, the share of the scale between their lowest
    and highest rating, the spread of their ratings against everyone's (``std_share``), and
    ``narrow`` where that spread is below NARROW_STD_SHARE over RANGE_MIN ratings or more."""
    everyone = first.groupby("attribute")["value"].std(ddof=0)
    out: dict[int, dict[str, Any]] = {}
    for (worker, attribute), mine in first.groupby(["worker", "attribute"], sort=True):
        values = mine["value"]
        width = _width(scales, str(attribute), first.loc[first["attribute"] == attribute, "value"])
        total_std = float(everyone[attribute])
        std = float(values.std(ddof=0))
        std_share = std / total_std if total_std > 0 else None
        row = out.setdefault(int(worker), {"attributes": {}, "narrow": []})
        row["attributes"][str(attribute)] = {
            "n": len(values),
            "levels_used": int(values.nunique()),
            "range_share": float(values.max() - values.min()) / width,
            "std": std,
            "std_share": std_share,
        }
        if len(values) >= RANGE_MIN and std_share is not None and std_share < NARROW_STD_SHARE:
            row["narrow"].append(str(attribute))
    return out


def self_consistency(ratings: pd.DataFrame) -> dict[int, dict[str, Any]]:
    """Per annotator with repeats: each repeated rating against their first rating of the same
    response on the same attribute: how many, the share given the same value, and the mean
    absolute difference; over all attributes, and per attribute (``by_attribute``)."""
    first, repeats = split_repeats(ratings)
    keys = ["item", "response", "worker", "attribute"]
    both = repeats.merge(first[[*keys, "value"]], on=keys, suffixes=("", "_first"))
    both["gap"] = (both["value"] - both["value_first"]).abs()
    out = {}
    for worker, mine in both.groupby("worker"):
        by_attribute = {str(a): _gaps(g["gap"]) for a, g in mine.groupby("attribute", sort=True)}
        out[int(worker)] = _gaps(mine["gap"]) | {"by_attribute": by_attribute}
    return out


def _gaps(gap: pd.Series) -> dict[str, Any]:
    return {"n": len(gap), "same": float((gap == 0).mean()), "mean_abs_diff": float(gap.mean())}


def summarise(first: pd.DataFrame) -> pd.DataFrame:
    """Per (item, response, attribute): number of ratings, mean, spread (population std) and
    the lowest and highest rating."""
    grouped = first.groupby(["item", "response", "attribute"])["value"]
    return pd.DataFrame(
        {
            "n": grouped.size(),
            "mean": grouped.mean(),
            "std": grouped.std(ddof=0),
            "low": grouped.min(),
            "high": grouped.max(),
        }
    )


def aggregate(first: pd.DataFrame, scales: Scales) -> pd.DataFrame:
    """``summarise``, and ``ds_value``: Dawid-Skene's level where it applies (an attribute
    rated in whole levels, at most DS_MAX_LEVELS of them, and some response rated twice),
    else NaN, with ``ds_confidence`` its posterior."""
    result = summarise(first)
    found = [
        ds.assign(attribute=attribute)
        for attribute, group in first.groupby("attribute")
        if (ds := _dawid_skene(group, scales.get(str(attribute)))) is not None
    ]
    if not found:
        return result.assign(ds_value=np.nan, ds_confidence=np.nan)
    levels = pd.concat(found).set_index(["item", "response", "attribute"])
    return result.join(levels.rename(columns={"value": "ds_value", "confidence": "ds_confidence"}))


def _dawid_skene(group: pd.DataFrame, scale: tuple[float, float] | None) -> pd.DataFrame | None:
    """Dawid-Skene over one attribute's ratings, each level a class: (item, response, value,
    confidence) rows; None where it does not apply (``aggregate``)."""
    values = group["value"]
    levels = values.unique()
    if scale is not None:
        levels = np.arange(math.ceil(scale[0]), math.floor(scale[1]) + 1)
    whole = bool((values == values.round()).all())
    rated_twice = group.groupby(["item", "response"]).size().max() >= 2
    if not whole or len(levels) > DS_MAX_LEVELS or not rated_twice or values.nunique() < 2:
        return None
    # integer task ids: crowd-kit indexes by task, and tuples make that many times slower
    codes, units = pd.factorize(pd.MultiIndex.from_frame(group[["item", "response"]]))
    data = pd.DataFrame(
        {"task": codes, "worker": group["worker"].to_numpy(), "label": values.astype(int)}
    )
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="crowdkit")
            ds = DawidSkene(n_iter=DS_ITERATIONS).fit(data)
    except (ValueError, ZeroDivisionError, FloatingPointError, IndexError, KeyError):
        return None
    probas = pd.DataFrame(ds.probas_)
    labels = pd.Series(ds.labels_).reindex(probas.index)
    unit = units[probas.index.to_numpy()]
    return pd.DataFrame(
        {
            "item": unit.get_level_values(0),
            "response": unit.get_level_values(1),
            "value": labels.astype(float).to_numpy(),
            "confidence": probas.max(axis=1).to_numpy(),
        }
    )


def report(ratings: pd.DataFrame, scales: Scales) -> dict[str, Any]:
    """Every rating agreement figure of a project, JSON-ready."""
    first, repeats = split_repeats(ratings)
    aggregated = summarise(first)
    spread = aggregated[aggregated["n"] >= 2].groupby(level="attribute")["std"].mean()
    lenient, ranges, consistency = (
        leniency(first, scales),
        range_use(first, scales),
        self_consistency(ratings),
    )
    workers = sorted(first["worker"].unique().tolist())
    return {
        "n_ratings": len(first),
        "n_repeats": len(repeats),
        "n_items": int(first["item"].nunique()),
        "n_annotators": len(workers),
        "attributes": {
            name: {**figures, "mean_spread": _clean(spread.get(name))}
            for name, figures in attribute_alphas(first).items()
        },
        "annotators": [
            {
                "worker": int(w),
                "ratings": int((first["worker"] == w).sum()),
                "leniency": lenient.get(int(w)),
                "range": ranges.get(int(w)),
                "self_consistency": consistency.get(int(w)),
            }
            for w in workers
        ],
    }
