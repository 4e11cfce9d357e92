"""An answer that picks A overall while every attribute it judged favours B or ties is flagged
on the item's overall pair; answers whose overall follows an attribute are not."""

from __future__ import annotations

from typing import Any

import pytest

from tests.labelling.helpers import annotator, make_items
from webapp.flags.models import Flag
from webapp.labelling.items import AnswerRow, item_answers_store
from webapp.projects.services import project_create
from webapp.scoring.attributes import answer_contradictions_flag
from webapp.scoring.services import ScoringOptions, scoring_run_create

pytestmark = pytest.mark.django_db

SETTINGS = {
    "attributes": [
        {"name": "helpfulness", "low": 0, "high": 4},
        {"name": "safety", "low": 0, "high": 4},
    ],
    "overall": {},
}


def answer(overall: str, helpfulness: str, safety: str) -> dict[str, Any]:
    return {"overall": overall, "attributes": {"helpfulness": helpfulness, "safety": safety}}


def test_only_the_answer_that_contradicts_its_attributes_is_flagged(admin_user: Any) -> None:
    project = project_create(
        name="pa",
        label_scheme="pairwise_attributes",
        scheme_settings=SETTINGS,
        created_by=admin_user,
    )
    first, second, third = make_items(project, 3, k=2)
    ann, bob = annotator(project, "ann"), annotator(project, "bob")
    item_answers_store(
        project=project,
        answers=[
            AnswerRow(first.pk, ann.pk, "pairwise_attributes", answer("a", "b", "tie")),
            AnswerRow(first.pk, bob.pk, "pairwise_attributes", answer("b", "b", "tie")),
            # a trade-off: A more helpful, B safer; either overall is consistent
            AnswerRow(second.pk, ann.pk, "pairwise_attributes", answer("a", "a", "b")),
            # every attribute a tie: an overall choice contradicts nothing
            AnswerRow(third.pk, ann.pk, "pairwise_attributes", answer("b", "tie", "tie")),
        ],
    )
    run = scoring_run_create(project=project, options=ScoringOptions())

    assert answer_contradictions_flag(run=run) == 1

    flag = Flag.objects.get(scoring_run=run)
    assert flag.kind == "overall_contradicts" and flag.source == "attribute_answers"
    assert flag.pair.item_id == first.pk and flag.pair.attribute == ""
    assert flag.details == {"annotators": [ann.pk], "overall": "a"}
    assert answer_contradictions_flag(run=run) == 1  # again: replaced, not added
    assert Flag.objects.filter(scoring_run=run).count() == 1
