"""The review queue's rows: one per flagged pair of the latest complete scoring run (and of
the flags tied to no run), rebuilt set-based after each scoring run or check run (see
webapp/pipeline.py), with the run-level figures the dashboards show."""

from __future__ import annotations

import math
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from webapp.flags.models import Flag
from webapp.labelling.models import Vote
from webapp.pairs.models import Pair
from webapp.projects.models import Project
from webapp.review.models import NoiseFit, PairNoise, PairReview, ReviewSettings
from webapp.scoring.models import PairScore
from webapp.scoring.selectors import latest_complete_run_id

FLAGS = Flag._meta.db_table
PAIRS = Pair._meta.db_table
SCORES = PairScore._meta.db_table
USERS = get_user_model()._meta.db_table
VOTES = Vote._meta.db_table
NOISE = PairNoise._meta.db_table
REVIEWS = PairReview._meta.db_table


def review_settings_for(*, project: Project) -> ReviewSettings:
    settings, _ = ReviewSettings.objects.get_or_create(project=project)
    return settings


def _insert_sql(*, learning: bool) -> str:
    """The queue's rows, ranked. In the learning order (``workers.rm.noise.queue_order``'s
    rule): P(wrong) from the run's latest noise fit (or the prior, 1 - sigmoid(mu)); the
    share of undecided pairs the fit is least sure of (its fold models disagree most, then
    P nearest 1/2) explore, each k-th place; the other undecided
    pairs most likely wrong first; then unscored pairs; decided pairs last. In the severity
    order: most severe flag first, then most negative mu."""
    rank = (
        """row_number() OVER (ORDER BY CASE WHEN grp <= 1 THEN 0 ELSE grp END, CASE grp
                WHEN 0 THEN i + CASE WHEN %(k)s >= 2 THEN (i - 1) / (%(k)s - 1) ELSE 0 END
                WHEN 1 THEN d * %(k)s ELSE 0 END,
            p_wrong DESC NULLS LAST, severity DESC, pair_id)"""
        if learning
        else "row_number() OVER (ORDER BY severity DESC, mu ASC NULLS LAST, pair_id)"
    )
    return f"""
        INSERT INTO review_reviewitem (pair_id, project_id, scoring_run_id, severity, kinds,
            top_kind, top_flag_id, n_flags, split, mu, sigma, label_scored, p_wrong,
            exploring, why, rank)
        WITH g AS (
            SELECT f.pair_id, max(f.severity) AS severity,
                array_agg(f.kind ORDER BY f.severity DESC, f.id) AS kinds,
                (array_agg(f.id ORDER BY f.severity DESC, f.id))[1] AS top_flag_id,
                count(*) AS n_flags
            FROM {FLAGS} f
            WHERE f.project_id = %(project)s
              AND (f.scoring_run_id IS NULL OR f.scoring_run_id = %(run)s)
            GROUP BY f.pair_id
        ), base AS (
            SELECT g.*, p.split, s.mu, s.sigma, coalesce(s.label_scored, '') AS label_scored,
                CASE WHEN n.pair_id IS NOT NULL THEN n.p_wrong
                     WHEN s.mu IS NOT NULL
                     THEN 1.0 / (1.0 + exp(least(greatest(s.mu, -50.0), 50.0))) END AS p_wrong,
                coalesce(n.why, '[]'::jsonb) AS why, coalesce(n.doubt, 0) AS doubt,
                coalesce(rv.outcome, '') <> '' AS decided
            FROM g
            JOIN {PAIRS} p ON p.id = g.pair_id
            LEFT JOIN {SCORES} s ON s.run_id = %(run)s AND s.pair_id = g.pair_id
            LEFT JOIN {NOISE} n ON n.pair_id = g.pair_id AND n.fit_id = %(fit)s
            LEFT JOIN {REVIEWS} rv ON rv.pair_id = g.pair_id
        ), doubt AS (
            SELECT pair_id,
                row_number() OVER (ORDER BY doubt DESC, abs(p_wrong - 0.5), pair_id) AS d
            FROM base WHERE NOT decided AND p_wrong IS NOT NULL
        ), grouped AS (
            SELECT b.*, doubt.d, CASE WHEN b.decided THEN 3 WHEN b.p_wrong IS NULL THEN 2
                WHEN %(k)s >= 2 AND doubt.d <= m.m THEN 1 ELSE 0 END AS grp
            FROM base b LEFT JOIN doubt USING (pair_id)
            CROSS JOIN (SELECT ceil(%(share)s * count(*))::bigint AS m FROM doubt) m
        ), numbered AS (
            SELECT *, row_number() OVER (PARTITION BY grp ORDER BY p_wrong DESC, pair_id) AS i
            FROM grouped
        )
        SELECT pair_id, %(project)s, %(run)s, severity, kinds, kinds[1], top_flag_id, n_flags,
            split, mu, sigma, label_scored, p_wrong, grp = 1 AND %(learning)s, why, {rank}
        FROM numbered
    """


def review_queue_rebuild(*, project: Project, run_id: int | None = None) -> int:
    """Rebuild the project's review queue from its flags: those of the latest complete scoring
    run (or ``run_id``) and those tied to no run (checks, people), in the project's queue
    order (``ReviewSettings.queue_order``). Set-based: one DELETE and one INSERT ... SELECT,
    then the run's dashboard figures. Call it after writing flags or fitting the noise model."""
    run_id = run_id if run_id is not None else latest_complete_run_id(project=project)
    params: dict[str, Any] = {"project": project.pk, "run": run_id}
    with transaction.atomic(), connection.cursor() as cursor:
        settings = ReviewSettings.objects.select_for_update().get_or_create(project=project)[0]
        cursor.execute("DELETE FROM review_reviewitem WHERE project_id = %(project)s", params)
        cursor.execute("DELETE FROM review_reviewitemkind WHERE project_id = %(project)s", params)
        fit = (
            NoiseFit.objects.filter(project=project, scoring_run_id=run_id, complete=True)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        share = settings.explore_share
        params.update(fit=fit, share=share, k=round(1 / share) if share > 0 else 0)
        learning = settings.queue_order == ReviewSettings.QueueOrder.LEARNING
        params["learning"] = learning
        cursor.execute(_insert_sql(learning=learning), params)
        n = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO review_reviewitemkind (project_id, pair_id, kind, rank)
            SELECT DISTINCT %(project)s, i.pair_id, k.kind, i.rank
            FROM review_reviewitem i CROSS JOIN unnest(i.kinds) AS k(kind)
            WHERE i.project_id = %(project)s
            """,
            params,
        )
        settings.charts = _run_charts(project, run_id)
        cursor.execute(
            f"SELECT DISTINCT kind FROM {FLAGS} WHERE project_id = %(project)s LIMIT 500",
            params,
        )
        settings.charts["kinds"] = sorted(row[0] for row in cursor.fetchall())
        settings.charts["flagged"] = n
        settings.queue_built_at = timezone.now()
        settings.queue_run_id = run_id
        settings.save(update_fields=["charts", "queue_built_at", "queue_run_id"])
    return n


MU_BINS = 60


def _run_charts(project: Project, run_id: int | None) -> dict[str, Any]:
    """Figures that change only with a scoring run (or a rebuilt queue): the mu histogram by
    flag, sigma against mu in 20 groups, and each strength decile's counts, as plain lists."""
    if run_id is None:
        return {"run": None}
    params: dict[str, Any] = {"project": project.pk, "run": run_id, "bins": MU_BINS}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(mu), max(mu), count(*) FROM {SCORES} WHERE run_id = %(run)s",
            params,
        )
        low, high, n = cursor.fetchone() or (None, None, 0)
        if not n or low is None or high is None:
            return {"run": run_id, "n": 0}
        lo, hi = float(low), float(high)
        if math.isclose(lo, hi):
            hi = lo + 1.0
        params.update(lo=lo, hi=hi + (hi - lo) * 1e-9)
        cursor.execute(
            f"""
            SELECT width_bucket(s.mu, %(lo)s, %(hi)s, %(bins)s), coalesce(i.top_kind, ''),
                count(*)
            FROM {SCORES} s
            LEFT JOIN review_reviewitem i ON i.pair_id = s.pair_id AND i.project_id = %(project)s
            WHERE s.run_id = %(run)s GROUP BY 1, 2 ORDER BY 1, 2
            """,
            params,
        )
        hist = [[int(b), kind, int(c)] for b, kind, c in cursor.fetchall()]
        cursor.execute(
            f"""
            SELECT g, avg(mu), avg(sigma), count(*) FROM (
                SELECT mu, sigma, ntile(20) OVER (ORDER BY mu) AS g
                FROM {SCORES} WHERE run_id = %(run)s) t
            GROUP BY g ORDER BY g
            """,
            params,
        )
        groups = [[int(g), float(m), float(sd), int(c)] for g, m, sd, c in cursor.fetchall()]
        cursor.execute(
            f"""
            SELECT s.decile, count(*), avg(s.mu), count(*) FILTER (WHERE s.mu > 0),
                count(i.pair_id)
            FROM {SCORES} s
            LEFT JOIN review_reviewitem i ON i.pair_id = s.pair_id AND i.project_id = %(project)s
            WHERE s.run_id = %(run)s GROUP BY s.decile ORDER BY s.decile
            """,
            params,
        )
        deciles = [
            [int(d), int(c), float(m), int(agree), int(flagged)]
            for d, c, m, agree, flagged in cursor.fetchall()
        ]
        # each annotator's A / B votes against the ensemble's direction (mu > 0: the scored
        # label's response is better)
        cursor.execute(
            f"""
            SELECT v.annotator_id, u.username, count(*),
                count(*) FILTER (WHERE (v.choice = s.label_scored) = (s.mu > 0)),
                count(*) FILTER (WHERE v.choice = 'a')
            FROM {SCORES} s
            JOIN {VOTES} v ON v.pair_id = s.pair_id AND v.choice IN ('a', 'b')
            JOIN {USERS} u ON u.id = v.annotator_id
            WHERE s.run_id = %(run)s
            GROUP BY v.annotator_id, u.username ORDER BY u.username
            """,
            params,
        )
        annotators = [
            [int(uid), name, int(c), int(agree), int(a)]
            for uid, name, c, agree, a in cursor.fetchall()
        ]
    return {
        "run": run_id,
        "n": int(n),
        "mu_range": [lo, hi],
        "bins": MU_BINS,
        "hist": hist,  # [bin (1..bins, 0 and bins+1 outside), top flag kind or "", pairs]
        "groups": groups,  # [group, mean mu, mean sigma, pairs]
        "deciles": deciles,  # [decile, pairs, mean mu, pairs with mu > 0, flagged pairs]
        "annotators": annotators,  # [id, name, A/B votes, agreeing with mu, votes for A]
    }
