"""The learning queue: before any answer the queue follows the prior (1 - sigmoid(mu)); after
a reviewer's decisions the noise model, refitted, puts the pairs a planted check flag marks
first, says why, and ranks exactly by the rule of workers.rm.noise.queue_order; enough
decisions start a refit on their own."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.review.helpers import reviewer, scored_flagged_pairs
from webapp.flags.models import Flag
from webapp.review.decisions import review_decide
from webapp.review.filters import QueueFilter
from webapp.review.learning import noise_fit_create, noise_fit_execute
from webapp.review.models import NoiseFit, PairNoise, ReviewItem, ReviewSettings
from webapp.review.queue import review_queue_rebuild
from webapp.review.selectors import queue_next, queue_page
from workers.rm.noise import queue_order

pytestmark = pytest.mark.django_db

N = 60


def _project(project: Any) -> tuple[list[Any], np.ndarray]:
    rng = np.random.default_rng(3)
    mus = rng.normal(0.3, 1.0, N).round(3).tolist()
    _, pairs = scored_flagged_pairs(project, mus, kinds=["unstable"] * N)
    flipped = np.zeros(N, dtype=bool)
    flipped[rng.choice(N, 12, replace=False)] = True
    Flag.objects.bulk_create(
        [
            Flag(project=project, pair=pairs[i], kind="contrast_inconsistent", severity=2,
                 source="checks")
            for i in np.flatnonzero(flipped)
        ]
    )  # fmt: skip
    return pairs, flipped


def _fit(project: Any) -> NoiseFit:
    fit = noise_fit_execute(run=noise_fit_create(project=project, job=False), progress=print)
    review_queue_rebuild(project=project)
    return fit


def _order(project: Any) -> list[int]:
    return list(ReviewItem.objects.filter(project_id=project.pk).order_by("rank").values_list(
        "pair_id", flat=True))  # fmt: skip


def test_decisions_teach_the_queue_a_planted_feature(project: Any) -> None:
    pairs, flipped = _project(project)
    ids = np.array([p.pk for p in pairs])
    review_queue_rebuild(project=project)
    before = _order(project)
    prior = _fit(project)
    assert prior.source == "prior" and prior.n_answers == 0
    top = set(_order(project)[:12])
    assert len(top & set(ids[flipped])) < 8  # the prior barely sees the planted flips

    rita = reviewer(project)
    for i in range(24):  # the reviewer answers truthfully: flip the flipped, keep the rest
        action = "flip" if flipped[i] else "keep"
        review_decide(project=project, pair_id=int(ids[i]), action=action, reviewer=rita)
    fit = _fit(project)
    assert (
        fit.source == "model" and fit.n_answers == 24 == flipped[:24].sum() + (~flipped[:24]).sum()
    )
    open_flips = set(ids[24:][flipped[24:]].tolist())
    after = _order(project)
    assert after != before
    items = {i.pair_id: i for i in ReviewItem.objects.filter(project_id=project.pk)}
    undecided = [p for p in ids[24:].tolist()]
    by_p = sorted(undecided, key=lambda p: -items[p].p_wrong)[: len(open_flips)]
    assert len(set(by_p) & open_flips) >= len(open_flips) - 1  # the flips, most likely wrong
    # each is at the head of the queue, or holds an exploring place (every 10th): once the
    # model is sure of the rest, the flips are the pairs it is least sure about
    assert all(items[p].exploring or after.index(p) < len(open_flips) for p in open_flips)
    first = items[after[0]]
    assert first.why and first.why[0][0] == "check_contrast_inconsistent"
    page = queue_page(project=project, queue_filter=QueueFilter(), limit=5)
    assert any("check: Reward model inconsistent" in row.reason for row in page)
    # the next pair after any decided pair is the undecided pair most likely wrong now
    assert queue_next(project=project, queue_filter=QueueFilter(),
                      after_pair_id=int(ids[0])) == _order(project)[0]  # fmt: skip

    # the SQL ranks the queue exactly by queue_order's rule
    p = np.array([items[int(pid)].p_wrong for pid in ids])
    decided = np.isin(ids, ids[:24])
    share = ReviewSettings.objects.get(project=project).explore_share
    doubt = dict(PairNoise.objects.filter(project_id=project.pk).values_list("pair_id", "doubt"))
    d = np.array([doubt[int(pid)] for pid in ids])
    assert d.max() > 0  # the fold models disagree somewhere
    order, exploring = queue_order(p, explore_share=share, decided=decided, doubt=d)
    assert _order(project) == ids[order].tolist()
    assert [items[int(pid)].exploring for pid in ids[order]] == exploring.tolist()


def test_enough_decisions_start_a_refit(
    project: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pairs, _ = _project(project)
    ReviewSettings.objects.update_or_create(project=project, defaults={"refit_every": 3})
    rita = reviewer(project)
    with django_capture_on_commit_callbacks(execute=True):
        for pair in pairs[:2]:
            review_decide(project=project, pair_id=pair.pk, action="keep", reviewer=rita)
    assert not NoiseFit.objects.filter(project=project).exists()
    with django_capture_on_commit_callbacks(execute=True):
        review_decide(project=project, pair_id=pairs[2].pk, action="keep", reviewer=rita)
    fit = NoiseFit.objects.get(project=project)
    assert fit.job is not None and fit.job.kind == "noise" and not fit.complete
