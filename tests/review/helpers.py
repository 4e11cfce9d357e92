"""Flagged, scored pairs for review tests, made set-based as scoring makes them."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from tests.labelling.helpers import make_pairs
from webapp.flags.models import Flag
from webapp.pairs.models import Pair
from webapp.projects.models import Project
from webapp.review.models import ReviewSettings
from webapp.scoring.models import PairScore, ScoringRun


def scored_flagged_pairs(
    project: Project, mus: list[float], *, kinds: list[str] | None = None, label: str = "a"
) -> tuple[ScoringRun, list[Pair]]:
    """One pair per mu, imported with ``label``, scored by one complete run (two members) and
    flagged with kinds[i] (default: likely mislabelled when mu < 0, else ambiguous)."""
    pairs = make_pairs(project, len(mus))
    Pair.objects.filter(pk__in=[p.pk for p in pairs]).update(imported_label=label)
    run = ScoringRun.objects.create(
        project=project, complete=True, n_pairs=len(mus), member_names=["m1", "m2"],
        finished_at=timezone.now(),
    )  # fmt: skip
    PairScore.objects.bulk_create(
        [
            PairScore(
                run=run, pair=p, label_scored=label, mu=mu, sigma=0.5,
                p_label=0.5, margins=[mu - 0.5, mu + 0.5], decile=min(9, i * 10 // len(mus)),
            )
            for i, (p, mu) in enumerate(zip(pairs, mus, strict=True))
        ]
    )  # fmt: skip
    Flag.objects.bulk_create(
        [
            Flag(
                project=project, pair=p, scoring_run=run, source="scoring",
                kind=(kinds[i] if kinds else ("likely_mislabelled" if mu < 0 else "ambiguous")),
                severity=Flag.SEVERITY.get(
                    Flag.Kind(kinds[i]) if kinds and kinds[i] in Flag.Kind.values else
                    (Flag.Kind.LIKELY_MISLABELLED if mu < 0 else Flag.Kind.AMBIGUOUS), 1
                ),
            )
            for i, (p, mu) in enumerate(zip(pairs, mus, strict=True))
        ]
    )  # fmt: skip
    return run, pairs


def reviewer(project: Project, name: str = "rita", *, login: bool = False) -> Any:
    from tests.labelling.helpers import annotator

    return annotator(project, name, role="reviewer", login=login)


def in_severity_order(project: Project) -> None:
    """The project's review queue in the severity order (most severe flag first, then most
    negative mu) instead of the learning order."""
    ReviewSettings.objects.update_or_create(
        project=project, defaults={"queue_order": ReviewSettings.QueueOrder.SEVERITY}
    )
