"""One table for every flag, whatever raised it: the ensemble, a consistency check, a person.

A flag is about a pair, or (``item``, with no pair) about an item that derives none: a
solution of a steps project, flagged by the step model's run."""

from __future__ import annotations

from django.db import models

from webapp.pairs.models import Item, Pair
from webapp.projects.models import Project


class Flag(models.Model):
    class Kind(models.TextChoices):
        LIKELY_MISLABELLED = "likely_mislabelled", "Likely mislabelled"
        AMBIGUOUS = "ambiguous", "Ambiguous"
        UNSTABLE = "unstable", "Unstable (models disagree)"
        HUMAN_VS_ENSEMBLE = "human_vs_ensemble", "Human votes against the ensemble"
        DEGENERATE = "degenerate", "Chosen and rejected are the same text"
        DUPLICATE_CONFLICT = "duplicate_conflict", "Duplicate pair with a conflicting label"
        # Consistency checks (webapp/checks, source="checks")
        LABEL_CYCLE = "label_cycle", "Labels form a cycle (A > B > C > A)"
        ENSEMBLE_CYCLE = "ensemble_cycle", "Ensemble margins form a cycle"
        CONTRAST_INCONSISTENT = (
            "contrast_inconsistent",
            "Reward model inconsistent on a contrast pair",
        )
        NEAR_IDENTICAL = "near_identical", "Chosen and rejected are nearly the same text"
        # The review queue's noise model (webapp/review/learning.py, source="noise_model")
        LIKELY_WRONG = "likely_wrong", "Likely wrong, by what reviewers taught the noise model"
        # The per-attribute heads of a rating project (webapp/scoring/attributes.py,
        # source="attribute_heads"), on the derived pairs of the rating they are about
        RATING_FAR = "rating_far", "A rating far from every attribute model's prediction"
        OVERALL_CONTRADICTS = (
            "overall_contradicts",
            "Overall rating contradicts the attribute ratings",
        )
        # Step-labelled solutions (workers/rm/step_flags.py, source="step_scoring", on items)
        FIRST_ERROR_FAR = "first_error_far", "Human first error far from the step model's"
        ANSWER_CONTRADICTION = (
            "answer_contradiction",
            "Step labels contradict the final answer's correctness",
        )
        OUTLYING_ANNOTATOR = (
            "outlying_annotator",
            "Labelled by an annotator who disagrees with the aggregate far more than others",
        )

    # How much a reviewer should care, for ordering the review queue: higher first.
    SEVERITY = {
        Kind.LIKELY_MISLABELLED: 5,
        Kind.DUPLICATE_CONFLICT: 4,
        Kind.HUMAN_VS_ENSEMBLE: 4,
        Kind.DEGENERATE: 3,
        Kind.UNSTABLE: 2,
        Kind.AMBIGUOUS: 1,
        Kind.LABEL_CYCLE: 3,
        Kind.NEAR_IDENTICAL: 3,
        Kind.ENSEMBLE_CYCLE: 2,
        Kind.CONTRAST_INCONSISTENT: 2,
        Kind.LIKELY_WRONG: 4,
        Kind.RATING_FAR: 3,
        Kind.OVERALL_CONTRADICTS: 3,
        Kind.FIRST_ERROR_FAR: 4,
        Kind.ANSWER_CONTRADICTION: 4,
        Kind.OUTLYING_ANNOTATOR: 2,
    }

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="flags")
    pair = models.ForeignKey(
        Pair, null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    item = models.ForeignKey(
        Item, null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    kind = models.CharField(max_length=40)
    severity = models.PositiveSmallIntegerField(default=1)
    source = models.CharField(max_length=40, help_text="What raised it: scoring, checks, ...")
    scoring_run = models.ForeignKey(
        "scoring.ScoringRun", null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "kind"], name="flag_project_kind"),
            models.Index(fields=["scoring_run", "kind"], name="flag_run_kind"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(pair__isnull=False) | models.Q(item__isnull=False),
                name="flag_on_a_pair_or_an_item",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} on " + (
            f"pair {self.pair_id}" if self.pair_id else f"item {self.item_id}"
        )
