"""Server time of the review pages on a project of 1M pairs with scores, flags and decisions.

Target: the review queue, a pair's review page and each dashboard chart under 300 ms at the
95th percentile on 2 cores.

The project is built as bench_export builds its own (1M pairs with HH-RLHF texts, a complete
scoring run over the A/B pairs, 3 votes on 5% of the pairs, set-based), with more flags: likely
mislabelled where mu < -1.8, unstable where sigma > 1.05, ambiguous on 5% and a check's kind
tied to no run on 1%, about 30% of the pairs in all. Strength deciles follow mu. Then the
review queue is built (review_queue_rebuild, timed), a bulk flip decides the pairs with
mu < -1.95 (review_bulk_apply, timed: one INSERT ... SELECT) and 200 single decisions are made
one by one, as reviewers make them.

Each page is requested through Django's test client, in process, as a logged-in reviewer:
the time is the whole server side (middleware, view, queries, template), without a network.
Every URL is requested WARMUP times, then REPEATS times, timed. The existing pair page
(projects:pair, a few small queries) is measured the same way in the same run as the
baseline: ``*_vs_pair_page`` is the ratio of p95s, steadier than the times on a shared machine.
The project also holds one pair with a 50 MB response (the hostile import battery's case):
``project_page`` is the project's first page of pairs, ``project_page_50mb`` the page that
holds that pair, and ``*_bytes`` what each sends (lists send bounded previews, see
webapp/pairs/previews.py).
Figures: review.<page>_p50_ms, review.<page>_p95_ms, review.<page>_vs_pair_page,
review.project_page_bytes, review.project_page_50mb_bytes, review.fill_seconds,
review.queue_rebuild_seconds (the first build, in the learning order with the prior),
review.bulk_flip_seconds, review.bulk_flip_pairs, review.flagged_pairs; after the decisions
review.noise_fit_seconds (the noise model on every scored pair: features, fit, P(wrong)
written) and the queue rebuilt in each order, review.queue_rebuild_severity_seconds and
review.queue_rebuild_learning_seconds. BENCH_REVIEW_PAIRS=100000 makes a quick run.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.db import bench_database

PAIRS = int(os.environ.get("BENCH_REVIEW_PAIRS", 1_000_000))
BIG = 50 * 1024 * 1024  # characters of the one huge response
WARMUP = 3
REPEATS = int(os.environ.get("BENCH_REVIEW_REPEATS", 30))

Figures = Callable[[str, float, str], None]


def _more_flags(project_id: int, run_id: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE scoring_pairscore SET decile = least(9, greatest(0, floor((mu + 2) / 0.4)))
            WHERE run_id = %(run)s;
            INSERT INTO flags_flag (project_id, pair_id, kind, severity, source, scoring_run_id,
                details, created_at)
            SELECT %(project)s, s.pair_id, 'likely_mislabelled', 5, 'scoring', %(run)s,
                '{}', now()
            FROM scoring_pairscore s WHERE s.run_id = %(run)s AND s.mu < -1.8;
            INSERT INTO flags_flag (project_id, pair_id, kind, severity, source, scoring_run_id,
                details, created_at)
            SELECT %(project)s, s.pair_id, 'unstable', 2, 'scoring', %(run)s, '{}', now()
            FROM scoring_pairscore s WHERE s.run_id = %(run)s AND s.sigma > 1.05;
            INSERT INTO flags_flag (project_id, pair_id, kind, severity, source, scoring_run_id,
                details, created_at)
            SELECT %(project)s, p.id, 'bench_consistency', 3, 'checks', NULL, '{}', now()
            FROM pairs_pair p WHERE p.project_id = %(project)s AND p.id %% 100 = 11;
            ANALYZE;
            """,
            {"project": project_id, "run": run_id},
        )


def _big_pair(project_id: int) -> int:
    """One more pair, whose response A is BIG characters long; its id."""
    from webapp.pairs.models import Pair, Response

    first = Pair.objects.filter(project_id=project_id).order_by("id").first()
    assert first is not None
    big = Response.objects.create(
        content_hash=os.urandom(16), text=("All work and no play. " * (BIG // 22 + 1))[:BIG]
    )
    pair = Pair.objects.create(
        project_id=project_id, prompt_id=first.prompt_id, response_a=big,
        response_b_id=first.response_b_id, imported_label="a", dedup_key=os.urandom(16),
        source_file="big.jsonl", source_line=1,
    )  # fmt: skip
    return pair.pk


def _agreement_report(project_id: int) -> None:
    """A small agreement report between the three bench annotators, for the matrix chart."""
    from django.contrib.auth import get_user_model

    from webapp.labelling.models import AgreementReport

    users = list(get_user_model().objects.filter(username__startswith="bench").order_by("id"))
    pairs = [
        {"a": a.pk, "b": b.pk, "a_name": a.username, "b_name": b.username, "kappa": 0.4}
        for i, a in enumerate(users)
        for b in users[i + 1 :]
    ]
    rows = [{"worker": u.pk, "username": u.username, "left_share": 0.5} for u in users]
    AgreementReport.objects.create(
        project_id=project_id,
        n_votes=0,
        data={"cohen": {"pairs": pairs}, "annotators": rows},
    )


def _time(client: object, url: str) -> list[float]:
    get = client.get  # type: ignore[attr-defined]
    for _ in range(WARMUP):
        response = get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        get(url)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _learning(figures: Figures, project: Any) -> None:
    """The noise model's fit on every scored pair after the decisions, and the queue rebuilt
    in its order, beside a rebuild in the severity order in the same run."""
    from webapp.review.learning import learning_settings_update, noise_fit_create, noise_fit_execute
    from webapp.review.models import ReviewSettings
    from webapp.review.queue import review_queue_rebuild

    started = time.perf_counter()
    fit = noise_fit_execute(run=noise_fit_create(project=project, job=False), progress=print)
    figures("noise_fit_seconds", time.perf_counter() - started, "s")
    figures("noise_fit_answers", fit.n_answers, "answers")
    settings = ReviewSettings.objects.get(project=project)
    for order in ("severity", "learning"):
        learning_settings_update(
            project=project, queue_order=order, explore_share=settings.explore_share,
            refit_every=settings.refit_every,
        )  # fmt: skip
        started = time.perf_counter()
        review_queue_rebuild(project=project)
        figures(f"queue_rebuild_{order}_seconds", time.perf_counter() - started, "s")


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18]


def run(figures: Figures) -> None:
    with bench_database():
        from django.contrib.auth import get_user_model
        from django.test import Client

        from bench.bench_export import PROJECT, fill
        from webapp.projects.models import Membership, Project
        from webapp.review import decisions
        from webapp.review.dashboards import CHARTS
        from webapp.review.filters import QueueFilter
        from webapp.review.models import ReviewItem
        from webapp.review.queue import review_queue_rebuild
        from webapp.scoring.models import ScoringRun

        started = time.perf_counter()
        fill(PAIRS)
        project = Project.objects.get(name=PROJECT)
        run_id = ScoringRun.objects.get(project=project).pk
        _more_flags(project.pk, run_id)
        _agreement_report(project.pk)
        big_pair = _big_pair(project.pk)
        figures("fill_seconds", time.perf_counter() - started, "s")

        started = time.perf_counter()
        flagged = review_queue_rebuild(project=project)
        figures("queue_rebuild_seconds", time.perf_counter() - started, "s")
        figures("flagged_pairs", flagged, "pairs")

        user = get_user_model().objects.create(username="bench-reviewer")
        Membership.objects.create(project=project, user=user, role="reviewer")
        started = time.perf_counter()
        bulk = decisions.review_bulk_apply(
            project=project, queue_filter=QueueFilter(mu_max=-1.95), action="flip", reviewer=user
        )
        figures("bulk_flip_seconds", time.perf_counter() - started, "s")
        figures("bulk_flip_pairs", bulk.n_pairs, "pairs")
        singles = list(
            ReviewItem.objects.filter(project=project, mu__gt=-1.5)
            .order_by("rank")
            .values_list("pair_id", flat=True)[:200]
        )
        for i, pair_id in enumerate(singles):
            action = ("keep", "tie", "drop", "more_votes")[i % 4]
            decisions.review_decide(
                project=project, pair_id=pair_id, action=action, reviewer=user,
                votes=2 if action == "more_votes" else 0,
            )  # fmt: skip
        _learning(figures, project)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        p = project.pk
        pair_id = singles[0]
        pages = {
            "pair_page": f"/projects/{p}/pairs/{pair_id}/",  # the baseline
            "project_page": f"/projects/{p}/",
            "project_page_50mb": f"/projects/{p}/?after={big_pair - 1}",
            "review_list": f"/projects/{p}/review/",
            "review_list_filtered": (
                f"/projects/{p}/review/?kind=unstable&mu_min=-1&mu_max=1&state=undecided"
            ),
            # a state few decisions have (50 pairs sent back, 50 kept among 378k queued)
            "review_list_sent_back": f"/projects/{p}/review/?state=sent_back",
            "review_list_kind_kept": f"/projects/{p}/review/?kind=unstable&state=keep",
            # a kind and a range that no pair has: the walk reads to the end of the queue
            "review_list_kind_none": f"/projects/{p}/review/?kind=likely_mislabelled&mu_min=0",
            "review_pair": f"/projects/{p}/review/pairs/{pair_id}/",
            "history": f"/projects/{p}/pairs/{pair_id}/history/",
            "dashboard": f"/projects/{p}/review/dashboard/",
            **{f"chart_{name.replace('-', '_')}": f"/projects/{p}/review/dashboard/{name}/"
               for name in CHARTS},
            "bulk_preview": f"/projects/{p}/review/bulk/?action=keep&kind=unstable",
        }  # fmt: skip
        p95 = {}
        for name, url in pages.items():
            times = _time(client, url)
            p95[name] = _p95(times)
            figures(f"{name}_p50_ms", statistics.median(times), "ms")
            figures(f"{name}_p95_ms", p95[name], "ms")
            if name != "pair_page":
                figures(f"{name}_vs_pair_page", p95[name] / p95["pair_page"], "x")
            if name.startswith("project_page"):
                figures(f"{name}_bytes", len(client.get(url).content), "bytes")
