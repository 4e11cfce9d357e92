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
from webapp.review.models import (
    ReviewSettings,
)
from webapp.scoring.models import PairScore
from webapp.scoring.selectors import latest_complete_run_id

FLAGS = Flag._meta.db_table
PAIRS = Pair._meta.db_table
SCORES = PairScore._meta.db_table
USERS = get_user_model()._meta.db_table
VOTES = Vote._meta.db_table


def review_settings_for(*, project: Project) -> ReviewSettings:
    settings, _ = ReviewSettings.objects.get_or_create(project=project)
    return settings


def review_queue_rebuild(*, project: Project, run_id: int | None = None) -> int:
    """Rebuild the project's review queue from its flags: those of the latest complete scoring
    run (or ``run_id``) and those tied to no run (checks, people). Set-based: one DELETE and
    one INSERT ... SELECT, then the run's dashboard figures. Call it after writing flags."""
    run_id = run_id if run_id is not None else latest_complete_run_id(project=project)
    params = {"project": project.pk, "run": run_id}
    with transaction.atomic(), connection.cursor() as cursor:
        settings = ReviewSettings.objects.select_for_update().get_or_create(project=project)[0]
        cursor.execute("DELETE FROM review_reviewitem WHERE project_id = %(project)s", params)
        cursor.execute("DELETE FROM review_reviewitemkind WHERE project_id = %(project)s", params)
        cursor.execute(
            f"""
            INSERT INTO review_reviewitem (pair_id, project_id, scoring_run_id, severity, kinds,
                top_kind, top_flag_id, n_flags, split, mu, sigma, label_scored, rank)
            SELECT g.pair_id, %(project)s, %(run)s, g.severity, g.kinds, g.kinds[1],
                g.top_flag_id, g.n_flags, p.split, s.mu, s.sigma, coalesce(s.label_scored, ''),
                row_number() OVER (ORDER BY g.severity DESC, s.mu ASC NULLS LAST, g.pair_id)
            FROM (
                SELECT f.pair_id, max(f.severity) AS severity,
                    array_agg(f.kind ORDER BY f.severity DESC, f.id) AS kinds,
                    (array_agg(f.id ORDER BY f.severity DESC, f.id))[1] AS top_flag_id,
                    count(*) AS n_flags
                FROM {FLAGS} f
                WHERE f.project_id = %(project)s
                  AND (f.scoring_run_id IS NULL OR f.scoring_run_id = %(run)s)
                GROUP BY f.pair_id
            ) g
            JOIN {PAIRS} p ON p.id = g.pair_id
            LEFT JOIN {SCORES} s ON s.run_id = %(run)s AND s.pair_id = g.pair_id
            """,
            params,
        )
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
