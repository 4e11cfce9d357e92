"""Review of flagged pairs: append-only decisions, each pair's current review state, the review
queue's per-pair rows, ambiguity-driven vote requests and the project's review settings.

``ReviewDecision`` is the audit log: rows are only ever inserted (a trigger refuses UPDATE,
migration 0001), undo being a new decision. ``PairReview`` is the decision in force per pair,
kept by a statement-level trigger on the log, so a bulk decision is one INSERT ... SELECT and
its state follows in the same statement. ``ReviewItem`` is one row per flagged pair (its most
severe flag, every flag kind, mu and sigma of the run), rebuilt set-based after each scoring
run, so the queue is a walk down one index at any size.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from webapp.jobs.models import Job, JobRun
from webapp.pairs.models import Item, Pair
from webapp.projects.models import Project


class ReviewDecision(models.Model):
    class Action(models.TextChoices):
        KEEP = "keep", "Keep the label"
        FLIP = "flip", "Flip the label"
        TIE = "tie", "Make it a tie"
        DROP = "drop", "Drop the pair"
        MORE_VOTES = "more_votes", "Send back for more votes"
        UNDO = "undo", "Undo"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="review_decisions")
    # PROTECT as for votes: a person's decisions outlive no account, but are never rewritten.
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    action = models.CharField(max_length=12, choices=Action.choices)
    # What is in force after this decision: the action's own effect, or for an undo the
    # effect in force before the undone decision ("" = no review decision in force).
    outcome = models.CharField(max_length=12, blank=True)
    label_before = models.CharField(max_length=3, blank=True)
    source_before = models.CharField(max_length=20, blank=True)
    label_after = models.CharField(max_length=3, blank=True)
    reason = models.TextField(blank=True)
    votes_requested = models.PositiveSmallIntegerField(default=0)
    # What it answered. No database constraints and no cascades: the log keeps these ids even
    # when a flag or a run is deleted later (an UPDATE of the log would be refused anyway).
    flag = models.ForeignKey(
        "flags.Flag", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
        db_constraint=False,
    )  # fmt: skip
    flag_kind = models.CharField(max_length=40, blank=True)
    scoring_run = models.ForeignKey(
        "scoring.ScoringRun", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
        db_constraint=False,
    )  # fmt: skip
    undoes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
        db_constraint=False,
    )  # fmt: skip
    bulk = models.ForeignKey(
        "BulkAction", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="decisions",
        db_constraint=False,
    )  # fmt: skip

    class Meta:
        indexes = [
            models.Index(fields=["project", "created_at"], name="decision_project_time"),
        ]

    def __str__(self) -> str:
        return f"{self.action} on pair {self.pair_id}"


class PairReview(models.Model):
    """The decision in force on a pair (kept by a trigger on ReviewDecision)."""

    pair = models.OneToOneField(
        Pair, primary_key=True, on_delete=models.CASCADE, related_name="review",
        db_constraint=False,
    )  # fmt: skip
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    decision = models.ForeignKey(
        ReviewDecision, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    outcome = models.CharField(max_length=12, blank=True)
    label = models.CharField(max_length=3, blank=True)
    decided_at = models.DateTimeField()
    # The pair's score in the run the decision answered (copied by the trigger), so the
    # dashboards compare decisions with mu without joining the run's million scores.
    scoring_run_id = models.BigIntegerField(null=True)
    decile = models.SmallIntegerField(null=True)
    mu = models.FloatField(null=True)
    label_scored = models.CharField(max_length=1, blank=True, default="", db_default="")

    class Meta:
        indexes = [models.Index(fields=["project", "outcome"], name="pairreview_outcome")]

    def __str__(self) -> str:
        return f"pair {self.pair_id}: {self.outcome or 'undecided'}"


class BulkAction(models.Model):
    """One bulk decision: the filter it applied to and how many pairs it decided."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=12, choices=ReviewDecision.Action.choices)
    filters = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    n_pairs = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"bulk {self.action} of {self.n_pairs} pairs"


class ReviewItem(models.Model):
    """A flagged pair in the review queue: its flags of the latest run (and of checks tied to
    no run), their highest severity, and the run's mu and sigma."""

    pair = models.OneToOneField(
        Pair, primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    scoring_run_id = models.BigIntegerField(null=True)
    severity = models.PositiveSmallIntegerField()
    kinds = ArrayField(models.CharField(max_length=40))  # most severe first
    top_kind = models.CharField(max_length=40)
    top_flag_id = models.BigIntegerField()
    n_flags = models.PositiveSmallIntegerField()
    split = models.CharField(max_length=20)
    mu = models.FloatField(null=True)
    sigma = models.FloatField(null=True)
    label_scored = models.CharField(max_length=1, blank=True)
    # The noise model's P(the label is wrong) (webapp/review/learning.py), whether the pair
    # holds its place to explore (the model is least sure of it) and the features that raise
    # its P(wrong) most, as [[name, part of the logit], ...].
    p_wrong = models.FloatField(null=True)
    exploring = models.BooleanField(default=False)
    why = models.JSONField(default=list, blank=True)
    # Place in the queue, numbered when the rows are built or the noise model is refitted:
    # the queue and "next pair" walk one index. In the learning order (the default) most
    # likely wrong first, with a share of places for exploring, decided pairs last; in the
    # severity order most severe flag first, then most negative mu; then pair id.
    rank = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["project", "rank"], name="reviewitem_queue"),
            models.Index(fields=["project", "mu"], name="reviewitem_mu"),
        ]

    def __str__(self) -> str:
        return f"pair {self.pair_id}: {self.top_kind}"


class ReviewItemKind(models.Model):
    """One row per flag kind of a queued pair, with the pair's queue rank: filtering the queue
    by a kind walks (project, kind, rank) instead of every more severe pair before it."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    # No cascade: a deleted pair's rows go at the next rebuild; the queue joins ReviewItem,
    # which goes with its pair, so they are never shown.
    pair = models.ForeignKey(
        Pair, on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    kind = models.CharField(max_length=40)
    rank = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["project", "kind", "rank"], name="reviewitemkind_rank")]

    def __str__(self) -> str:
        return f"{self.kind} on pair {self.pair_id}"


class ReviewSettings(models.Model):
    """A project's review settings (ambiguity-driven extra votes after each scoring run) and
    when its review queue was last built."""

    project = models.OneToOneField(
        Project, primary_key=True, on_delete=models.CASCADE, related_name="review_settings"
    )
    ambiguity_votes = models.BooleanField(
        default=False,
        help_text="After each scoring run, ask for more human votes on the most ambiguous or "
        "disputed pairs first.",
    )
    ambiguity_pairs = models.PositiveIntegerField(
        default=100, help_text="How many pairs to send back after each run."
    )
    ambiguity_extra_votes = models.PositiveSmallIntegerField(
        default=2, help_text="Extra votes asked for on each of them."
    )

    class QueueOrder(models.TextChoices):
        LEARNING = "learning", "Most likely wrong first (the noise model), exploring a share"
        SEVERITY = "severity", "Most severe flag first, then most negative mu"

    queue_order = models.CharField(
        max_length=20, choices=QueueOrder.choices, default=QueueOrder.LEARNING
    )
    explore_share = models.FloatField(
        default=0.05,
        help_text="Share of queue places given to the pairs the noise model is least sure of.",
    )
    refit_every = models.PositiveIntegerField(
        default=20, help_text="Refit the noise model after this many new answers."
    )
    queue_built_at = models.DateTimeField(null=True, blank=True)
    queue_run_id = models.BigIntegerField(null=True, blank=True)
    # Dashboard figures that only change with a scoring run, computed when the queue is built.
    charts = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"review settings of {self.project_id}"


class AmbiguityRequest(models.Model):
    """Extra votes asked for after one scoring run; its pairs record the label they had."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    scoring_run = models.OneToOneField(
        "scoring.ScoringRun", on_delete=models.CASCADE, related_name="ambiguity_request"
    )
    n_pairs = models.PositiveIntegerField(default=0)
    votes_asked = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.votes_asked} votes on {self.n_pairs} pairs after run {self.scoring_run_id}"


class AmbiguityRequestPair(models.Model):
    request = models.ForeignKey(AmbiguityRequest, on_delete=models.CASCADE, related_name="pairs")
    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    priority = models.FloatField()
    votes_before = models.PositiveIntegerField()
    label_before = models.CharField(max_length=3, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "pair"], name="one_request_pair"),
        ]
        indexes = [models.Index(fields=["pair"], name="ambiguity_pair")]

    def __str__(self) -> str:
        return f"pair {self.pair_id} in request {self.request_id}"


class NoiseFit(JobRun):
    """One fit of a project's noise model: P(label wrong) for every pair of a scoring run,
    from the answers reviewers (and gold pairs, and later votes) gave so far."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="noise_fits")
    job = models.OneToOneField(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="noise_fit"
    )
    scoring_run = models.ForeignKey(
        "scoring.ScoringRun", null=True, on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(max_length=10, blank=True)  # "prior" | "model"
    n_answers = models.PositiveIntegerField(default=0)
    n_wrong = models.PositiveIntegerField(default=0)
    # Out-of-fold AUC, Brier score and log loss on the answered pairs, beside the prior's.
    metrics = models.JSONField(default=dict, blank=True)
    coefficients = models.JSONField(default=dict, blank=True)

    class Meta(JobRun.Meta):
        pass

    def __str__(self) -> str:
        return f"noise fit {self.pk} of {self.project_id} ({self.source}, {self.n_answers})"


class PairNoise(models.Model):
    """The latest noise fit's P(wrong) of each scored pair of the project."""

    pair = models.OneToOneField(
        Pair, primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    fit = models.ForeignKey(NoiseFit, on_delete=models.CASCADE, related_name="+")
    p_wrong = models.FloatField()
    # How much the fit's fold models disagree on the pair (std of their logits): the queue
    # explores the pairs it is least sure about.
    doubt = models.FloatField(default=0.0)
    why = models.JSONField(default=list)  # [[feature, part of the logit], ...], largest first

    class Meta:
        indexes = [models.Index(fields=["project", "p_wrong"], name="pairnoise_project_p")]

    def __str__(self) -> str:
        return f"pair {self.pair_id}: P(wrong) {self.p_wrong:.2f}"


class StepDecision(models.Model):
    """A reviewer's decision on a steps project's solution: the step labels in force from now
    on (webapp/labelling/step_labels.py reads the latest), with those it replaced. Append-only
    as ReviewDecision is (a trigger refuses updates): a change of mind is a new decision."""

    class Outcome(models.TextChoices):
        KEEP = "keep", "Keep the labels"
        SET = "set", "Set the labels (or the first error)"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="step_decisions")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="step_decisions"
    )
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    labels_before = models.JSONField()  # per step +1 / 0 / -1 / null, as in force before
    labels_after = models.JSONField()
    reason = models.TextField(blank=True)
    # As ReviewDecision's: the log is append-only, so deleting a flag (a rerun replaces them)
    # must not touch it; the id stays as a record of which flag was decided.
    flag = models.ForeignKey(
        "flags.Flag", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
        db_constraint=False,
    )  # fmt: skip
    scoring_run_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["project", "item", "created_at"], name="stepdecision_item")]

    def __str__(self) -> str:
        return f"{self.outcome} on item {self.item_id}"
