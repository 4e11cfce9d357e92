"""Bias checks: does the label (or the reward model) favour the longer response, and are some
chosen / rejected texts nearly the same (exactly the same is the scoring run's "degenerate")."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import pearsonr, spearmanr

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class LengthBias:
    n_pairs: int  # pairs whose two responses differ in length
    share_chosen_longer: float  # of those, how often the chosen one is the longer; 0.5 = none
    # Correlation of the ensemble margin mu with len(chosen) - len(rejected), over all pairs
    # given a margin; NaN without margins or with a constant input.
    margin_pearson: float = float("nan")
    margin_spearman: float = float("nan")


def length_bias(
    *, chosen_len: np.ndarray, rejected_len: np.ndarray, margin: np.ndarray | None = None
) -> LengthBias:
    chosen_len = np.asarray(chosen_len, dtype=np.float64)
    rejected_len = np.asarray(rejected_len, dtype=np.float64)
    if chosen_len.shape != rejected_len.shape or chosen_len.ndim != 1:
        raise ValueError("chosen_len and rejected_len must be equal 1-D shapes")
    diff = chosen_len - rejected_len
    unequal = diff != 0
    share = float((diff[unequal] > 0).mean()) if unequal.any() else float("nan")
    pearson = spearman = float("nan")
    if margin is not None:
        margin = np.asarray(margin, dtype=np.float64)
        if margin.shape != diff.shape:
            raise ValueError(f"margin must be {diff.shape}, got {margin.shape}")
        if len(diff) >= 3 and np.ptp(diff) > 0 and np.ptp(margin) > 0:
            pearson = float(pearsonr(margin, diff).statistic)
            spearman = float(spearmanr(margin, diff).statistic)
    return LengthBias(
        n_pairs=int(unequal.sum()),
        share_chosen_longer=share,
        margin_pearson=pearson,
        margin_spearman=spearman,
    )


def near_identical(a: Sequence[str], b: Sequence[str], *, threshold: float = 0.95) -> np.ndarray:
    """(N,) bool: the texts differ, yet only in whitespace and case, or their word-level
    similarity (difflib's ratio over the word sequences: 2 * matched words / all words) is at
    least `threshold`.

    Words rather than characters: two unlike English texts share most of their letters, so
    difflib's cheap upper bounds would rarely rule them out; they rarely share 95% of their
    words. Those bounds go first, so a pair of unlike texts costs almost nothing."""
    if len(a) != len(b):
        raise ValueError(f"{len(a)} texts against {len(b)}")
    out = np.zeros(len(a), dtype=bool)
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x == y:
            continue  # the same text: flagged as degenerate by the scoring run
        nx, ny = _SPACE.sub(" ", x).strip().lower(), _SPACE.sub(" ", y).strip().lower()
        if nx == ny:
            out[i] = True
            continue
        matcher = difflib.SequenceMatcher(None, nx.split(" "), ny.split(" "), autojunk=False)
        out[i] = (
            matcher.real_quick_ratio() >= threshold
            and matcher.quick_ratio() >= threshold
            and matcher.ratio() >= threshold
        )
    return out
