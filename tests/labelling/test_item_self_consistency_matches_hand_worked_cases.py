"""An annotator's answers to repeated items against their first answers, worked by hand: tau-b
of a ranking, the absolute difference of ratings per attribute, the share of attributes given
the same choice; each shown per annotator on the agreement page and entering no other figure."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.labelling.helpers import annotator, lease, make_items
from webapp.labelling.aggregation import votes_aggregate
from webapp.labelling.item_agreement import choice_consistency
from webapp.labelling.item_answers import item_answer_submit
from webapp.labelling.models import Vote
from webapp.labelling.repeats import repeat_settings_save
from webapp.projects.services import project_create

pytestmark = pytest.mark.django_db


def answer_then_repeat(project: Any, user: Any, first: Any, again: Any) -> None:
    """The annotator answers the project's one item, then its repeat (share 1, gap 0)."""
    repeat_settings_save(project=project, share=1.0, gap=0)
    for payload, is_repeat in ((first, False), (again, True)):
        assignment = lease(project, user)
        assert assignment is not None and (assignment.repeat_of_id is not None) == is_repeat
        result = item_answer_submit(project=project, annotator=user, token=assignment.token,
                                    round=0, payload=payload)  # fmt: skip
        assert result.status == "stored"


def test_a_repeated_ranking_gives_tau_with_the_first_and_nothing_else(
    admin_user: Any, admin_client: Any
) -> None:
    project = project_create(name="ranks", label_scheme="ranking", created_by=admin_user)
    make_items(project, 1, k=3)
    ann = annotator(project, "ann")
    # 0 > 1 > 2, then 1 > 0 > 2: pairs (0,1) discordant, (0,2) and (1,2) concordant:
    # tau = (2 - 1) / 3
    answer_then_repeat(project, ann, {"tiers": [[0], [1], [2]]}, {"tiers": [[1], [0], [2]]})
    assert Vote.objects.count() == 3  # the first answer's three pairs, no more
    rankings = votes_aggregate(project=project).data["item_figures"]["rankings"]
    assert (rankings["n_answers"], rankings["n_repeats"]) == (1, 1)
    (row,) = rankings["annotators"]
    assert row["answers"] == 1
    assert row["self_consistency"] == {"n": 1, "tau_mean": pytest.approx(1 / 3), "same": 0.0}
    page = admin_client.get(reverse("labelling:agreement", args=[project.pk])).content.decode()
    assert "tau 0.333 over 1" in page


def test_repeated_ratings_give_the_difference_per_attribute(
    admin_user: Any, admin_client: Any
) -> None:
    scales = [{"name": n, "low": 0, "high": 4} for n in ("help", "tone")]
    settings = {"attributes": scales, "overall": {"help": 1}}
    project = project_create(name="rated", label_scheme="rating", scheme_settings=settings,
                             created_by=admin_user)  # fmt: skip
    make_items(project, 1, k=2)
    ann = annotator(project, "ann")
    first = {"ratings": {"0": {"help": 3, "tone": 1}, "1": {"help": 1, "tone": 2}}}
    again = {"ratings": {"0": {"help": 2, "tone": 1}, "1": {"help": 1, "tone": 4}}}
    # help: |2-3| = 1, |1-1| = 0; tone: 0, |4-2| = 2
    answer_then_repeat(project, ann, first, again)
    ratings = votes_aggregate(project=project).data["item_figures"]["ratings"]
    assert (ratings["n_ratings"], ratings["n_repeats"]) == (4, 4)
    (row,) = ratings["annotators"]
    assert row["ratings"] == 4
    assert row["self_consistency"] == {
        "n": 4,
        "same": 0.5,
        "mean_abs_diff": 0.75,
        "by_attribute": {
            "help": {"n": 2, "same": 0.5, "mean_abs_diff": 0.5},
            "tone": {"n": 2, "same": 0.5, "mean_abs_diff": 1.0},
        },
    }
    page = admin_client.get(reverse("labelling:agreement", args=[project.pk])).content.decode()
    assert "50% the same of 4, mean |difference| 0.75" in page
    assert "help 0.50, tone 1.00" in page


def test_repeated_choices_per_attribute_give_the_share_kept(
    admin_user: Any, admin_client: Any
) -> None:
    names = ("help", "safety", "tone")
    settings = {"attributes": [{"name": n, "low": 0, "high": 1} for n in names]}
    project = project_create(name="pairs", label_scheme="pairwise_attributes",
                             scheme_settings=settings, created_by=admin_user)  # fmt: skip
    make_items(project, 1, k=2)
    ann = annotator(project, "ann")
    first = {"overall": "a", "attributes": {"help": "a", "safety": "tie", "tone": "b"}}
    again = {"overall": "a", "attributes": {"help": "a", "safety": "b", "tone": "b"}}
    answer_then_repeat(project, ann, first, again)
    votes = Vote.objects.count()
    pairwise = votes_aggregate(project=project).data["item_figures"]["pairwise"]
    assert (pairwise["n_answers"], pairwise["n_repeats"]) == (1, 1)
    (row,) = pairwise["annotators"]
    assert row["username"] == "ann" and row["answers"] == 1
    assert row["self_consistency"] == {
        "n": 1,
        "same": pytest.approx(2 / 3),
        "by_attribute": {"help": 1.0, "safety": 0.0, "tone": 1.0},
        "overall_same": 1.0,
    }
    assert Vote.objects.count() == votes == 4  # overall and three attributes, once each
    page = admin_client.get(reverse("labelling:agreement", args=[project.pk])).content.decode()
    assert "67% of attributes the same over 1, overall the same 100%" in page


def test_choice_consistency_pools_the_attributes_of_every_repeat() -> None:
    def choices(overall: str, help: str, tone: str) -> dict[str, Any]:
        return {"overall": overall, "attributes": {"help": help, "tone": tone}}

    first = {(1, 7): choices("a", "a", "a"), (2, 7): choices("b", "b", "tie"),
             (1, 8): choices("a", "a", "b")}  # fmt: skip
    again = {
        (1, 7): choices("a", "a", "b"),
        (2, 7): choices("a", "a", "b"),
        (3, 8): choices("a", "a", "a"),
    }  # worker 8's item 3 has no first answer: left out
    # worker 7: help kept 1 of 2, tone 0 of 2: 1 of 4 attributes; overall kept 1 of 2
    assert choice_consistency(first, again) == {
        7: {"n": 2, "same": 0.25, "by_attribute": {"help": 0.5, "tone": 0.0},
            "overall_same": 0.5}
    }  # fmt: skip
