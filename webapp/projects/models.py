from __future__ import annotations

from django.conf import settings
from django.db import models

from webapp.projects.schemes import default_scheme_settings

# One key each on the labelling page (Q W E R T Y U I O): a vote's strength is below this.
MAX_STRENGTH_LEVELS = 9


def default_strength_scale() -> list[str]:
    return ["slightly better", "clearly better", "much better"]


class Project(models.Model):
    class LabelScheme(models.TextChoices):
        # Which of the two responses is better; a tie and "both bad" are always allowed.
        PAIRWISE = "pairwise", "Pairwise: A / B / tie / both bad"
        # The schemes below label an Item (a prompt with several responses, webapp/pairs) and
        # store an ItemAnswer (webapp/labelling); each answer derives votes on Pair rows.
        # K >= 3 responses ordered best to worst, ties allowed; or, with ranking_mode
        # "best_worst", only the best and the worst of a shown subset.
        RANKING = "ranking", "Ranking: order the responses best to worst"
        # Each response rated on the named attributes of scheme_settings.
        RATING = "rating", "Rating: each response on named attributes"
        # Two responses: which is better on each named attribute, and overall.
        PAIRWISE_ATTRIBUTES = "pairwise_attributes", "Pairwise per attribute and overall"
        # One response, a solution as a list of steps: each step good / neutral / bad, or
        # the first wrong step (webapp/pairs/steps.py). Derives no pairs.
        STEPS = "steps", "Steps: label each step of a solution, or its first error"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    guidelines = models.TextField(blank=True, help_text="Shown to annotators; markdown.")
    label_scheme = models.CharField(
        max_length=20, choices=LabelScheme.choices, default=LabelScheme.PAIRWISE
    )
    # Attributes, ranking mode and pair derivation: read and validated only through
    # webapp/projects/schemes.py (scheme_settings_parse).
    scheme_settings = models.JSONField(default=default_scheme_settings, blank=True)
    strength_scale = models.JSONField(
        default=default_strength_scale,
        help_text="Names of the graded strength levels, weakest first.",
    )
    # Whether an A / B vote must say how much better (a level of the scale), or may leave it out.
    strength_required = models.BooleanField(
        default=True, help_text="An A / B vote must choose a strength level."
    )
    votes_per_pair = models.PositiveSmallIntegerField(default=3)
    queue_order = models.CharField(
        max_length=40,
        default="fewest_votes",
        help_text="Which open pair an annotator gets next; see webapp/labelling/ordering.py.",
    )
    lease_minutes = models.PositiveSmallIntegerField(
        default=10, help_text="How long a served pair stays reserved for its annotator."
    )
    # Self-consistency (webapp/labelling/repeats.py): the share of an annotator's votes whose
    # pair is served to them again, A and B swapped. 0 turns repeats off (the default: each
    # repeat costs an annotator's time).
    repeat_share = models.FloatField(default=0.0)
    # A repeat comes only after the annotator cast this many other votes since the first one,
    # so that they answer the pair afresh rather than from memory.
    repeat_gap = models.PositiveIntegerField(default=20)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        REVIEWER = "reviewer", "Reviewer"
        ANNOTATOR = "annotator", "Annotator"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ANNOTATOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"


# Roles ordered by what they may do: an admin may do all a reviewer may, and so on.
ROLE_RANK = {Membership.Role.ANNOTATOR: 1, Membership.Role.REVIEWER: 2, Membership.Role.ADMIN: 3}
