"""Aggregate a project's votes: one HumanLabel per voted pair, and an AgreementReport.

A service (it writes), run by the ``aggregate_votes`` job or command. It reads every vote of
the project in one query, hands the table to the pure functions of ``agreement``, and writes
the labels set-based (COPY into a staging table, then one upsert and one delete), so a million
pairs cost a few statements.

Each pair's human label, in order of trust:
  gold         an admin's known answer (confidence 1);
  dawid_skene  crowd-kit's Dawid-Skene label, its posterior as confidence;
  majority     the most common vote and its share, where Dawid-Skene could not run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from webapp.labelling import agreement
from webapp.labelling.item_agreement import item_agreement_report
from webapp.labelling.models import AgreementReport, GoldAnswer, HumanLabel
from webapp.pairs.models import Pair
from webapp.projects.models import Project

PAIRS = Pair._meta.db_table

log = logging.getLogger("preflab.labelling")
Progress = Callable[[int, int, str], None]
STEPS = 4


def project_votes(*, project: Project) -> pd.DataFrame:
    """Every vote of the project as the votes table of ``agreement``."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT v.pair_id, v.annotator_id, v.choice, v.strength,
                CASE WHEN v.assignment_id IS NULL OR v.choice NOT IN ('a', 'b') THEN NULL
                     ELSE (v.choice = 'a') = (v.shown_order = 'ab') END,
                v.time_taken_ms
            FROM labelling_vote v JOIN {PAIRS} p ON p.id = v.pair_id
            WHERE p.project_id = %s
            """,
            [project.pk],
        )
        rows = cursor.fetchall()
    return agreement.votes_frame(rows)


def votes_aggregate(*, project: Project, progress: Progress | None = None) -> AgreementReport:
    """Recompute the project's human labels and agreement figures from all its votes."""

    def step(done: int, message: str) -> None:
        if progress:
            progress(done, STEPS, message)

    step(0, "Reading votes")
    votes = project_votes(project=project)
    gold = dict(GoldAnswer.objects.filter(project=project).values_list("pair_id", "choice"))
    step(1, f"Aggregating {len(votes)} votes")
    if votes.empty:
        labels = pd.DataFrame()
        data: dict[str, Any] = {"n_votes": 0, "n_pairs": 0, "n_annotators": 0}
    else:
        labels = agreement.aggregate(votes, gold)
        step(2, "Measuring agreement")
        data = agreement.report(votes, gold)
        _name_annotators(data)
        data["labels"] = _label_summary(labels)
    items = item_agreement_report(project=project, votes=votes)
    if items is not None:
        data["item_figures"] = items
    step(3, "Storing labels")
    with transaction.atomic():
        _store_labels(project, labels, gold)
        report = AgreementReport.objects.create(
            project=project,
            n_votes=len(votes),
            alpha=(data.get("alpha") or {}).get("value"),
            data=data,
        )
    step(STEPS, f"{len(labels)} pairs labelled from {len(votes)} votes")
    return report


def _name_annotators(data: dict[str, Any]) -> None:
    ids = {row["worker"] for row in data["annotators"]}
    names = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    for row in data["annotators"]:
        row["username"] = names.get(row["worker"], str(row["worker"]))
    for pair in data["cohen"]["pairs"]:
        pair["a_name"] = names.get(pair["a"], str(pair["a"]))
        pair["b_name"] = names.get(pair["b"], str(pair["b"]))


def _label_summary(labels: pd.DataFrame) -> dict[str, Any]:
    confidence = labels["ds_confidence"].dropna()
    counts, edges = np.histogram(confidence, bins=10, range=(0.0, 1.0))
    return {
        "majority": {k: int(v) for k, v in labels["majority_label"].value_counts().items()},
        "dawid_skene": {k: int(v) for k, v in labels["ds_label"].dropna().value_counts().items()},
        "changed_by_ds": int(
            (labels["ds_label"].notna() & (labels["ds_label"] != labels["majority_label"])).sum()
        ),
        "confidence_hist": {"counts": counts.tolist(), "edges": edges.round(2).tolist()},
    }


def _store_labels(project: Project, labels: pd.DataFrame, gold: dict[int, str]) -> None:
    """Replace the project's HumanLabel rows with ``labels``, set-based. Runs in the caller's
    transaction."""
    now = timezone.now()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute(
            """
            CREATE TEMP TABLE IF NOT EXISTS stage_human_label (pair_id bigint, label text,
                confidence float8, source text, n_votes int, majority_label text,
                majority_share float8, posteriors jsonb);
            TRUNCATE stage_human_label;
            """
        )
        with raw.copy(
            "COPY stage_human_label (pair_id, label, confidence, source, n_votes, majority_label,"
            " majority_share, posteriors) FROM STDIN"
        ) as copy:
            for task, row in labels.iterrows():
                copy.write_row(_label_row(int(task), row, gold))
        raw.execute(
            """
            DELETE FROM labelling_humanlabel h WHERE h.project_id = %(project)s
                AND NOT EXISTS (SELECT 1 FROM stage_human_label s WHERE s.pair_id = h.pair_id)
            """,
            {"project": project.pk},
        )
        raw.execute(
            """
            INSERT INTO labelling_humanlabel (pair_id, project_id, label, confidence, source,
                n_votes, majority_label, majority_share, posteriors, computed_at)
            SELECT pair_id, %(project)s, label, confidence, source, n_votes, majority_label,
                majority_share, posteriors, %(now)s FROM stage_human_label
            ON CONFLICT (pair_id) DO UPDATE SET label = EXCLUDED.label,
                confidence = EXCLUDED.confidence, source = EXCLUDED.source,
                n_votes = EXCLUDED.n_votes, majority_label = EXCLUDED.majority_label,
                majority_share = EXCLUDED.majority_share, posteriors = EXCLUDED.posteriors,
                computed_at = EXCLUDED.computed_at
            """,
            {"project": project.pk, "now": now},
        )
        raw.execute("TRUNCATE stage_human_label")


def _label_row(task: int, row: pd.Series, gold: dict[int, str]) -> tuple[Any, ...]:
    posteriors = json.dumps(row["posteriors"])
    if task in gold:
        label, confidence, source = gold[task], 1.0, HumanLabel.Source.GOLD
    elif row["ds_label"] is not None and row["ds_label"] == row["ds_label"]:
        label, confidence = row["ds_label"], float(row["ds_confidence"])
        source = HumanLabel.Source.DAWID_SKENE
    else:
        label, confidence = row["majority_label"], float(row["majority_share"])
        source = HumanLabel.Source.MAJORITY
    return (
        task,
        label,
        confidence,
        source.value,
        int(row["n_votes"]),
        row["majority_label"],
        float(row["majority_share"]),
        posteriors,
    )
