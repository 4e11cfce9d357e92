"""The review queue that learns: a project's noise model fitted on the answers so far (see
webapp/review/answers.py), P(wrong) for every pair of the scoring run, and the flags it adds.

The model itself is workers/rm/noise.py (scikit-learn, no Django). This module gathers its
features in one set-based query, writes P(wrong) per pair with COPY and the fit in one final
transaction, and decides when a refit is due: after every ``ReviewSettings.refit_every`` new
answers (a job, started from the decision's commit), and after each scoring or check run
(webapp/pipeline.py, which then rebuilds the queue in the fit's order).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from webapp.checks.selectors import CHECK_KINDS
from webapp.flags.models import Flag
from webapp.jobs.models import Job
from webapp.jobs.runs import run_create
from webapp.labelling.models import Vote
from webapp.pairs.models import Pair, Response
from webapp.projects.models import Project
from webapp.review.answers import flag_precision, run_answers
from webapp.review.models import NoiseFit, PairNoise, PairReview, ReviewSettings
from webapp.scoring.models import PairScore
from webapp.scoring.selectors import latest_complete_run_id

FLAGS = Flag._meta.db_table
PAIRS = Pair._meta.db_table
RESPONSES = Response._meta.db_table
REVIEWS = PairReview._meta.db_table
SCORES = PairScore._meta.db_table
VOTES = Vote._meta.db_table
NOISE = PairNoise._meta.db_table

SOURCE = "noise_model"
# Pairs the fitted model finds more likely wrong than right get a flag of their own, so that
# the queue shows them even when no rule flagged them.
FLAG_AT = 0.5
# Check flags are features of the model (1 where the pair has one): CHECK_KINDS, the kinds
# the checks raise.

# What each feature is, in words, for the page that says why a pair is where it is.
FEATURE_NAMES = {
    "prior_logit": "the ensemble prefers the other response (-mu)",
    "sigma": "the ensemble's members disagree (sigma)",
    "members_against": "share of ensemble members against the label",
    "decile": "strength decile",
    "votes": "human votes",
    "votes_against": "share of human votes against the label",
    "voters_agreement": "how often its voters agree with others",
    "voters_side_bias": "its voters' lean to one screen side",
    "length_diff": "the chosen response is longer",
    **{f"check_{k.value}": f"check: {k.label}" for k in CHECK_KINDS},
}


def feature_label(name: str) -> str:
    if name.startswith("missing "):
        return f"no value for: {feature_label(name.removeprefix('missing '))}"
    return FEATURE_NAMES.get(name, name.replace("_", " "))


def queue_reason(*, exploring: bool, why: list[Any], p_wrong: float | None) -> str:
    """Why a pair is where it is in the learning queue, in words."""
    if p_wrong is None:
        return ""
    if exploring:
        return f"exploring: the noise model is least sure about this pair (P(wrong) {p_wrong:.2f})"
    reasons = "; ".join(feature_label(str(name)) for name, _ in why) or "the prior"
    return f"P(wrong) {p_wrong:.2f}: {reasons}"


def learning_settings_update(
    *, project: Project, queue_order: str, explore_share: float, refit_every: int
) -> ReviewSettings:
    """The review queue's order and how the noise model learns; raises ValueError naming the
    bad field. The queue takes the new order when it is next rebuilt."""
    if queue_order not in ReviewSettings.QueueOrder.values:
        raise ValueError(f"queue order: one of {', '.join(ReviewSettings.QueueOrder.values)}")
    if not 0.0 <= explore_share <= 0.5:
        raise ValueError("explore share: between 0 and 0.5")
    if not 0 <= refit_every <= 100_000:
        raise ValueError("refit every: 0 (never) to 100000 answers")
    settings = ReviewSettings.objects.get_or_create(project=project)[0]
    settings.queue_order, settings.explore_share = queue_order, explore_share
    settings.refit_every = refit_every
    settings.save(update_fields=["queue_order", "explore_share", "refit_every"])
    return settings


def _features_sql() -> str:
    checks = ", ".join(
        f"bool_or(f.kind = '{k.value}')::int AS check_{k.value}" for k in CHECK_KINDS
    )
    return f"""
        WITH scored AS (
            SELECT s.pair_id, s.label_scored, s.mu, s.sigma, s.decile,
                (SELECT avg((m < 0)::int) FROM unnest(s.margins) m) AS members_against
            FROM {SCORES} s WHERE s.run_id = %(run)s
        ), pv AS (
            SELECT v.pair_id, count(*) FILTER (WHERE v.choice = 'a') AS a,
                count(*) FILTER (WHERE v.choice = 'b') AS b
            FROM {VOTES} v JOIN scored USING (pair_id)
            WHERE v.choice IN ('a', 'b') GROUP BY v.pair_id
        ), ann AS (
            -- each annotator: how often an A/B vote sides with the majority of the others
            -- on its pair, and how far their choices lean to the left or right side
            SELECT v.annotator_id,
                avg(CASE WHEN v.choice = 'a' THEN (pv.a - 1 > pv.b)::int
                         ELSE (pv.b - 1 > pv.a)::int END)
                    FILTER (WHERE (pv.a - (v.choice = 'a')::int) <> (pv.b - (v.choice = 'b')::int))
                    AS agreement,
                abs(avg(((v.choice = 'a') = (v.shown_order = 'ab'))::int) - 0.5) AS side_bias
            FROM {VOTES} v JOIN pv ON pv.pair_id = v.pair_id
            WHERE v.choice IN ('a', 'b') GROUP BY v.annotator_id
        ), voters AS (
            SELECT v.pair_id, avg(ann.agreement) AS agreement, avg(ann.side_bias) AS side_bias
            FROM {VOTES} v JOIN scored USING (pair_id)
            JOIN ann ON ann.annotator_id = v.annotator_id
            WHERE v.choice IN ('a', 'b') GROUP BY v.pair_id
        ), checks AS (
            SELECT f.pair_id, {checks}
            FROM {FLAGS} f JOIN scored USING (pair_id)
            WHERE f.project_id = %(project)s AND f.scoring_run_id IS NULL GROUP BY f.pair_id
        )
        SELECT sc.pair_id, -sc.mu, sc.sigma, sc.members_against, sc.decile,
            coalesce(pv.a + pv.b, 0),
            CASE WHEN pv.a + pv.b > 0 THEN (CASE WHEN sc.label_scored = 'a' THEN pv.b
                 ELSE pv.a END)::float8 / (pv.a + pv.b) END,
            voters.agreement, voters.side_bias,
            (length(rc.text) - length(rr.text))::float8 / (length(rc.text) + length(rr.text) + 1),
            {", ".join(f"coalesce(checks.check_{k.value}, 0)" for k in CHECK_KINDS)}
        FROM scored sc
        JOIN {PAIRS} p ON p.id = sc.pair_id
        JOIN {RESPONSES} rc ON rc.id = CASE WHEN sc.label_scored = 'a' THEN p.response_a_id
                                       ELSE p.response_b_id END
        JOIN {RESPONSES} rr ON rr.id = CASE WHEN sc.label_scored = 'a' THEN p.response_b_id
                                       ELSE p.response_a_id END
        LEFT JOIN pv ON pv.pair_id = sc.pair_id
        LEFT JOIN voters ON voters.pair_id = sc.pair_id
        LEFT JOIN checks ON checks.pair_id = sc.pair_id
        ORDER BY sc.pair_id
    """


COLUMNS = (
    "prior_logit", "sigma", "members_against", "decile", "votes", "votes_against",
    "voters_agreement", "voters_side_bias", "length_diff",
    *(f"check_{k.value}" for k in CHECK_KINDS),
)  # fmt: skip


def run_features(*, project_id: int, run_id: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(pair ids, features by name) of every pair the run scored, in pair id order."""
    with connection.cursor() as cursor:
        cursor.execute(_features_sql(), {"project": project_id, "run": run_id})
        rows = cursor.fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    values = np.array([[np.nan if v is None else float(v) for v in r[1:]] for r in rows])
    values = values.reshape(len(rows), len(COLUMNS))
    features = {name: values[:, j] for j, name in enumerate(COLUMNS)}
    # a feature that is the same for every pair (no votes at all, no check ever flagged)
    # says nothing; leaving it out keeps the model and its "why" readable
    kept = {
        k: v
        for k, v in features.items()
        if k == "prior_logit" or (np.isfinite(v).sum() > 1 and np.nanstd(v) > 0)
    }
    return ids, kept


def noise_fit_create(*, project: Project, created_by: Any = None, job: bool = True) -> NoiseFit:
    """A queued fit of the project's noise model on its latest complete scoring run; with
    ``job=False`` no job (the caller executes it in-process, as the pipeline does)."""
    run_id = latest_complete_run_id(project=project)
    if not job:
        return NoiseFit.objects.create(
            project=project, scoring_run_id=run_id, created_by=created_by
        )
    return run_create(
        NoiseFit, job_kind="noise", project=project, params={}, config={},
        created_by=created_by, scoring_run_id=run_id,
    )  # fmt: skip


def noise_fit_execute(
    *, run: NoiseFit, progress: Callable[..., None], cancelled: Callable[[], bool] | None = None
) -> NoiseFit:
    """Fit the noise model and store P(wrong) per pair, the fit and its flags (replacing the
    project's earlier noise flags) in one transaction."""
    from workers.rm.noise import NoiseConfig, fit_noise_model

    settings = ReviewSettings.objects.get_or_create(project_id=run.project_id)[0]
    config = NoiseConfig(explore_share=settings.explore_share)
    if run.scoring_run_id is None:
        run.source, run.complete, run.finished_at = "", True, timezone.now()
        run.save()
        return run
    progress(0, 3, "gathering what is known about each pair")
    ids, features = run_features(project_id=run.project_id, run_id=run.scoring_run_id)
    answers = run_answers(run_id=run.scoring_run_id)
    index = {int(pid): i for i, pid in enumerate(ids)}
    answered = np.array([index[int(p)] for p in answers.pair_ids if int(p) in index], dtype=int)
    wrong = np.array([w for p, w in zip(answers.pair_ids, answers.wrong, strict=True)
                      if int(p) in index], dtype=bool)  # fmt: skip
    progress(1, 3, f"fitting on {len(answered)} answers")
    scores = fit_noise_model(features=features, answered=answered, wrong=wrong, config=config)
    progress(2, 3, "storing P(wrong)")
    precision = [asdict(p) for p in flag_precision(project_id=run.project_id,
                                                   run_id=run.scoring_run_id)]  # fmt: skip
    _store(run, ids, scores, config.to_dict(), answers.by_source, precision, int(wrong.sum()))
    return run


def _store(
    run: NoiseFit,
    ids: np.ndarray,
    scores: Any,
    config: dict[str, Any],
    by_source: dict[str, int],
    precision: list[dict[str, Any]],
    n_wrong: int,
) -> None:
    now = timezone.now()
    flagged = set(
        Flag.objects.filter(project_id=run.project_id)
        .exclude(source=SOURCE)
        .filter(scoring_run_id__in=[run.scoring_run_id, None])
        .values_list("pair_id", flat=True)
    )
    with transaction.atomic(), connection.cursor() as cursor:
        locked = NoiseFit.objects.select_for_update().get(pk=run.pk)
        if locked.complete:
            return  # a retried task found the work done
        raw = cursor.cursor
        raw.execute(f"DELETE FROM {NOISE} WHERE project_id = %s", [run.project_id])
        columns = "pair_id, project_id, fit_id, p_wrong, doubt, why"
        with raw.copy(f"COPY {NOISE} ({columns}) FROM STDIN") as c:
            for i, pair_id in enumerate(ids.tolist()):
                why = [[name, round(part, 4)] for name, part in scores.why(i)]
                c.write_row((pair_id, run.project_id, run.pk, float(scores.p_wrong[i]),
                             float(scores.doubt[i]), json.dumps(why)))  # fmt: skip
        Flag.objects.filter(project_id=run.project_id, source=SOURCE).delete()
        if scores.source == "model":
            rows = np.flatnonzero(scores.p_wrong >= FLAG_AT)
            kind = Flag.Kind.LIKELY_WRONG
            Flag.objects.bulk_create(
                [
                    Flag(project_id=run.project_id, pair_id=int(ids[i]), kind=kind,
                         severity=Flag.SEVERITY[kind], source=SOURCE,
                         scoring_run_id=run.scoring_run_id, created_at=now,
                         details={"p_wrong": round(float(scores.p_wrong[i]), 4)})
                    for i in rows if int(ids[i]) not in flagged
                ],
                batch_size=5000,
            )  # fmt: skip
        run.source = scores.source
        run.n_answers = scores.n_answers
        run.n_wrong = n_wrong
        run.metrics = {**scores.metrics, "answers_by_source": by_source, "precision": precision}
        run.coefficients = scores.coefficients
        run.config = config
        run.complete, run.finished_at = True, now
        run.save()


def latest_fit(*, project: Project) -> NoiseFit | None:
    return NoiseFit.objects.filter(project=project, complete=True).order_by("-id").first()


def answers_since_fit(*, project: Project) -> int:
    """Decisions taken since the latest complete fit (new answers, at most: an undo or a
    "more votes" is a decision too)."""
    fit = latest_fit(project=project)
    decisions = PairReview.objects.filter(project_id=project.pk)
    if fit is not None and fit.created_at is not None:
        decisions = decisions.filter(decided_at__gt=fit.created_at)
    return decisions.count()


def noise_refit_if_due(*, project: Project) -> NoiseFit | None:
    """Start a refit when ``refit_every`` decisions were taken since the last fit and none is
    queued or running. Called once a decision is committed."""
    settings = ReviewSettings.objects.filter(project=project).first()
    every = settings.refit_every if settings is not None else 20
    if every == 0 or answers_since_fit(project=project) < every:
        return None
    busy = NoiseFit.objects.filter(
        project=project, complete=False, job__status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
    )
    if busy.exists():
        return None
    return noise_fit_create(project=project)
