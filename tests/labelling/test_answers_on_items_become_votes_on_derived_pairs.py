"""Stored answers on an item derive ordinary pairs with votes and mean margins; an item gets a
queue row of its own and its derived pairs want no votes of their own."""

from __future__ import annotations

import pytest

from tests.labelling.helpers import annotator, make_items
from webapp.labelling.item_scores import item_scores
from webapp.labelling.items import AnswerRow, item_answers_derive, item_answers_store
from webapp.labelling.models import ItemAnswer, ItemQueueItem, QueueItem, Vote
from webapp.pairs.labels import effective_labels
from webapp.pairs.models import Pair
from webapp.projects.services import project_create

pytestmark = pytest.mark.django_db


def test_two_rankings_give_pairs_with_votes_and_their_mean_margin() -> None:
    project = project_create(name="ranks", label_scheme="ranking", votes_per_pair=2)
    (item,) = make_items(project, 1, k=3)
    ann, bob = annotator(project, "ann"), annotator(project, "bob")
    stored = item_answers_store(
        project=project,
        answers=[
            AnswerRow(item.pk, ann.pk, "ranking", {"tiers": [[0], [1], [2]]}),
            AnswerRow(item.pk, bob.pk, "ranking", {"tiers": [[1], [0, 2]]}),
        ],
    )
    assert (stored.answers_created, stored.pairs_created, stored.votes_created) == (2, 3, 6)
    pairs = {tuple(p.metadata["positions"]): p for p in Pair.objects.filter(item=item)}
    assert set(pairs) == {(0, 1), (0, 2), (1, 2)}
    # ann: 0 > 1 (+1), 0 > 2 (+2), 1 > 2 (+1); bob: 1 > 0 (-1), 0 = 2 (0), 1 > 2 (+1)
    assert {k: p.margin for k, p in pairs.items()} == {(0, 1): 0.0, (0, 2): 1.0, (1, 2): 1.0}
    assert all(p.attribute == "" and p.votes_wanted == 0 for p in pairs.values())
    first = pairs[(0, 1)]
    texts = (first.response_a.text, first.response_b.text)
    assert texts == ("Response 0.0", "Response 0.1")
    choices = {
        (tuple(v.pair.metadata["positions"]), v.annotator.username): v.choice
        for v in Vote.objects.select_related("pair", "annotator")
    }
    assert choices == {
        ((0, 1), "ann"): "a", ((0, 2), "ann"): "a", ((1, 2), "ann"): "a",
        ((0, 1), "bob"): "b", ((0, 2), "bob"): "tie", ((1, 2), "bob"): "a",
    }  # fmt: skip
    labels = effective_labels(project=project)
    # 0-1 split one each way: a tie; 0-2 one decisive vote for a; 1-2 both a.
    assert {k: labels[p.pk].label for k, p in pairs.items()} == {
        (0, 1): "tie", (0, 2): "a", (1, 2): "a"
    }  # fmt: skip
    # The item is served, its pairs are not.
    assert ItemQueueItem.objects.get(item=item).votes == 2
    assert ItemQueueItem.objects.get(item=item).wanted == 2
    wanted = set(QueueItem.objects.filter(pair__item=item).values_list("wanted", flat=True))
    assert wanted == {0}


def test_deriving_again_adds_nothing_and_an_undone_answer_takes_its_votes() -> None:
    project = project_create(name="ranks", label_scheme="ranking")
    (item,) = make_items(project, 1, k=3)
    ann, bob = annotator(project, "ann"), annotator(project, "bob")
    rows = [
        AnswerRow(item.pk, ann.pk, "ranking", {"tiers": [[2], [1], [0]]}),
        AnswerRow(item.pk, bob.pk, "ranking", {"tiers": [[0], [1], [2]]}),
    ]
    item_answers_store(project=project, answers=rows)
    again = item_answers_derive(project=project, item_ids=[item.pk])
    assert (again.pairs_created, again.votes_created) == (0, 0)
    assert item_answers_store(project=project, answers=rows).answers_created == 0
    assert Vote.objects.count() == 6
    ItemAnswer.objects.filter(annotator=bob).delete()
    item_answers_derive(project=project, item_ids=[item.pk])
    assert Vote.objects.count() == 3
    margins = {tuple(p.metadata["positions"]): p.margin for p in Pair.objects.filter(item=item)}
    assert margins == {(0, 1): -1.0, (0, 2): -2.0, (1, 2): -1.0}
    assert ItemQueueItem.objects.get(item=item).votes == 1


def test_ratings_derive_pairs_per_attribute_and_overall() -> None:
    settings = {
        "attributes": [
            {"name": "help", "low": 1, "high": 5},
            {"name": "brevity", "low": 1, "high": 5},
        ],
        "overall": {"help": 1},
    }
    project = project_create(name="rated", label_scheme="rating", scheme_settings=settings)
    (item,) = make_items(project, 1, k=2)
    ann = annotator(project, "ann")
    item_answers_store(
        project=project,
        answers=[
            AnswerRow(
                item.pk,
                ann.pk,
                "rating",
                {"ratings": {"0": {"help": 2, "brevity": 5}, "1": {"help": 4, "brevity": 5}}},
            )
        ],
    )
    got = {(p.attribute, p.margin) for p in Pair.objects.filter(item=item)}
    assert got == {("help", -2.0), ("brevity", 0.0), ("", -2.0)}
    labels = effective_labels(project=project)
    by_attribute = {p.attribute: labels[p.pk].label for p in Pair.objects.filter(item=item)}
    # a lone tie vote is no decisive vote: the pair keeps its (empty) imported label
    assert by_attribute == {"help": "b", "brevity": "", "": "b"}


def test_answers_read_back_as_scores_per_position_and_attribute() -> None:
    settings = {"attributes": [{"name": "help", "low": 0, "high": 4}], "overall": {"help": 2}}
    project = project_create(name="scores", label_scheme="rating", scheme_settings=settings)
    first, second = make_items(project, 2, k=2)
    ann = annotator(project, "ann")
    item_answers_store(
        project=project,
        answers=[
            AnswerRow(
                first.pk, ann.pk, "rating", {"ratings": {"0": {"help": 1}, "1": {"help": 3}}}
            ),
            AnswerRow(
                second.pk, ann.pk, "rating", {"ratings": {"0": {"help": 4}, "1": {"help": 0}}}
            ),
        ],
    )
    rows = list(item_scores(project=project, with_overall=False))
    assert [(r.item_id, r.position, r.attribute, r.value) for r in rows] == [
        (first.pk, 0, "help", 1.0), (first.pk, 1, "help", 3.0),
        (second.pk, 0, "help", 4.0), (second.pk, 1, "help", 0.0),
    ]  # fmt: skip
    overall = [
        r.value for r in item_scores(project=project, item_ids=[second.pk]) if r.attribute == ""
    ]
    assert overall == [4.0, 0.0]  # a weighted mean of one attribute is that attribute
