"""The review queue's filter, shared by the queue page, bulk actions and the API: a typed
value and the SQL conditions it stands for, over the queue row ``i`` (review_reviewitem) and
the pair's decision in force ``rv`` (review_pairreview, LEFT JOINed)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from webapp.labelling.models import Vote

VOTES = Vote._meta.db_table

STATES = {
    "": "Any review state",
    "undecided": "Not decided yet",
    "decided": "Decided (keep, flip, tie or drop)",
    "sent_back": "Sent back for more votes",
    "keep": "Kept",
    "flip": "Flipped",
    "tie": "Made a tie",
    "drop": "Dropped",
}


# The outcomes of the decisions in force that each review state stands for ("undecided" is
# the absence of one).
_STATE_OUTCOMES = {
    "decided": ("keep", "flip", "tie", "drop"),
    "sent_back": ("more_votes",),
    "keep": ("keep",),
    "flip": ("flip",),
    "tie": ("tie",),
    "drop": ("drop",),
}


def state_outcomes(state: str) -> tuple[str, ...]:
    """The outcomes a review state matches; empty for "" (any state) and "undecided"."""
    return _STATE_OUTCOMES.get(state, ())


class FilterError(ValueError):
    """A filter value that cannot be used; the message names the field."""


@dataclass(frozen=True)
class QueueFilter:
    kind: str = ""  # a flag kind, any registered or not
    mu_min: float | None = None
    mu_max: float | None = None
    annotator: int | None = None  # pairs this annotator voted on
    split: str = ""
    state: str = ""  # a key of STATES
    # pairs whose decisive human votes mostly chose the other response than the run scored
    votes_disagree: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", None, False)}

    @classmethod
    def parse(cls, data: Any) -> QueueFilter:
        """From a query dict (GET, POST or JSON); raises FilterError naming the field."""

        def number(name: str) -> float | None:
            raw = data.get(name)
            if raw in (None, ""):
                return None
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise FilterError(f"{name}: {raw!r} is not a number") from None
            if not math.isfinite(value):
                raise FilterError(f"{name}: must be a finite number")
            return value

        annotator = data.get("annotator")
        if annotator in (None, ""):
            annotator_id = None
        else:
            try:
                annotator_id = int(annotator)
            except (TypeError, ValueError):
                raise FilterError(f"annotator: {annotator!r} is not a user id") from None
        state = str(data.get("state") or "")
        if state not in STATES:
            raise FilterError(f"state: {state!r} is not one of {', '.join(k for k in STATES if k)}")
        raw_disagree = data.get("votes_disagree")
        return cls(
            kind=str(data.get("kind") or "")[:40],
            mu_min=number("mu_min"),
            mu_max=number("mu_max"),
            annotator=annotator_id,
            split=str(data.get("split") or "")[:20],
            state=state,
            votes_disagree=raw_disagree in (True, "1", "on", "true", "yes"),
        )

    @property
    def by_kind_rows(self) -> bool:
        """Whether the queue is walked along the kind's own rows (review_reviewitemkind).

        A kind alone: its rows in rank order, at once. A kind with a strength range or a split:
        walking the kind's rows would look up every one of them in the queue to test its mu or
        split, which for a combination that few pairs match means the whole kind (half a
        second at a million pairs); walking the queue itself tests the kind, mu and split on
        each row it reads, several times faster, and never reads more than the queue."""
        return bool(self.kind) and self.mu_min is None and self.mu_max is None and not self.split

    def source(self) -> str:
        """The queue rows to walk, as ``i`` (and ``ik``, the rows of the kind filtered on)."""
        if self.by_kind_rows:
            return (
                "review_reviewitemkind ik JOIN review_reviewitem i ON i.pair_id = ik.pair_id "
                "AND ik.project_id = i.project_id"
            )
        return "review_reviewitem i"

    def order(self) -> str:
        """The queue's order for ``source``: by the rank of the index it walks."""
        return "ik.rank" if self.by_kind_rows else "i.rank"

    def sql(self) -> tuple[str, dict[str, Any]]:
        """AND-ed conditions and their parameters (names prefixed ``f_``)."""
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if self.by_kind_rows:
            # the caller walks review_reviewitemkind for a kind (see ``source``)
            clauses.append("ik.kind = %(f_kind)s")
            params["f_kind"] = self.kind
        elif self.kind:
            clauses.append("i.kinds @> ARRAY[%(f_kind)s]::varchar[]")
            params["f_kind"] = self.kind
        if self.mu_min is not None:
            clauses.append("i.mu >= %(f_mu_min)s")
            params["f_mu_min"] = self.mu_min
        if self.mu_max is not None:
            clauses.append("i.mu <= %(f_mu_max)s")
            params["f_mu_max"] = self.mu_max
        if self.annotator is not None:
            clauses.append(
                f"EXISTS (SELECT 1 FROM {VOTES} av WHERE av.pair_id = i.pair_id "
                "AND av.annotator_id = %(f_annotator)s)"
            )
            params["f_annotator"] = self.annotator
        if self.split:
            clauses.append("i.split = %(f_split)s")
            params["f_split"] = self.split
        if self.state == "undecided":
            clauses.append("coalesce(rv.outcome, '') = ''")
        elif self.state:
            clauses.append("rv.outcome = ANY(%(f_state)s)")
            params["f_state"] = list(state_outcomes(self.state))
        if self.votes_disagree:
            clauses.append(
                f"""i.label_scored IN ('a', 'b') AND (
                    SELECT count(*) FILTER (WHERE dv.choice IN ('a', 'b')
                                              AND dv.choice <> i.label_scored)
                         > count(*) FILTER (WHERE dv.choice = i.label_scored)
                    FROM {VOTES} dv WHERE dv.pair_id = i.pair_id)"""
            )
        return (" AND ".join(clauses) or "TRUE"), params
