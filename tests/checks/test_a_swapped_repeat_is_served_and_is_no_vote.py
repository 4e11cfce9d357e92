"""Self-consistency: with repeats on, a voted pair comes back to the same annotator later with
A and B swapped; the answer is kept apart from the votes and feeds self-agreement."""

from __future__ import annotations

from typing import Any

from tests.labelling.helpers import annotator, lease, make_pairs, vote
from webapp.checks.selectors import self_agreement
from webapp.checks.services import checks_settings_save
from webapp.labelling import services
from webapp.labelling.models import Assignment, QueueItem, RepeatAnswer, Vote


def _repeats_on(project: Any, gap: int) -> None:
    # share 1: every vote is repeated once, after `gap` more votes
    checks_settings_save(project=project, values={"repeat_share": 1.0, "repeat_gap": gap})


def test_a_repeat_comes_after_the_gap_swapped_and_never_counts(project: Any) -> None:
    pairs = make_pairs(project, 4, votes_wanted=1)
    ann = annotator(project, "ann")
    _repeats_on(project, gap=2)
    first = lease(project, ann)
    assert first is not None and first.repeat_of_id is None
    # "left" on the first showing: the response shown left wins
    assert vote(project, ann, first, "left").status == "stored"
    original = Vote.objects.get(assignment=first)
    later = []
    for _ in range(2):  # two more votes: the gap
        a = lease(project, ann)
        assert a is not None and a.repeat_of_id is None
        vote(project, ann, a, "tie")
        later.append(a)
    repeat = lease(project, ann)
    assert repeat is not None
    assert repeat.repeat_of_id == first.pk and repeat.pair_id == first.pair_id
    assert {repeat.shown_order, first.shown_order} == {"ab", "ba"}
    votes_before = QueueItem.objects.get(pair_id=first.pair_id).votes
    # the same response again: it is now on the right
    result = vote(project, ann, repeat, "right")
    assert result.status == "stored" and result.vote_id is None
    answer = RepeatAnswer.objects.get(assignment=repeat)
    assert answer.choice == original.choice
    assert Vote.objects.filter(pair_id=first.pair_id).count() == 1
    queue = QueueItem.objects.get(pair_id=first.pair_id)
    assert (queue.votes, queue.leases) == (votes_before, 0)
    # a double submit stores nothing more
    assert vote(project, ann, repeat, "left").status == "duplicate"
    assert RepeatAnswer.objects.filter(pair_id=first.pair_id).count() == 1
    # a vote is repeated once: next comes the second vote's repeat (two votes after it now)
    nxt = lease(project, ann)
    assert nxt is not None and nxt.repeat_of_id == later[0].pk
    assert len(pairs) == 4
    rows = self_agreement(project=project)
    assert [(r.name, r.repeats, r.same, r.same_side) for r in rows] == [("ann", 1, 1, 0)]


def test_a_flipped_answer_on_the_same_side_shows_as_side_picking(project: Any) -> None:
    make_pairs(project, 3, votes_wanted=1)
    ann = annotator(project, "bob")
    _repeats_on(project, gap=1)
    first = lease(project, ann)
    assert first is not None
    vote(project, ann, first, "left")
    second = lease(project, ann)
    assert second is not None and second.repeat_of_id is None
    vote(project, ann, second, "both_bad")
    repeat = lease(project, ann)
    assert repeat is not None and repeat.repeat_of_id == first.pk
    vote(project, ann, repeat, "left")  # left again, but left is now the other response
    [row] = self_agreement(project=project)
    assert (row.repeats, row.same, row.same_side, row.share) == (1, 0, 1, 0.0)


def test_repeats_are_off_by_default_and_undo_passes_over_them(project: Any) -> None:
    make_pairs(project, 2, votes_wanted=1)
    ann = annotator(project, "cy")
    a = lease(project, ann)
    assert a is not None
    vote(project, ann, a, "left")
    b = lease(project, ann)
    assert b is not None and b.repeat_of_id is None
    vote(project, ann, b, "left")
    assert lease(project, ann) is None  # nothing open, and no repeat unless turned on
    _repeats_on(project, gap=0)
    repeat = lease(project, ann)
    assert repeat is not None and repeat.repeat_of_id == a.pk
    vote(project, ann, repeat, "tie")
    undone = services.vote_undo(project=project, annotator=ann)
    assert undone is not None and undone.assignment_id == b.pk  # the last real vote
    assert Assignment.objects.get(pk=repeat.pk).state == "voted"
