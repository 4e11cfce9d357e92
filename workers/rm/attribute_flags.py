"""Flag rules over ratings on named attributes: what a reviewer of a rating project should see.

- ``far_ratings``: a human rating far from every head's out-of-fold prediction of it
  (``attributes.fit_attributes``), on the attributes the heads can predict.
- ``unpredictable_attributes``: attributes whose ratings the heads cannot predict at all (the
  interval of Spearman's rho reaches 0): the guideline may be unclear, or the ratings noise.
- ``overall_contradictions``: responses whose overall rating contradicts their attribute
  ratings: rated higher overall than another response of the same prompt that is at least as
  good on every attribute and better on one. ``pair_overall_contradictions`` is the same
  rule for a pair labelled on each attribute and overall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workers.rm.attributes import AttributeResult


@dataclass
class FarRatings:
    """Boolean (R,) over the ratings given, and each one's distance to the nearest head's
    prediction in residual spreads (NaN on attributes the heads cannot predict)."""

    far: np.ndarray
    distance: np.ndarray


def far_ratings(
    *,
    result: AttributeResult,
    response: np.ndarray,
    attribute: np.ndarray,
    value: np.ndarray,
    scale: float = 3.0,
) -> FarRatings:
    """Which of R ratings (response row, attribute column, value: one annotator's rating,
    say) lie more than ``scale`` residual spreads from every head's prediction of them."""
    response = np.asarray(response, dtype=np.int64)
    attribute = np.asarray(attribute, dtype=np.int64)
    value = np.asarray(value, dtype=np.float64)
    if not response.shape == attribute.shape == value.shape:
        raise ValueError("response, attribute and value must have the same shape")
    predictable = np.array([fit.predictable for fit in result.fits], dtype=bool)
    spread = np.array([fit.residual_scale for fit in result.fits], dtype=np.float64)
    # a zero spread (every residual equal) would flag any difference at all: flag none
    spread = np.where(spread > 0, spread, np.inf)
    gaps = np.abs(result.predictions[response, attribute, :] - value[:, None])  # (R, M)
    distance = gaps.min(axis=1) / spread[attribute]
    distance = np.where(predictable[attribute], distance, np.nan)
    return FarRatings(far=np.nan_to_num(distance, nan=0.0) > scale, distance=distance)


def unpredictable_attributes(result: AttributeResult) -> list[str]:
    """The attributes whose Spearman interval reaches 0 (or that had too few ratings for one)."""
    return [fit.name for fit in result.fits if not fit.predictable]


def overall_contradictions(
    *,
    overall: np.ndarray,
    attributes: np.ndarray,
    group: np.ndarray,
    min_gap: float = 0.0,
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Responses whose overall rating contradicts their attribute ratings (module doc).

    overall: (N,) overall rating; attributes: (N, A) the other attributes' ratings (NaN:
    unrated, which never contradicts); group: (N,) the prompt of each response. A pair (i, j)
    of one prompt contradicts when overall[i] > overall[j] + min_gap although j >= i on every
    attribute both have and j > i + min_gap on at least one. Returns the (N,) flag of every
    response in such a pair, and the pairs (i: rated higher overall, j)."""
    overall = np.asarray(overall, dtype=np.float64)
    values = np.asarray(attributes, dtype=np.float64)
    group = np.asarray(group)
    flagged = np.zeros(len(overall), dtype=bool)
    pairs: list[tuple[int, int]] = []
    for g in np.unique(group):
        rows = np.flatnonzero(group == g)
        if len(rows) < 2:
            continue
        o, v = overall[rows], values[rows]
        higher = o[:, None] > o[None, :] + min_gap  # [i, j]: i rated higher overall than j
        diff = v[None, :, :] - v[:, None, :]  # [i, j, a]: how much better j is on a
        known = ~np.isnan(diff)
        at_least = np.where(known, diff >= 0, True).all(axis=2) & known.any(axis=2)
        better_once = np.where(known, diff > min_gap, False).any(axis=2)
        hits = np.argwhere(higher & at_least & better_once)
        for i, j in hits:
            pairs.append((int(rows[i]), int(rows[j])))
            flagged[rows[i]] = flagged[rows[j]] = True
    return flagged, pairs


def pair_overall_contradictions(*, overall: np.ndarray, attributes: np.ndarray) -> np.ndarray:
    """(N,) pairs labelled A (+1) or B (-1) overall while no attribute favours that side and
    at least one favours the other; ties (0) and unlabelled attributes (NaN) favour neither."""
    overall = np.asarray(overall, dtype=np.float64)
    values = np.asarray(attributes, dtype=np.float64)
    side = np.sign(overall)[:, None]
    with np.errstate(invalid="ignore"):
        agrees = np.nan_to_num(values * side, nan=0.0)
    return (side[:, 0] != 0) & (agrees <= 0).all(axis=1) & (agrees < 0).any(axis=1)
