"""Agreement between annotators who rank the responses of one prompt: pure functions on a
rankings table (pairs are in ``agreement``, ratings in ``rating_agreement``).

The table (a pandas DataFrame) has one row per response placed by one answer:

    answer    the answer's id (ids grow with time: an annotator's first answer on an item is
              their lowest id there; later ones are repeats, used for self-consistency only)
    item      the item's id
    worker    the annotator's id
    response  the response's position in the item
    tier      0 for the best tier, 1 for the next...; tied responses share a tier

A best-worst answer ranks the subset it showed in three tiers: the best, the others, the worst.
Figures are computed per item on the responses that every one of its annotators placed, so a
best-worst answer and a full ranking of the same item compare on what both saw.

Kendall's W (coefficient of concordance) per item, with ties: for m annotators and n
responses, R_i the sum of response i's ranks (ties get the mean of the ranks they span),
S = sum_i (R_i - m (n + 1) / 2)^2 and T_j = sum over annotator j's tied groups of t^3 - t,

    W = 12 S / (m^2 (n^3 - n) - m sum_j T_j)

(Kendall and Babington Smith 1939; the tie term as in Siegel and Castellan). 1: everyone gave
the same order; 0: no common order at all.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, rankdata

from webapp.labelling.item_scores import ScoreRow

COLUMNS = ["answer", "item", "worker", "response", "tier"]
RANKING_KINDS = ("ranking", "best_worst")


def rankings_frame(scores: Iterable[ScoreRow] = ()) -> pd.DataFrame:
    """The rankings table from the rows ``item_scores`` reads for ranking and best-worst
    answers (their overall score: minus the tier index, or +1 / 0 / -1 for best, shown, worst):
    tier 0 holds an answer's highest score. Each annotator answers an item once there, so
    the answer id is the (item, annotator) pair's; a table with repeats is built by hand."""
    out = [
        (0, s.item_id, s.annotator_id, s.position, -s.value)
        for s in scores
        if s.kind in RANKING_KINDS and s.attribute == ""
    ]
    frame = pd.DataFrame(out, columns=COLUMNS)
    keys = pd.MultiIndex.from_frame(frame[["item", "worker"]])
    frame["answer"] = pd.factorize(keys)[0]
    # dense rank of minus the score within the answer: 0 for the best tier
    frame["tier"] = frame.groupby("answer")["tier"].rank(method="dense") - 1
    return frame.astype(
        {"answer": "int64", "item": "int64", "worker": "int64", "response": "int64",
         "tier": "int64"}
    )  # fmt: skip


def split_repeats(rankings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(first answers, repeats): each annotator's first answer on each item, and the others."""
    first = rankings.groupby(["item", "worker"])["answer"].transform("min")
    is_first = rankings["answer"] == first
    return rankings[is_first], rankings[~is_first]


def rank_matrix(item_rows: pd.DataFrame) -> tuple[np.ndarray, list[int], list[int]]:
    """One item's first answers as an (annotators x responses) matrix of ranks (1 = best,
    ties averaged), on the responses every annotator placed; with the annotators and the
    responses, in order."""
    table = item_rows.pivot_table(index="worker", columns="response", values="tier", aggfunc="min")
    table = table.dropna(axis=1)
    if not table.size:
        return np.empty((0, 0)), [], []
    ranks = np.vstack([rankdata(row) for row in table.to_numpy()])
    return ranks, [int(w) for w in table.index], [int(r) for r in table.columns]


def kendalls_w(ranks: np.ndarray) -> float | None:
    """Kendall's W of an (m annotators x n responses) rank matrix, tie-corrected (module doc);
    None with fewer than two annotators or responses, or when everyone tied everything."""
    m, n = ranks.shape if ranks.ndim == 2 else (0, 0)
    if m < 2 or n < 2:
        return None
    column_sums = ranks.sum(axis=0)
    s = float(((column_sums - m * (n + 1) / 2) ** 2).sum())
    ties = 0.0
    for row in ranks:
        _, counts = np.unique(row, return_counts=True)
        ties += float((counts**3 - counts).sum())
    denominator = m**2 * (n**3 - n) - m * ties
    return 12 * s / denominator if denominator > 0 else None


def _tau(x: np.ndarray, y: np.ndarray) -> float | None:
    """Kendall's tau-b; None when either ranking ties everything."""
    if len(x) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = float(kendalltau(x, y).statistic)
    return value if math.isfinite(value) else None


def common_ranks(first: pd.DataFrame) -> pd.DataFrame:
    """First answers on items with two annotators or more, cut to the responses every
    annotator of the item placed, each ranked within its answer (1 = best, ties averaged):
    the columns of ``rank_matrix`` for every item at once."""
    workers = first.groupby("item")["worker"].transform("nunique")
    placed = first.groupby(["item", "response"])["worker"].transform("nunique")
    common = first[(workers >= 2) & (placed == workers)].copy()
    common["rank"] = common.groupby("answer")["tier"].rank(method="average")
    return common


def item_w(common: pd.DataFrame) -> pd.Series:
    """Kendall's W of every item (module doc), from ``common_ranks``: set-based, so that a
    project of 100k items costs a few group-bys, not 100k matrices. NaN where undefined."""
    m = common.groupby("item")["worker"].nunique()
    n = common.groupby("item")["response"].nunique()
    sums = common.groupby(["item", "response"])["rank"].sum()
    mean = (m * (n + 1) / 2).reindex(sums.index, level="item")
    s = ((sums - mean.to_numpy()) ** 2).groupby(level="item").sum()
    t = common.groupby(["item", "answer", "rank"]).size()
    ties = (t**3 - t).groupby(level="item").sum().reindex(m.index, fill_value=0)
    denominator = m**2 * (n**3 - n) - m * ties
    return (12 * s / denominator).where((denominator > 0) & (n >= 2))


def pair_taus(common: pd.DataFrame) -> pd.DataFrame:
    """Kendall's tau-b between every two annotators of an item, from ``common_ranks``: one row
    per (item, a, b), a < b, with ``tau`` (NaN when either tied everything). Set-based: each
    answer's sign of every two responses, then those signs compared between two answers."""
    slim = common[["item", "worker", "response", "rank"]]
    two = slim.merge(slim, on=["item", "worker"], suffixes=("_i", "_j"))
    two = two[two["response_i"] < two["response_j"]]
    signs = two.assign(sign=np.sign(two["rank_i"] - two["rank_j"]))[
        ["item", "worker", "response_i", "response_j", "sign"]
    ]
    both = signs.merge(signs, on=["item", "response_i", "response_j"], suffixes=("_a", "_b"))
    both = both[both["worker_a"] < both["worker_b"]]
    product = both["sign_a"] * both["sign_b"]
    table = pd.DataFrame(
        {
            "item": both["item"],
            "a": both["worker_a"],
            "b": both["worker_b"],
            "score": product,  # +1 concordant, -1 discordant, 0 tied in either
            "untied_a": both["sign_a"] != 0,
            "untied_b": both["sign_b"] != 0,
        }
    )
    grouped = table.groupby(["item", "a", "b"])
    sums = grouped[["score", "untied_a", "untied_b"]].sum()
    denominator = np.sqrt(sums["untied_a"] * sums["untied_b"])
    tau = (sums["score"] / denominator).where(denominator > 0)
    return tau.rename("tau").reset_index()


def concordance(first: pd.DataFrame) -> dict[str, Any]:
    """Kendall's W per item and tau-b between every two annotators of an item, on first
    answers: their means over items (W) and over (item, two annotators) (tau), and per
    annotator the mean tau with the others and per pair of annotators their mean tau."""
    common = common_ranks(first)
    ws = item_w(common).dropna()
    taus = pair_taus(common).dropna(subset=["tau"])
    by_worker = pd.concat(
        [taus[["a", "tau"]].rename(columns={"a": "worker"}),
         taus[["b", "tau"]].rename(columns={"b": "worker"})]
    ).groupby("worker")["tau"].mean()  # fmt: skip
    by_pair = taus.groupby(["a", "b"])["tau"].agg(["size", "mean"])
    return {
        "w_mean": float(ws.mean()) if len(ws) else None,
        "w_median": float(ws.median()) if len(ws) else None,
        "w_items": len(ws),
        "tau_mean": float(taus["tau"].mean()) if len(taus) else None,
        "tau_pairs": len(taus),
        "tau_by_worker": {int(w): float(v) for w, v in by_worker.items()},
        "tau_by_pair": [
            {"a": int(a), "b": int(b), "n": int(row["size"]), "tau": float(row["mean"])}
            for (a, b), row in by_pair.iterrows()
        ],
    }


def self_consistency(rankings: pd.DataFrame) -> dict[int, dict[str, Any]]:
    """Per annotator with repeats: tau-b between each repeat and their first answer on the
    same item (on the responses both placed), its mean, and the share of identical orders."""
    first, repeats = split_repeats(rankings)
    out: dict[int, dict[str, Any]] = {}
    for (item, worker), again in repeats.groupby(["item", "worker"]):
        mine = first[(first["item"] == item) & (first["worker"] == worker)]
        for _, answer in again.groupby("answer"):
            both = mine.merge(answer, on="response", suffixes=("_first", ""))
            tau = _tau(rankdata(both["tier_first"]), rankdata(both["tier"]))
            row = out.setdefault(int(worker), {"n": 0, "taus": [], "same": 0})
            row["n"] += 1
            row["same"] += int((both["tier_first"].rank() == both["tier"].rank()).all())
            if tau is not None:
                row["taus"].append(tau)
    return {
        w: {
            "n": row["n"],
            "tau_mean": float(np.mean(row["taus"])) if row["taus"] else None,
            "same": row["same"] / row["n"],
        }
        for w, row in out.items()
    }


def aggregate(first: pd.DataFrame) -> pd.DataFrame:
    """Per (item, response): how many answers placed it, the mean and spread of its score,
    score = (n - rank) / (n - 1) in each answer of n responses (1 best, 0 worst, ties at the
    mean of the ranks they span; for best-worst, 0.5 + (best - worst) / (2 shown) on average),
    and its mean rank among the answers that placed every response."""
    ranks = first.groupby("answer")["tier"].rank(method="average")
    size = first.groupby("answer")["tier"].transform("size")
    score = ((size - ranks) / (size - 1)).where(size > 1, 0.5)
    grouped = first.assign(score=score, rank=ranks).groupby(["item", "response"])
    return pd.DataFrame(
        {
            "n": grouped.size(),
            "score": grouped["score"].mean(),
            "score_std": grouped["score"].std(ddof=0),
            "mean_rank": grouped["rank"].mean(),
        }
    )


def report(rankings: pd.DataFrame) -> dict[str, Any]:
    """Every ranking agreement figure of a project, JSON-ready."""
    first, repeats = split_repeats(rankings)
    figures = concordance(first)
    consistency = self_consistency(rankings)
    answers = first.groupby("worker")["answer"].nunique()
    return {
        "n_answers": int(first["answer"].nunique()),
        "n_repeats": int(repeats["answer"].nunique()),
        "n_items": int(first["item"].nunique()),
        "n_annotators": int(first["worker"].nunique()),
        "kendall_w": {
            "mean": figures["w_mean"],
            "median": figures["w_median"],
            "items": figures["w_items"],
        },
        "kendall_tau": {
            "mean": figures["tau_mean"],
            "pairs": figures["tau_pairs"],
            "by_pair": figures["tau_by_pair"],
        },
        "annotators": [
            {
                "worker": int(w),
                "answers": int(n),
                "tau_mean": figures["tau_by_worker"].get(int(w)),
                "self_consistency": consistency.get(int(w)),
            }
            for w, n in answers.items()
        ],
    }
