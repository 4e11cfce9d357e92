"""Writes into the flags sink for producers that raise flags outside a scoring run's own COPY
(webapp/scoring/services.py writes the ensemble's there in its final transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from webapp.flags.models import Flag
from webapp.projects.models import Project

BATCH = 5000


@dataclass(frozen=True)
class NewFlag:
    pair_id: int
    kind: str
    details: dict[str, Any] = field(default_factory=dict)


def flags_replace(
    *, project: Project, source: str, scoring_run_id: int | None, flags: Sequence[NewFlag]
) -> int:
    """Replace the flags that ``source`` raised in this scoring run with ``flags``, in batches.
    Runs in the caller's transaction (call it inside one, so the old flags never vanish alone)."""
    Flag.objects.filter(project=project, source=source, scoring_run_id=scoring_run_id).delete()
    rows = [
        Flag(
            project=project,
            pair_id=f.pair_id,
            kind=f.kind,
            severity=Flag.SEVERITY.get(Flag.Kind(f.kind), 1),
            source=source,
            scoring_run_id=scoring_run_id,
            details=f.details,
        )
        for f in flags
    ]
    Flag.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)
