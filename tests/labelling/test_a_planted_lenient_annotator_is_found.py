"""Five annotators rate the same responses with honest noise; one rates a level higher than
the truth and one a level lower. Leniency must find exactly those two."""

from __future__ import annotations

import numpy as np

from webapp.labelling import rating_agreement as ra
from webapp.labelling.item_scores import ScoreRow

SCALE = {"helpfulness": (0, 4), "correctness": (0, 4)}
LENIENT, SEVERE = 3, 5


def planted(seed: int) -> object:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 5, size=(40, 2)).astype(float)
    rows = []
    for worker in range(1, 6):
        shift = {LENIENT: 1.0, SEVERE: -1.0}.get(worker, 0.0)
        noisy = np.clip(np.round(truth + shift + rng.normal(0, 0.6, truth.shape)), 0, 4)
        for item, (h, c) in enumerate(noisy):
            rows.append(ScoreRow(item, 0, worker, "helpfulness", h, "rating"))
            rows.append(ScoreRow(item, 0, worker, "correctness", c, "rating"))
    return ra.ratings_frame(rows)


def test_the_planted_lenient_and_severe_annotators_are_found_and_nobody_else() -> None:
    for seed in range(3):
        report = ra.report(planted(seed), SCALE)
        lenient = {a["worker"] for a in report["annotators"] if a["leniency"]["lenient"]}
        severe = {a["worker"] for a in report["annotators"] if a["leniency"]["severe"]}
        assert lenient == {LENIENT}, seed
        assert severe == {SEVERE}, seed
        shifted = next(a for a in report["annotators"] if a["worker"] == LENIENT)
        # about one level of four above the others, less what clipping at 4 takes away
        assert 0.1 < shifted["leniency"]["mean"] < 0.3
        assert shifted["leniency"]["by_attribute"]["helpfulness"] > 0.5


def test_without_a_planted_shift_nobody_is_flagged() -> None:
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 5, size=40).astype(float)
    rows = [
        ScoreRow(i, 0, w, "h", float(v), "rating")
        for w in range(1, 6)
        for i, v in enumerate(np.clip(np.round(truth + rng.normal(0, 0.6, 40)), 0, 4))
    ]
    report = ra.report(ra.ratings_frame(rows), {"h": (0, 4)})
    flagged = [
        a for a in report["annotators"] if a["leniency"]["lenient"] or a["leniency"]["severe"]
    ]
    assert flagged == []
