"""Measure every judge of a project against its people, and flag the pairs where every judge
disagrees with the human label. A service: it writes the JudgeReport the judges page shows and
replaces the project's "judges" flags, in one transaction.

The human label a judge is compared with is the crowd's majority (the most common vote, "both
bad" counted as a tie, an even top a tie), or the pair's gold answer where it has one: a
Dawid-Skene label would already lean on who agrees with whom, which is what is measured here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np
import pandas as pd
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from webapp.flags.models import Flag
from webapp.judges import metrics
from webapp.judges.models import Judge, JudgeReport, JudgeVerdict
from webapp.labelling import agreement
from webapp.labelling.aggregation import project_votes
from webapp.labelling.models import GoldAnswer
from webapp.pairs.models import Pair, Response
from webapp.projects.models import Project
from webapp.scoring.models import PairScore
from webapp.scoring.selectors import latest_complete_run_id

# Metadata keys that name a pair's category, in the order they are tried.
CATEGORY_KEYS = ("category", "subset", "source", "type", "motivation_app")
SOURCE = "judges"


def human_majority(votes: pd.DataFrame, gold: dict[int, str]) -> dict[int, str]:
    """Each voted pair's majority label ("a" / "b" / "tie"), gold answers first."""
    out: dict[int, str] = {}
    for task, labels in votes.groupby("task")["label"]:
        counts = Counter("tie" if v == "both_bad" else v for v in labels)
        (top, n), *rest = counts.most_common()
        out[int(task)] = "tie" if rest and rest[0][1] == n else top
    for pair_id, choice in gold.items():
        out[pair_id] = "tie" if choice == "both_bad" else choice
    return out


def _pair_facts(project: Project) -> dict[int, tuple[int, int, str | None, int | None]]:
    """(length of A, length of B, category, strength decile) of every pair of the project."""
    run_id = latest_complete_run_id(project=project)
    keys = ", ".join(f"p.metadata->>'{key}'" for key in CATEGORY_KEYS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.id, length(ra.text), length(rb.text), coalesce({keys}), s.decile
            FROM {Pair._meta.db_table} p
            JOIN {Response._meta.db_table} ra ON ra.id = p.response_a_id
            JOIN {Response._meta.db_table} rb ON rb.id = p.response_b_id
            LEFT JOIN {PairScore._meta.db_table} s ON s.pair_id = p.id AND s.run_id = %s
            WHERE p.project_id = %s
            """,
            [run_id, project.pk],
        )
        return {row[0]: (row[1], row[2], row[3], row[4]) for row in cursor.fetchall()}


def judges_measure(*, project: Project) -> JudgeReport:
    """Every judge against the human majority and against each annotator; the flags."""
    votes = project_votes(project=project)
    gold = dict(GoldAnswer.objects.filter(project=project).values_list("pair_id", "choice"))
    human = human_majority(votes, gold)
    facts = _pair_facts(project)
    judges = list(Judge.objects.filter(project=project))
    verdicts: dict[int, dict[int, tuple[str, str, str]]] = defaultdict(dict)
    for judge_id, pair_id, choice, ab, ba in JudgeVerdict.objects.filter(
        judge__project=project
    ).values_list("judge_id", "pair_id", "choice", "choice_ab", "choice_ba"):
        verdicts[judge_id][pair_id] = (choice, ab, ba)
    pairwise = _pairwise(votes, verdicts)
    names = dict(
        get_user_model()
        .objects.filter(pk__in=set(votes["worker"].tolist()))
        .values_list("pk", "username")
    )
    data: dict[str, Any] = {
        "n_pairs": len(facts),
        "n_human_labelled": len(human),
        "n_annotators": int(votes["worker"].nunique()) if len(votes) else 0,
        "humans": _humans(pairwise, names),
        "judges": [
            _judge_figures(judge, verdicts[judge.pk], human, facts, pairwise, names)
            for judge in judges
        ],
    }
    disagreed = _all_disagree(human, verdicts)
    data["all_disagree"] = len(disagreed)
    with transaction.atomic():
        # as the scoring and check runs replace theirs: one statement, no ORM cascade (the
        # review stage's append-only decision tables refuse the deletes a cascade would send)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {Flag._meta.db_table} WHERE project_id = %s AND source = %s",
                [project.pk, SOURCE],
            )
        now = timezone.now()
        Flag.objects.bulk_create(
            (
                Flag(
                    project=project,
                    pair_id=pair_id,
                    kind=Flag.Kind.JUDGES_DISAGREE,
                    severity=Flag.SEVERITY[Flag.Kind.JUDGES_DISAGREE],
                    source=SOURCE,
                    details={"human": human[pair_id], "judges": said},
                    created_at=now,
                )
                for pair_id, said in disagreed.items()
            ),
            batch_size=2000,
        )
        return JudgeReport.objects.create(project=project, data=data)


def _pairwise(
    votes: pd.DataFrame, verdicts: dict[int, dict[int, tuple[str, str, str]]]
) -> list[dict[str, Any]]:
    """Cohen's kappa for every two raters with enough pairs in common, people and judges alike
    (a judge is worker -id), as the agreement report computes it for people."""
    rows = [
        (t, w, "tie" if c == "both_bad" else c)
        for t, w, c in votes[["task", "worker", "label"]].itertuples(index=False)
    ]
    for judge_id, said in verdicts.items():
        rows.extend((pair_id, -judge_id, v[0]) for pair_id, v in said.items())
    frame = agreement.votes_frame([(t, w, c, None, None, None) for t, w, c in rows])
    return agreement.cohen_pairwise(frame)


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _with_people(pairwise: list[dict[str, Any]], worker: int) -> list[float]:
    """The kappas of ``worker`` with each person (never with a judge)."""
    out = []
    for p in pairwise:
        if p["kappa"] is None or worker not in (p["a"], p["b"]):
            continue
        other = p["b"] if p["a"] == worker else p["a"]
        if other > 0:
            out.append(p["kappa"])
    return out


def _humans(pairwise: list[dict[str, Any]], names: dict[int, str]) -> dict[str, Any]:
    people = [p for p in pairwise if p["a"] > 0 and p["b"] > 0 and p["kappa"] is not None]
    return {
        "n_pairs_of_annotators": len(people),
        "mean_kappa": _mean([p["kappa"] for p in people]),
        "median_kappa": float(np.median([p["kappa"] for p in people])) if people else None,
    }


def _judge_figures(
    judge: Judge,
    said: dict[int, tuple[str, str, str]],
    human: dict[int, str],
    facts: dict[int, tuple[int, int, str | None, int | None]],
    pairwise: list[dict[str, Any]],
    names: dict[int, str],
) -> dict[str, Any]:
    both = [pair_id for pair_id in said if pair_id in human]
    j = [said[p][0] for p in both]
    h = [human[p] for p in both]
    per_annotator = []
    for p in pairwise:
        if -judge.pk not in (p["a"], p["b"]) or p["kappa"] is None:
            continue
        person = p["b"] if p["a"] == -judge.pk else p["a"]
        if person < 0:
            continue
        per_annotator.append(
            {
                "annotator": names.get(person, str(person)),
                "n": p["n"],
                "kappa": p["kappa"],
                "agreement": p["agreement"],
                "people_kappa": _mean(_with_people(pairwise, person)),
            }
        )
    per_annotator.sort(key=lambda row: -row["n"])
    lengths_a = [facts[p][0] for p in both]
    lengths_b = [facts[p][1] for p in both]
    return {
        "id": judge.pk,
        "name": judge.name,
        "kind": Judge.KIND,
        "source": judge.source,
        "fills_missing": judge.fills_missing,
        "n_verdicts": len(said),
        "overall": metrics.kappa_with_interval(j, h),
        "by_decile": metrics.agreement_by_group(j, h, [facts[p][3] for p in both]),
        "by_category": metrics.agreement_by_group(j, h, [facts[p][2] for p in both]),
        "position": metrics.position_consistency(
            [v[1] for v in said.values()], [v[2] for v in said.values()]
        ),
        "length": {
            "judge": metrics.longer_share(j, lengths_a, lengths_b),
            "people": metrics.longer_share(h, lengths_a, lengths_b),
        },
        # the page lists the 50 annotators with most pairs in common; the means take them all
        "per_annotator": per_annotator[:50],
        "mean_kappa_with_annotators": _mean([row["kappa"] for row in per_annotator]),
        "annotators_mean_kappa": _mean(
            [row["people_kappa"] for row in per_annotator if row["people_kappa"] is not None]
        ),
    }


def _all_disagree(
    human: dict[int, str], verdicts: dict[int, dict[int, tuple[str, str, str]]]
) -> dict[int, dict[str, str]]:
    """Pairs with a decisive human label where every judge that answered said otherwise."""
    names = dict(Judge.objects.filter(pk__in=list(verdicts)).values_list("pk", "name"))
    said: dict[int, dict[str, str]] = defaultdict(dict)
    for judge_id, answers in verdicts.items():
        for pair_id, v in answers.items():
            said[pair_id][names[judge_id]] = v[0]
    return {
        pair_id: answers
        for pair_id, answers in said.items()
        if human.get(pair_id) in ("a", "b") and all(c != human[pair_id] for c in answers.values())
    }
