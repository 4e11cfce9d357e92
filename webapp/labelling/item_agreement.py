"""Agreement figures of a project whose unit is an item (ranking, rating, pairwise per
attribute), for the agreement report that ``aggregation.votes_aggregate`` stores, under
``data["item_figures"]``.

Answers are read as ``item_scores`` gives them; the statistics are the pure functions of
``rating_agreement`` and ``ranking_agreement``. Every scheme's answers also derive votes on
ordinary pairs, one set per attribute: Krippendorff's alpha of those votes, attribute by
attribute, is the figure the pairwise-per-attribute scheme has (and the others have beside
their own).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.contrib.auth import get_user_model

from webapp.labelling import agreement, ranking_agreement, rating_agreement
from webapp.labelling.item_scores import item_scores
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
    if project.label_scheme == Project.LabelScheme.RATING:
        settings = scheme_settings_of(project)
        scales = {a.name: (a.low, a.high) for a in settings.attributes}
        frame = rating_agreement.ratings_frame(scores)
        if not frame.empty:
            out["ratings"] = rating_agreement.report(frame, scales)
            out["ratings"]["scales"] = {name: list(scale) for name, scale in scales.items()}
    elif project.label_scheme == Project.LabelScheme.RANKING:
        frame = ranking_agreement.rankings_frame(scores)
        if not frame.empty:
            out["rankings"] = ranking_agreement.report(frame)
    _name_annotators(out)
    return out


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
        for part in ("ratings", "rankings")
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
