from __future__ import annotations

from django.conf import settings
from django.db import models

from webapp.pairs.models import Pair


class Vote(models.Model):
    class Choice(models.TextChoices):
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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pair", "annotator"], name="one_vote_per_annotator")
        ]

    def __str__(self) -> str:
        return f"{self.annotator} on {self.pair_id}: {self.choice}"
