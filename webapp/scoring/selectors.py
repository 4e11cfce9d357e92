from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from webapp.flags.models import Flag
from webapp.pairs.labels import effective_labels
from webapp.pairs.previews import with_previews
from webapp.pairs.selectors import pair_texts
from webapp.projects.models import Project
from webapp.scoring.models import PairScore, ScoringRun


def latest_complete_run(*, project: Project) -> ScoringRun | None:
    """The project's newest complete scoring run: the one pages, checks, review and exports
    read unless told another."""
    return ScoringRun.objects.filter(project=project, complete=True).order_by("-id").first()


def latest_complete_run_id(*, project: Project) -> int | None:
    return (
        ScoringRun.objects.filter(project=project, complete=True)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )


def run_extremes(*, run: ScoringRun, limit: int = 15) -> dict[str, list[PairScore]]:
    """The most negative pairs (likely mislabelled) and those nearest zero (ambiguous), each
    with ``.preview`` of its pair's texts."""
    base: QuerySet[PairScore] = PairScore.objects.filter(run=run)
    negative = list(base.order_by("mu")[:limit])
    # nearest zero, using the (run, mu) index from both sides instead of sorting by |mu|
    above = list(base.filter(mu__gte=0).order_by("mu")[:limit])
    below = list(base.filter(mu__lt=0).order_by("-mu")[:limit])
    ambiguous = sorted(above + below, key=lambda s: abs(s.mu))[:limit]
    with_previews(negative + ambiguous)
    return {"negative": negative, "ambiguous": ambiguous}


def run_mu_values(*, run: ScoringRun) -> list[float]:
    return list(PairScore.objects.filter(run=run).values_list("mu", flat=True))


def run_charts(*, run: ScoringRun) -> dict[str, Any]:
    """Plotly figures as JSON: the mu histogram and sigma against mu in 20 groups."""
    import plotly.graph_objects as go

    mu = run_mu_values(run=run)
    hist = go.Figure(go.Histogram(x=mu, nbinsx=60, marker_color="#2f5bd3"))
    hist.add_vline(x=0, line_dash="dash", line_color="#b42318")
    hist.update_layout(
        xaxis_title="mu = mean of r(chosen) - r(rejected)", yaxis_title="pairs",
        margin={"t": 10, "l": 50, "r": 10, "b": 40}, height=300,
    )  # fmt: skip
    bins = run.summary.get("sigma_bins", {})
    sigma = go.Figure(
        go.Scatter(
            x=bins.get("mu_mean", []), y=bins.get("sigma_mean", []), mode="lines+markers",
            text=[f"{c} pairs" for c in bins.get("count", [])],
        )
    )  # fmt: skip
    sigma.update_layout(
        xaxis_title="mu (group mean)", yaxis_title="sigma (group mean)",
        margin={"t": 10, "l": 50, "r": 10, "b": 40}, height=300,
    )  # fmt: skip
    return {"mu_hist": hist.to_json(), "sigma_vs_mu": sigma.to_json()}


def scoring_runs_for_project(*, project: Project) -> QuerySet[ScoringRun]:
    """The project's scoring runs, newest first."""
    return ScoringRun.objects.filter(project=project).order_by("-id")


def scores_for_run(*, run: ScoringRun, decile: int | None = None) -> QuerySet[PairScore]:
    """One run's per-pair scores (of one decile of mu, if given), in pair id order."""
    scores = PairScore.objects.filter(run=run)
    if decile is not None:
        scores = scores.filter(decile=decile)
    return scores.order_by("pair_id")


@dataclass
class LabelledPairs:
    """A project's pairs that have an a/b effective label, as parallel lists, each pair
    oriented so that ``chosen`` is the labelled response."""

    ids: list[int]
    prompts: list[Any]
    chosen: list[str]
    rejected: list[str]
    labels: list[str]
    sources: list[str]
    agreement: list[float]
    metadata: list[dict[str, Any]]
    group_keys: list[bytes]
    chosen_keys: list[bytes]


def labelled_pairs(*, project: Project) -> LabelledPairs:
    """Every pair with an a/b effective label, oriented so that `chosen` is the labelled one."""
    labels = effective_labels(project=project)
    texts = pair_texts(project=project)
    out = LabelledPairs([], [], [], [], [], [], [], [], [], [])
    for i, pair_id in enumerate(texts.ids):
        eff = labels.get(pair_id)
        if eff is None or eff.label not in ("a", "b"):
            continue
        a, b = texts.a_text[i], texts.b_text[i]
        ah, bh = texts.a_hash[i], texts.b_hash[i]
        out.ids.append(pair_id)
        out.prompts.append(texts.prompts[i])
        out.chosen.append(a if eff.label == "a" else b)
        out.rejected.append(b if eff.label == "a" else a)
        out.labels.append(eff.label)
        out.sources.append(eff.source)
        out.agreement.append(eff.agreement if eff.agreement is not None else float("nan"))
        out.metadata.append(texts.metadata[i])
        # the same prompt and the same two responses, whatever their order
        out.group_keys.append(texts.prompt_hash[i] + min(ah, bh) + max(ah, bh))
        out.chosen_keys.append(ah if eff.label == "a" else bh)
    return out


def step_flags_to_relabel(*, run_id: int) -> list[int]:
    """The items a steps run flagged for their first error or their final answer."""
    kinds = [Flag.Kind.FIRST_ERROR_FAR, Flag.Kind.ANSWER_CONTRADICTION]
    return sorted(
        set(
            Flag.objects.filter(
                scoring_run_id=run_id, kind__in=kinds, item__isnull=False
            ).values_list("item_id", flat=True)
        )
    )
