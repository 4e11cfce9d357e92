"""Writes for review: decisions (one, undo, bulk), the review queue's rows, ambiguity-driven
votes and the project's review settings.

Every decision is a new row of ``ReviewDecision`` (the log is append-only; see models.py);
the decision in force per pair follows by trigger. A decision records the pair's effective
label before and after it, from ``webapp.pairs.labels``, so the log reads on its own.
Locking: a single decision or undo locks its pair row first, so two reviewers deciding on one
pair at once are serialised and each sees the other's decision as "before".
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from webapp.flags.models import Flag
from webapp.labelling import ordering
from webapp.labelling import services as labelling
from webapp.pairs.labels import effective_label, effective_label_sql
from webapp.pairs.models import Pair
from webapp.projects.models import Project
from webapp.review.filters import QueueFilter
from webapp.review.models import (
    AmbiguityRequest,
    AmbiguityRequestPair,
    BulkAction,
    ReviewDecision,
    ReviewItem,
    ReviewSettings,
)

Action = ReviewDecision.Action
DECIDING = (Action.KEEP, Action.FLIP, Action.TIE, Action.DROP, Action.MORE_VOTES)
MAX_EXTRA_VOTES = 20
AMBIGUOUS_ORDER = "most_ambiguous"


class ReviewError(ValueError):
    """A decision that cannot be made as asked; the message says why."""


def _label_after(action: str, before: str, unreviewed: str) -> str:
    if action == Action.KEEP:
        if before not in ("a", "b", "tie"):
            raise ReviewError("keep: the pair has no label to keep")
        return before
    if action == Action.FLIP:
        if before not in ("a", "b"):
            raise ReviewError(f"flip: only an A or B label flips, not {before or 'none'!r}")
        return "b" if before == "a" else "a"
    if action == Action.TIE:
        return "tie"
    if action == Action.DROP:
        return ""
    return unreviewed  # more votes: the label falls back to the human votes


def _what_it_answers(project: Project, pair_id: int, flag_id: int | None) -> dict[str, Any]:
    """The flag a decision answers (the given one, else the pair's most severe) and its run."""
    out: dict[str, Any] = {"flag_id": None, "flag_kind": "", "scoring_run_id": None}
    item = ReviewItem.objects.filter(project=project, pair_id=pair_id).first()
    if item is not None:
        out.update(
            flag_id=item.top_flag_id, flag_kind=item.top_kind, scoring_run_id=item.scoring_run_id
        )
    if flag_id is not None:
        flag = Flag.objects.filter(project=project, pair_id=pair_id, pk=flag_id).first()
        if flag is None:
            raise ReviewError(f"flag {flag_id} is not a flag of pair {pair_id}")
        out.update(flag_id=flag.pk, flag_kind=flag.kind)
        out["scoring_run_id"] = flag.scoring_run_id or out["scoring_run_id"]
    return out


def _locked_pair(project: Project, pair_id: int) -> Pair:
    pair = Pair.objects.select_for_update().filter(project=project, pk=pair_id).first()
    if pair is None:
        raise ReviewError(f"pair {pair_id} is not in this project")
    return pair


def review_decide(
    *,
    project: Project,
    pair_id: int,
    action: str,
    reviewer: Any,
    reason: str = "",
    votes: int = 0,
    flag_id: int | None = None,
    now: datetime | None = None,
) -> ReviewDecision:
    """Record a reviewer's decision on one pair. ``votes``: how many more human votes to ask
    for (action ``more_votes`` only). Raises ReviewError for a decision that does not apply."""
    if action not in DECIDING:
        raise ReviewError(f"unknown action {action!r}: one of {', '.join(DECIDING)}")
    if action == Action.MORE_VOTES and not 1 <= votes <= MAX_EXTRA_VOTES:
        raise ReviewError(f"more votes: ask for 1 to {MAX_EXTRA_VOTES} more votes")
    now = now or timezone.now()
    with transaction.atomic():
        _locked_pair(project, pair_id)
        before = effective_label(project=project, pair_id=pair_id)
        unreviewed = effective_label(project=project, pair_id=pair_id, with_review=False)
        assert before is not None and unreviewed is not None
        label_after = _label_after(action, before.label, unreviewed.label)
        answers = _what_it_answers(project, pair_id, flag_id)
        if action == Action.MORE_VOTES:
            labelling.votes_wanted_raise(project=project, pair_ids=[pair_id], extra=votes)
        return ReviewDecision.objects.create(
            project=project,
            pair_id=pair_id,
            reviewer=reviewer,
            created_at=now,
            action=action,
            outcome=action,
            label_before=before.label,
            source_before=before.source,
            label_after=label_after,
            reason=reason.strip()[:5000],
            votes_requested=votes if action == Action.MORE_VOTES else 0,
            **answers,
        )


def review_undo(
    *, project: Project, pair_id: int, reviewer: Any, reason: str = "", now: datetime | None = None
) -> ReviewDecision:
    """Undo the latest decision on the pair that is not undone yet, as a new decision that puts
    back what was in force before it. Undoing "more votes" takes back the votes it asked for
    that nobody has given or is giving yet."""
    now = now or timezone.now()
    with transaction.atomic():
        _locked_pair(project, pair_id)
        decisions = list(ReviewDecision.objects.filter(pair_id=pair_id).order_by("id"))
        undone = {d.undoes_id for d in decisions if d.action == Action.UNDO}
        targets = [d for d in decisions if d.action != Action.UNDO and d.pk not in undone]
        if not targets:
            raise ReviewError("nothing to undo on this pair")
        target = targets[-1]
        earlier = [d for d in decisions if d.pk < target.pk]
        previous = earlier[-1] if earlier else None
        before = effective_label(project=project, pair_id=pair_id)
        unreviewed = effective_label(project=project, pair_id=pair_id, with_review=False)
        assert before is not None and unreviewed is not None
        outcome = previous.outcome if previous else ""
        if outcome in (Action.KEEP, Action.FLIP, Action.TIE) and previous is not None:
            label_after = previous.label_after
        elif outcome == Action.DROP:
            label_after = ""
        else:
            label_after = unreviewed.label
        if target.action == Action.MORE_VOTES and target.votes_requested:
            labelling.votes_wanted_lower(
                project=project, pair_ids=[pair_id], fewer=target.votes_requested
            )
        return ReviewDecision.objects.create(
            project=project,
            pair_id=pair_id,
            reviewer=reviewer,
            created_at=now,
            action=Action.UNDO,
            outcome=outcome,
            label_before=before.label,
            source_before=before.source,
            label_after=label_after,
            reason=reason.strip()[:5000] or f"undo of decision {target.pk} ({target.action})",
            flag_id=target.flag_id,
            flag_kind=target.flag_kind,
            scoring_run_id=target.scoring_run_id,
            undoes=target,
        )


# --- bulk decisions -------------------------------------------------------------------------

_APPLIES = {
    Action.KEEP: "t.label IN ('a', 'b', 'tie')",
    Action.FLIP: "t.label IN ('a', 'b')",
    Action.TIE: "t.label <> 'tie'",
    Action.DROP: "TRUE",
    Action.MORE_VOTES: "TRUE",
}
_AFTER = {
    Action.KEEP: "t.label",
    Action.FLIP: "CASE t.label WHEN 'a' THEN 'b' ELSE 'a' END",
    Action.TIE: "'tie'",
    Action.DROP: "''",
    Action.MORE_VOTES: "t.unreviewed",
}


def _bulk_targets(project: Project, queue_filter: QueueFilter, action: str) -> tuple[str, dict]:
    """The pairs a bulk action decides: those of the filter it applies to, less the ones
    whose decision in force is that action already (a second bulk flip flips nothing back)."""
    if action not in DECIDING:
        raise ReviewError(f"unknown action {action!r}: one of {', '.join(DECIDING)}")
    where, params = queue_filter.sql()
    parts = effective_label_sql(
        pair="p",
        votes_where="v.pair_id IN (SELECT pair_id FROM review_reviewitem "
        "WHERE project_id = %(project)s)",
    )
    sql = f"""
        SELECT * FROM (
            SELECT i.pair_id, i.top_flag_id, i.top_kind, i.scoring_run_id,
                coalesce(rv.outcome, '') AS in_force,
                coalesce({parts.label}, '') AS label, {parts.source} AS source,
                coalesce({parts.label_unreviewed}, '') AS unreviewed
            FROM {queue_filter.source()} JOIN pairs_pair p ON p.id = i.pair_id
            {parts.joins}
            WHERE i.project_id = %(project)s AND {where}
        ) t
        WHERE t.in_force <> %(action)s AND {_APPLIES[Action(action)]}
    """
    return sql, {"project": project.pk, "action": action, **params}


def review_bulk_preview(*, project: Project, queue_filter: QueueFilter, action: str) -> int:
    """How many pairs ``review_bulk_apply`` would decide now."""
    sql, params = _bulk_targets(project, queue_filter, action)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({sql}) c", params)
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def review_bulk_apply(
    *,
    project: Project,
    queue_filter: QueueFilter,
    action: str,
    reviewer: Any,
    reason: str = "",
    votes: int = 0,
    now: datetime | None = None,
) -> BulkAction:
    """Decide every pair of the filter in one INSERT ... SELECT (their decisions in force
    follow by trigger); with ``more_votes``, one more UPDATE asks for their extra votes."""
    if action == Action.MORE_VOTES and not 1 <= votes <= MAX_EXTRA_VOTES:
        raise ReviewError(f"more votes: ask for 1 to {MAX_EXTRA_VOTES} more votes")
    now = now or timezone.now()
    sql, params = _bulk_targets(project, queue_filter, action)
    with transaction.atomic():
        bulk = BulkAction.objects.create(
            project=project,
            reviewer=reviewer,
            action=action,
            filters=queue_filter.as_dict(),
            reason=reason.strip()[:5000],
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO review_reviewdecision (project_id, pair_id, reviewer_id, created_at,
                    action, outcome, label_before, source_before, label_after, reason,
                    votes_requested, flag_id, flag_kind, scoring_run_id, undoes_id, bulk_id)
                SELECT %(project)s, t.pair_id, %(reviewer)s, %(now)s, %(action)s, %(action)s,
                    t.label, t.source, {_AFTER[Action(action)]}, %(reason)s, %(votes)s,
                    t.top_flag_id, t.top_kind, t.scoring_run_id, NULL, %(bulk)s
                FROM ({sql}) t ORDER BY t.pair_id
                RETURNING pair_id
                """,
                {
                    **params,
                    "reviewer": getattr(reviewer, "pk", None),
                    "now": now,
                    "reason": bulk.reason or f"bulk {action} on {queue_filter.as_dict()}",
                    "votes": votes if action == Action.MORE_VOTES else 0,
                    "bulk": bulk.pk,
                },
            )
            pair_ids = [row[0] for row in cursor.fetchall()]
        if action == Action.MORE_VOTES and pair_ids:
            labelling.votes_wanted_raise(project=project, pair_ids=pair_ids, extra=votes)
        bulk.n_pairs = len(pair_ids)
        bulk.save(update_fields=["n_pairs"])
    return bulk


# --- the review queue -----------------------------------------------------------------------


def review_settings_for(*, project: Project) -> ReviewSettings:
    settings, _ = ReviewSettings.objects.get_or_create(project=project)
    return settings


def _latest_run_id(project: Project) -> int | None:
    from webapp.scoring.models import ScoringRun

    return (
        ScoringRun.objects.filter(project=project, complete=True)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )


def review_queue_rebuild(*, project: Project, run_id: int | None = None) -> int:
    """Rebuild the project's review queue from its flags: those of the latest complete scoring
    run (or ``run_id``) and those tied to no run (checks, people). Set-based: one DELETE and
    one INSERT ... SELECT, then the run's dashboard figures. Call it after writing flags."""
    run_id = run_id if run_id is not None else _latest_run_id(project)
    params = {"project": project.pk, "run": run_id}
    with transaction.atomic(), connection.cursor() as cursor:
        settings = ReviewSettings.objects.select_for_update().get_or_create(project=project)[0]
        cursor.execute("DELETE FROM review_reviewitem WHERE project_id = %(project)s", params)
        cursor.execute("DELETE FROM review_reviewitemkind WHERE project_id = %(project)s", params)
        cursor.execute(
            """
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
                FROM flags_flag f
                WHERE f.project_id = %(project)s
                  AND (f.scoring_run_id IS NULL OR f.scoring_run_id = %(run)s)
                GROUP BY f.pair_id
            ) g
            JOIN pairs_pair p ON p.id = g.pair_id
            LEFT JOIN scoring_pairscore s ON s.run_id = %(run)s AND s.pair_id = g.pair_id
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
            "SELECT DISTINCT kind FROM flags_flag WHERE project_id = %(project)s LIMIT 500",
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
            "SELECT min(mu), max(mu), count(*) FROM scoring_pairscore WHERE run_id = %(run)s",
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
            """
            SELECT width_bucket(s.mu, %(lo)s, %(hi)s, %(bins)s), coalesce(i.top_kind, ''),
                count(*)
            FROM scoring_pairscore s
            LEFT JOIN review_reviewitem i ON i.pair_id = s.pair_id AND i.project_id = %(project)s
            WHERE s.run_id = %(run)s GROUP BY 1, 2 ORDER BY 1, 2
            """,
            params,
        )
        hist = [[int(b), kind, int(c)] for b, kind, c in cursor.fetchall()]
        cursor.execute(
            """
            SELECT g, avg(mu), avg(sigma), count(*) FROM (
                SELECT mu, sigma, ntile(20) OVER (ORDER BY mu) AS g
                FROM scoring_pairscore WHERE run_id = %(run)s) t
            GROUP BY g ORDER BY g
            """,
            params,
        )
        groups = [[int(g), float(m), float(sd), int(c)] for g, m, sd, c in cursor.fetchall()]
        cursor.execute(
            """
            SELECT s.decile, count(*), avg(s.mu), count(*) FILTER (WHERE s.mu > 0),
                count(i.pair_id)
            FROM scoring_pairscore s
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
            """
            SELECT v.annotator_id, u.username, count(*),
                count(*) FILTER (WHERE (v.choice = s.label_scored) = (s.mu > 0)),
                count(*) FILTER (WHERE v.choice = 'a')
            FROM scoring_pairscore s
            JOIN labelling_vote v ON v.pair_id = s.pair_id AND v.choice IN ('a', 'b')
            JOIN auth_user u ON u.id = v.annotator_id
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


# --- ambiguity-driven votes -----------------------------------------------------------------


def review_settings_update(
    *, project: Project, ambiguity_votes: bool, ambiguity_pairs: int, ambiguity_extra_votes: int
) -> ReviewSettings:
    """Turning ambiguity-driven votes on also serves the labelling queue most ambiguous first;
    turning them off gives back the default order."""
    if not 1 <= ambiguity_pairs <= 100_000:
        raise ReviewError("pairs per run: 1 to 100000")
    if not 1 <= ambiguity_extra_votes <= MAX_EXTRA_VOTES:
        raise ReviewError(f"extra votes per pair: 1 to {MAX_EXTRA_VOTES}")
    with transaction.atomic():
        settings = ReviewSettings.objects.select_for_update().get_or_create(project=project)[0]
        settings.ambiguity_votes = ambiguity_votes
        settings.ambiguity_pairs = ambiguity_pairs
        settings.ambiguity_extra_votes = ambiguity_extra_votes
        settings.save()
        if ambiguity_votes:
            Project.objects.filter(pk=project.pk).update(queue_order=AMBIGUOUS_ORDER)
        else:
            Project.objects.filter(pk=project.pk, queue_order=AMBIGUOUS_ORDER).update(
                queue_order=ordering.DEFAULT
            )
    project.refresh_from_db(fields=["queue_order"])
    return settings


# How a scored pair ranks for extra votes: near 1 when the ensemble cannot tell (|mu| small
# against sigma), plus up to 1 when its human votes are split evenly.
_PRIORITY = """
    1.0 / (1.0 + abs(s.mu) / greatest(s.sigma, 1e-6))
    + CASE WHEN coalesce(va.a, 0) + coalesce(va.b, 0) > 0
           THEN 1.0 - abs(va.a - va.b)::float8 / (va.a + va.b) ELSE 0 END
"""


def ambiguity_votes_request(*, run_id: int) -> AmbiguityRequest | None:
    """After a complete scoring run, when the project asks for it: more human votes on its
    most ambiguous or disputed pairs, first in the labelling queue. Once per run."""
    from webapp.scoring.models import ScoringRun

    run = ScoringRun.objects.select_related("project").get(pk=run_id)
    project = run.project
    settings = review_settings_for(project=project)
    if not settings.ambiguity_votes or not run.complete:
        return None
    with transaction.atomic():
        existing = AmbiguityRequest.objects.filter(scoring_run=run).first()
        if existing is not None:
            return existing
        parts = effective_label_sql(
            pair="p",
            votes_where="v.pair_id IN (SELECT pair_id FROM scoring_pairscore "
            "WHERE run_id = %(run)s)",
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT s.pair_id, {_PRIORITY} AS priority, coalesce(q.votes, 0),
                    coalesce({parts.label}, '')
                FROM scoring_pairscore s
                JOIN pairs_pair p ON p.id = s.pair_id
                LEFT JOIN labelling_queueitem q ON q.pair_id = s.pair_id
                {parts.joins}
                WHERE s.run_id = %(run)s AND coalesce(rv.outcome, '') <> 'drop'
                ORDER BY priority DESC, s.pair_id
                LIMIT %(limit)s
                """,
                {"run": run.pk, "limit": settings.ambiguity_pairs},
            )
            picked = cursor.fetchall()
        request = AmbiguityRequest.objects.create(project=project, scoring_run=run)
        ids = [row[0] for row in picked]
        raised = labelling.votes_wanted_raise(
            project=project, pair_ids=ids, extra=settings.ambiguity_extra_votes
        )
        labelling.queue_priority_set(
            project=project, priorities={row[0]: float(row[1]) for row in picked}
        )
        AmbiguityRequestPair.objects.bulk_create(
            [
                AmbiguityRequestPair(
                    request=request, pair_id=pid, priority=float(pr), votes_before=int(votes),
                    label_before=label,
                )
                for pid, pr, votes, label in picked
            ],
            batch_size=5000,
        )  # fmt: skip
        request.n_pairs = raised
        request.votes_asked = raised * settings.ambiguity_extra_votes
        request.save(update_fields=["n_pairs", "votes_asked"])
    return request


def review_after_scoring_run(*, run_id: int) -> None:
    """What review does once a scoring run is complete: rebuild the queue from its flags, and
    ask for ambiguity-driven votes where the project wants them."""
    from webapp.scoring.models import ScoringRun

    run = ScoringRun.objects.select_related("project").get(pk=run_id)
    review_queue_rebuild(project=run.project, run_id=run.pk)
    ambiguity_votes_request(run_id=run.pk)
