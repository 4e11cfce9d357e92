"""Agreement figures of a project whose unit is an item (ranking, rating, pairwise per
attribute), for the agreement report that ``aggregation.votes_aggregate`` stores, under
``data["item_figures"]``.

Answers are read as ``item_scores`` gives them; the statistics are the pure functions of
``rating_agreement`` and ``ranking_agreement``. Every scheme's answers also derive votes on
ordinary pairs, one set per attribute: Krippendorff's alpha of those votes, attribute by
attribute, is the figure the pairwise-per-attribute scheme has (and the others have beside
their own).

Self-consistency: the answers to an annotator's repeats (webapp/labelling/repeats.py) are read
beside their first answers, each repeat after every first answer (``with_repeats``), and enter
only the self-consistency figures: tau-b with the first ranking, the absolute difference from
the first rating per attribute, and for pairwise per attribute the share of attributes given
the same choice (``choice_consistency``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.contrib.auth import get_user_model

from webapp.labelling import agreement, ranking_agreement, rating_agreement
from webapp.labelling.item_scores import item_payloads, item_scores
from webapp.pairs.models import Pair
from webapp.projects.models import Project
from webapp.projects.schemes import scheme_settings_of

ITEM_SCHEMES = (
    Project.LabelScheme.RANKING,
    Project.LabelScheme.RATING,
    Project.LabelScheme.PAIRWISE_ATTRIBUTES,
)
# The overall pairs' figures are keyed by this name ("" is the overall attribute).
OVERALL = "overall"


def item_agreement_report(*, project: Project, votes: pd.DataFrame) -> dict[str, Any] | None:
    """The item figures of the project, JSON-ready; None for a pairwise project. ``votes``:
    the project's votes table (``aggregation.project_votes``), derived pairs' votes among them."""
    if project.label_scheme not in ITEM_SCHEMES:
        return None
    out: dict[str, Any] = {
        "scheme": project.label_scheme,
        "pair_alpha": _pair_alphas(project, votes),
    }
    scores = list(item_scores(project=project))
    again = list(item_scores(project=project, repeats=True))
    if project.label_scheme == Project.LabelScheme.RATING:
        settings = scheme_settings_of(project)
        scales = {a.name: (a.low, a.high) for a in settings.attributes}
        frame = rating_agreement.ratings_frame(scores)
        if not frame.empty:
            frame = with_repeats(frame, rating_agreement.ratings_frame(again))
            out["ratings"] = rating_agreement.report(frame, scales)
            out["ratings"]["scales"] = {name: list(scale) for name, scale in scales.items()}
    elif project.label_scheme == Project.LabelScheme.RANKING:
        frame = ranking_agreement.rankings_frame(scores)
        if not frame.empty:
            frame = with_repeats(frame, ranking_agreement.rankings_frame(again))
            out["rankings"] = ranking_agreement.report(frame)
    else:
        out["pairwise"] = _pairwise_report(project)
    _name_annotators(out)
    return out


def with_repeats(first: pd.DataFrame, again: pd.DataFrame) -> pd.DataFrame:
    """A table of first answers (``ratings_frame``, ``rankings_frame``) with the repeats'
    rows after them: each repeat's answer id above every first one, as ``split_repeats``
    reads them. A repeat whose first answer is gone (undone) is left out."""
    if again.empty:
        return first
    firsts = first[["item", "worker"]].drop_duplicates()
    again = again.merge(firsts, on=["item", "worker"])
    again["answer"] += int(first["answer"].max()) + 1
    return pd.concat([first, again[first.columns]], ignore_index=True)


Answers = dict[tuple[int, int], dict[str, Any]]  # (item, annotator) -> payload


def choice_consistency(first: Answers, again: Answers) -> dict[int, dict[str, Any]]:
    """Per annotator with repeats of pairwise-per-attribute answers, each repeat against their
    first answer on the item: how many repeats, the share of attributes given the same choice
    (over every attribute of every repeat), that share per attribute, and the share of repeats
    with the same overall choice."""
    out: dict[int, dict[str, Any]] = {}
    for (item, worker), payload in sorted(again.items()):
        before = first.get((item, worker))
        if before is None:
            continue
        row = out.setdefault(worker, {"n": 0, "overall": 0, "by_attribute": {}})
        row["n"] += 1
        row["overall"] += int(payload["overall"] == before["overall"])
        for name, choice in payload["attributes"].items():
            if name in before["attributes"]:
                tally = row["by_attribute"].setdefault(name, [0, 0])
                tally[0] += int(choice == before["attributes"][name])
                tally[1] += 1
    return {
        worker: {
            "n": row["n"],
            "same": (
                sum(t[0] for t in row["by_attribute"].values())
                / max(1, sum(t[1] for t in row["by_attribute"].values()))
            ),
            "by_attribute": {name: t[0] / t[1] for name, t in sorted(row["by_attribute"].items())},
            "overall_same": row["overall"] / row["n"],
        }
        for worker, row in out.items()
    }


def _pairwise_report(project: Project) -> dict[str, Any]:
    """Per annotator of a pairwise-per-attribute project: answers, and self-consistency."""

    def read(repeats: bool) -> Answers:
        rows = item_payloads(project=project, repeats=repeats)
        return {(i, w): p for i, w, kind, p in rows if kind == "pairwise_attributes"}

    first, again = read(False), read(True)
    consistency = choice_consistency(first, again)
    answers = pd.Series([worker for _, worker in first], dtype="int64").value_counts()
    return {
        "n_answers": len(first),
        "n_repeats": sum(row["n"] for row in consistency.values()),
        "annotators": [
            {"worker": int(w), "answers": int(n), "self_consistency": consistency.get(int(w))}
            for w, n in sorted(answers.items())
        ],
    }


def _pair_alphas(project: Project, votes: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per attribute of the derived pairs: the direction alpha (B better < tie < A better) of
    their votes, with how many pairs and votes it stands on."""
    attributes = dict(
        Pair.objects.filter(project=project, item__isnull=False).values_list("id", "attribute")
    )
    if not attributes or votes.empty:
        return {}
    named = votes.assign(attribute=votes["task"].map(attributes)).dropna(subset=["attribute"])
    out = {}
    for attribute, group in named.groupby("attribute", sort=True):
        figures = agreement.alphas(group.drop(columns="attribute"), only="direction")
        out[str(attribute) or OVERALL] = {
            "alpha": figures["direction"],
            "pairs": int(group["task"].nunique()),
            "votes": len(group),
        }
    return out


def _name_annotators(report: dict[str, Any]) -> None:
    rows = [
        row
        for part in ("ratings", "rankings", "pairwise")
        for row in report.get(part, {}).get("annotators", [])
    ]
    pairs = report.get("rankings", {}).get("kendall_tau", {}).get("by_pair", [])
    ids = {row["worker"] for row in rows} | {p[k] for p in pairs for k in ("a", "b")}
    names = dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
    for row in rows:
        row["username"] = names.get(row["worker"], str(row["worker"]))
    for pair in pairs:
        pair["a_name"] = names.get(pair["a"], str(pair["a"]))
        pair["b_name"] = names.get(pair["b"], str(pair["b"]))
