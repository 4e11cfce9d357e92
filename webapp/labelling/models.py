"""Votes, and what serving pairs to annotators needs: a queue row per pair, leases, gold answers,
aggregated human labels and agreement reports. Items (a prompt with several responses, see
webapp/pairs/models.py) are served the same way: a queue row per item (``ItemQueueItem``), the
same ``Assignment`` leases, and an ``ItemAnswer`` per annotator whose derived votes on the
item's pairs are ordinary ``Vote`` rows (``Vote.item_answer``).

``QueueItem`` is a denormalised copy of each pair's labelling state (votes cast, leases live,
votes wanted), so "which pair next?" is one walk down a small partial index instead of a count
over the votes of a million pairs. PostgreSQL triggers (migration 0003) keep it true whoever
writes: a pair inserted by the COPY-based importer, the ORM or plain SQL gets its row; a vote
inserted or deleted moves ``votes``; a pair's ``votes_wanted`` or its project's
``votes_per_pair`` changing moves ``wanted``. Only ``leases`` is written by the services here,
because leases exist nowhere else.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from webapp.pairs.models import Item, Pair
from webapp.projects.models import Project


class Assignment(models.Model):
    """One pair, or one item, served to one annotator: a lease while ``leased``, then its
    outcome. Exactly one of ``pair`` and ``item`` is set: the unit the project labels.

    ``token`` is the idempotency key of the vote (or skip) that ends the lease; ``round`` counts
    undos, so a late retry of a vote that was undone since cannot store it again.
    """

    class State(models.TextChoices):
        LEASED = "leased", "Leased"
        VOTED = "voted", "Voted"
        SKIPPED = "skipped", "Skipped"
        EXPIRED = "expired", "Expired"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    pair = models.ForeignKey(
        Pair,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="assignments",
        db_index=False,
    )
    item = models.ForeignKey(
        Item,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="assignments",
        db_index=False,
    )
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    round = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=8, choices=State.choices, default=State.LEASED)
    shown_order = models.CharField(max_length=2, default="ab")
    served_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # Self-consistency (webapp/labelling/repeats.py): a pair (A and B swapped) or an item (its
    # responses shuffled anew) this annotator already answered, served to them again later. A
    # repeat never writes a Vote or an ItemAnswer nor counts on a queue row: see RepeatAnswer.
    repeat_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="repeat"
    )

    class Meta:
        constraints = [
            # One ordinary assignment per pair and annotator; a repeat is the one extra.
            models.UniqueConstraint(
                fields=["pair", "annotator"],
                condition=Q(repeat_of__isnull=True),
                name="one_assignment_per_annotator",
            ),
            models.UniqueConstraint(
                fields=["item", "annotator"],
                condition=Q(item__isnull=False, repeat_of__isnull=True),
                name="one_item_assignment_per_annotator",
            ),
            models.CheckConstraint(
                condition=Q(pair__isnull=False, item__isnull=True)
                | Q(pair__isnull=True, item__isnull=False),
                name="assignment_is_of_a_pair_or_an_item",
            ),
        ]
        indexes = [
            models.Index(
                fields=["project", "annotator", "served_at"],
                condition=Q(state="leased"),
                name="assignment_live",
            ),
            models.Index(
                fields=["project", "expires_at"],
                condition=Q(state="leased"),
                name="assignment_expiry",
            ),
            models.Index(
                fields=["project", "annotator", "finished_at"],
                condition=Q(state="voted"),
                name="assignment_voted",
            ),
        ]

    def __str__(self) -> str:
        unit = f"pair {self.pair_id}" if self.pair_id else f"item {self.item_id}"
        return f"{unit} for {self.annotator_id} ({self.state})"


class Vote(models.Model):
    class Choice(models.TextChoices):
        # Always about the pair's response_a / response_b, never about a screen side.
        A = "a", "A is better"
        B = "b", "B is better"
        TIE = "tie", "Tie"
        BOTH_BAD = "both_bad", "Both bad"

    class Order(models.TextChoices):
        # What the annotator saw on the left: response A ("ab") or response B ("ba").
        AB = "ab", "A left"
        BA = "ba", "B left"

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="votes")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="votes"
    )
    choice = models.CharField(max_length=10, choices=Choice.choices)
    strength = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Index into the project's strength scale."
    )
    rationale = models.TextField(blank=True)
    shown_order = models.CharField(max_length=2, choices=Order.choices, default=Order.AB)
    time_taken_ms = models.PositiveIntegerField(null=True, blank=True)
    # The lease this vote ended; empty for votes imported from files. One vote per served
    # assignment: a double submit or a retried request cannot store a second one.
    assignment = models.OneToOneField(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="vote"
    )
    # A vote derived from an answer on an item (webapp/labelling/derive.py): it goes with the
    # answer, and its pair is one of the item's derived pairs.
    item_answer = models.ForeignKey(
        "ItemAnswer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="derived_votes",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pair", "annotator"], name="one_vote_per_annotator")
        ]
        indexes = [
            models.Index(
                fields=["item_answer"],
                condition=Q(item_answer__isnull=False),
                name="vote_derived",
            )
        ]

    def __str__(self) -> str:
        return f"{self.annotator} on {self.pair_id}: {self.choice}"


class QueueRow(models.Model):
    """What a queue row holds, whatever the unit: answers counted (``votes``: votes on a pair,
    answers on an item), live leases, answers wanted, priority. webapp/labelling/queue.py
    serves either table with the same statements (its ``Unit``)."""

    votes = models.IntegerField(default=0)
    leases = models.IntegerField(default=0)
    wanted = models.IntegerField(default=3)
    # How much more votes on this unit are worth than on others (higher first), for orders
    # that use it: set by the review app's ambiguity-driven votes, 0 otherwise.
    priority = models.FloatField(default=0, db_default=0)
    taken = models.GeneratedField(
        expression=F("votes") + F("leases"),
        output_field=models.IntegerField(),
        db_persist=True,
    )

    class Meta:
        abstract = True


def _open_queue_indexes(*, key: str, prefix: str) -> list[models.Index]:
    """The two partial indexes of a queue's open rows (taken < wanted): fewest votes-or-leases
    first (the default order's whole index), and most ambiguous first (see ordering.py)."""
    open_rows = Q(taken__lt=F("wanted"))
    return [
        models.Index(
            fields=["project", "taken", key], condition=open_rows, name=f"{prefix}_open_fewest"
        ),
        models.Index(
            "project",
            models.F("priority").desc(),
            "taken",
            key,
            condition=open_rows,
            name=f"{prefix}_open_priority",
        ),
    ]


class QueueItem(QueueRow):
    """A pair's labelling state. Kept by triggers, except ``leases``: see the module doc.
    A pair derived from an item's answers wants no votes of its own (its ``votes_wanted``
    is 0); its item is what is served."""

    # No database FK checks: the rows come from the pairs themselves (a trigger inserts them,
    # another deletes them with their pair), and per-row checks would slow bulk imports.
    pair = models.OneToOneField(
        Pair,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="queue_item",
        db_constraint=False,
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        indexes = _open_queue_indexes(key="pair", prefix="queue")

    def __str__(self) -> str:
        return f"pair {self.pair_id}: {self.votes} votes + {self.leases} leases of {self.wanted}"


class ItemQueueItem(QueueRow):
    """An item's labelling state, kept by triggers like QueueItem's (migration
    0007_item_answers): an item inserted gets its row, an answer inserted or deleted moves
    ``votes``, the item's ``answers_wanted`` or the project's ``votes_per_pair`` moves
    ``wanted``."""

    item = models.OneToOneField(
        Item,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="queue_item",
        db_constraint=False,
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )

    class Meta:
        indexes = _open_queue_indexes(key="item", prefix="item_queue")

    def __str__(self) -> str:
        return f"item {self.item_id}: {self.votes} answers + {self.leases} leases of {self.wanted}"


class ItemAnswer(models.Model):
    """One annotator's answer on an item, in the payload shape of its kind
    (webapp/labelling/payloads.py validates it; webapp/labelling/derive.py turns it into
    votes on the item's pairs). Imported rankings and ratings are answers of named imported
    annotators, so agreement is computed over them as over people's."""

    class Kind(models.TextChoices):
        RANKING = "ranking", "Ranking"
        BEST_WORST = "best_worst", "Best and worst"
        RATING = "rating", "Rating"
        PAIRWISE_ATTRIBUTES = "pairwise_attributes", "Pairwise per attribute"
        STEPS = "steps", "Step labels"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="answers")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="item_answers"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    payload = models.JSONField()
    # The item's positions in the order the annotator saw them (drawn per annotator and item);
    # empty for imported answers.
    shown_order = models.JSONField(default=list, blank=True)
    time_taken_ms = models.PositiveIntegerField(null=True, blank=True)
    assignment = models.OneToOneField(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="item_answer"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "annotator"], name="one_answer_per_annotator")
        ]
        indexes = [models.Index(fields=["project", "kind"], name="item_answer_project_kind")]

    def __str__(self) -> str:
        return f"{self.annotator} on item {self.item_id}: {self.kind}"


class GoldAnswer(models.Model):
    """A pair's known answer, set by an admin; annotators' votes on it measure their accuracy."""

    pair = models.OneToOneField(
        Pair, primary_key=True, on_delete=models.CASCADE, related_name="gold_answer"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="gold_answers")
    choice = models.CharField(max_length=10, choices=Vote.Choice.choices)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"gold {self.choice} for pair {self.pair_id}"


class HumanLabel(models.Model):
    """The pair's aggregated human answer: what later stages take as "the humans said"."""

    class Source(models.TextChoices):
        GOLD = "gold", "Gold answer"
        DAWID_SKENE = "dawid_skene", "Dawid-Skene"
        MAJORITY = "majority", "Majority vote"

    pair = models.OneToOneField(
        Pair, primary_key=True, on_delete=models.CASCADE, related_name="human_label"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(max_length=10, choices=Vote.Choice.choices)
    confidence = models.FloatField(help_text="Posterior (Dawid-Skene) or share of votes.")
    source = models.CharField(max_length=12, choices=Source.choices)
    n_votes = models.PositiveIntegerField()
    majority_label = models.CharField(max_length=10, choices=Vote.Choice.choices)
    majority_share = models.FloatField()
    posteriors = models.JSONField(default=dict, help_text="Dawid-Skene posterior per label.")
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"pair {self.pair_id}: {self.label} ({self.source}, {self.confidence:.2f})"


class AgreementReport(models.Model):
    """Agreement figures for a project at one moment; the page shows the latest."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    n_votes = models.PositiveIntegerField()
    alpha = models.FloatField(null=True, blank=True)
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "-created_at"], name="agreement_latest")]

    def __str__(self) -> str:
        return f"agreement of {self.project_id} at {self.created_at:%Y-%m-%d %H:%M}"


class RepeatAnswer(models.Model):
    """An annotator's answer to a pair, or an item, served to them a second time. It is no
    Vote nor ItemAnswer: it never counts toward wanted votes or answers nor enters aggregation;
    it only measures how well the annotator agrees with themselves."""

    assignment = models.OneToOneField(
        Assignment, primary_key=True, on_delete=models.CASCADE, related_name="repeat_answer"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    pair = models.ForeignKey(Pair, null=True, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, null=True, on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # A pair's: like Vote.choice, about response_a / response_b, never a screen side.
    choice = models.CharField(max_length=10, blank=True, default="")
    shown_order = models.CharField(max_length=2)
    # An item's: its kind and cleaned payload, as an ItemAnswer's would be.
    kind = models.CharField(max_length=20, blank=True, default="")
    payload = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["project", "annotator"], name="repeat_project_annotator")]

    def __str__(self) -> str:
        unit = f"pair {self.pair_id}" if self.pair_id else f"item {self.item_id}"
        return f"repeat of {unit} by {self.annotator_id}: {self.choice or self.kind}"
