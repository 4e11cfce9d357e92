"""Review decisions: one, its undo, and bulk decisions over a filter of the queue.

Every decision is a new row of ``ReviewDecision`` (the log is append-only; see models.py);
the decision in force per pair follows by trigger. A decision records the pair's effective
label before and after it, from ``webapp.pairs.labels``, so the log reads on its own.
Locking: a single decision or undo locks its pair row first, so two reviewers deciding on one
pair at once are serialised and each sees the other's decision as "before".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from webapp.flags.models import Flag
from webapp.labelling import queue
from webapp.pairs.labels import effective_label, effective_label_sql
from webapp.pairs.models import Pair
from webapp.projects.models import Project
from webapp.review.filters import QueueFilter
from webapp.review.learning import noise_refit_if_due
from webapp.review.models import (
    BulkAction,
    ReviewDecision,
    ReviewItem,
)

PAIRS = Pair._meta.db_table

Action = ReviewDecision.Action


DECIDING = (Action.KEEP, Action.FLIP, Action.TIE, Action.DROP, Action.MORE_VOTES)


MAX_EXTRA_VOTES = 20
DEFAULT_EXTRA_VOTES = 2  # what the review pages offer for "send back for more votes"


class ReviewError(ValueError):
    """A decision that cannot be made as asked; the message says why."""


class ReviewConflict(ReviewError):
    """A well-formed decision that the pair's state does not allow now (nothing to undo, no
    label to keep or flip)."""


class ReviewNotFound(ReviewError):
    """A decision naming a pair or flag that is not there (or not in this project)."""


def _label_after(action: str, before: str, unreviewed: str) -> str:
    if action == Action.KEEP:
        if before not in ("a", "b", "tie"):
            raise ReviewConflict("keep: the pair has no label to keep")
        return before
    if action == Action.FLIP:
        if before not in ("a", "b"):
            raise ReviewConflict(f"flip: only an A or B label flips, not {before or 'none'!r}")
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
            raise ReviewNotFound(f"flag {flag_id} is not a flag of pair {pair_id}")
        out.update(flag_id=flag.pk, flag_kind=flag.kind)
        out["scoring_run_id"] = flag.scoring_run_id or out["scoring_run_id"]
    return out


def _refit_when_due(project: Project) -> None:
    """Once the decision commits, the noise model learns from it when enough new answers came
    in (webapp/review/learning.py)."""
    transaction.on_commit(lambda: noise_refit_if_due(project=project))


def _locked_pair(project: Project, pair_id: int) -> Pair:
    pair = Pair.objects.select_for_update().filter(project=project, pk=pair_id).first()
    if pair is None:
        raise ReviewNotFound(f"pair {pair_id} is not in this project")
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
            queue.votes_wanted_raise(project=project, pair_ids=[pair_id], extra=votes)
        _refit_when_due(project)
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
            raise ReviewConflict("nothing to undo on this pair")
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
            queue.votes_wanted_lower(
                project=project, pair_ids=[pair_id], fewer=target.votes_requested
            )
        _refit_when_due(project)
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
            FROM {queue_filter.source()} JOIN {PAIRS} p ON p.id = i.pair_id
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
            queue.votes_wanted_raise(project=project, pair_ids=pair_ids, extra=votes)
        bulk.n_pairs = len(pair_ids)
        bulk.save(update_fields=["n_pairs"])
        _refit_when_due(project)
    return bulk
