"""Scoring runs: an ensemble of reward models measures every pair's preference strength."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from webapp.jobs.models import Job, JobRun
from webapp.pairs.models import Item, Pair
from webapp.projects.models import Project


class ScoringRun(JobRun):
    class Mode(models.TextChoices):
        OOF = "oof", "Out-of-fold (no pair scored by a model that saw it)"
        INSAMPLE = "insample", "In-sample (as in the paper)"
        FINETUNE = "finetune", "Fine-tune full reward models (GPU)"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="scoring_runs")
    job = models.OneToOneField(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="scoring_run"
    )
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.OOF)
    # config: everything needed to repeat the run (encoder, ensemble and flag settings)
    seeds = models.JSONField(default=list, blank=True)
    versions = models.JSONField(default=dict, blank=True)
    member_names = models.JSONField(default=list, blank=True)
    n_pairs = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)

    class Meta(JobRun.Meta):
        pass

    def __str__(self) -> str:
        return f"scoring run {self.pk} of {self.project}"


class PairScore(models.Model):
    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="scores")
    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="scores")
    # d_m = r_m(prompt, chosen) - r_m(prompt, rejected), "chosen" being label_scored.
    label_scored = models.CharField(max_length=1)
    label_source = models.CharField(max_length=20, default="imported")
    mu = models.FloatField()
    sigma = models.FloatField()
    p_label = models.FloatField()
    margins = ArrayField(models.FloatField())
    decile = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "pair"], name="one_score_per_pair_and_run")
        ]
        indexes = [models.Index(fields=["run", "mu"], name="score_run_mu")]

    def __str__(self) -> str:
        return f"pair {self.pair_id}: mu={self.mu:.3f} sigma={self.sigma:.3f}"


class AttributeScore(models.Model):
    """One response's out-of-fold predicted score on one attribute, from the per-attribute
    heads a scoring run of a rating project fits (workers/rm/attributes.py)."""

    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="attribute_scores")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+", db_index=False)
    position = models.PositiveSmallIntegerField()
    attribute = models.CharField(max_length=40)
    predicted = models.FloatField()  # mean over the M heads
    spread = models.FloatField()  # population std over the M heads
    rating = models.FloatField(null=True)  # the annotators' mean, null where unrated

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "item", "position", "attribute"], name="one_attribute_score"
            )
        ]

    def __str__(self) -> str:
        return f"item {self.item_id} #{self.position} {self.attribute}: {self.predicted:.3f}"


class StepScore(models.Model):
    """A steps project's solution as the step model scored it (webapp/scoring/steps.py): each
    step's out-of-fold P(correct), the first error it predicts, and the human first error it
    was compared with."""

    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="step_scores")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="step_scores")
    p_correct = ArrayField(models.FloatField())
    predicted_first_error = models.SmallIntegerField()  # -1: no step below the threshold
    human_first_error = models.SmallIntegerField(null=True)  # null: not labelled
    label_source = models.CharField(max_length=20, default="")
    score_min = models.FloatField()
    score_product = models.FloatField()
    score_last = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "item"], name="one_step_score_per_item_and_run")
        ]

    def __str__(self) -> str:
        return f"item {self.item_id}: first error {self.predicted_first_error}"


class EncodeShard(models.Model):
    """A slice of a scoring run's texts that no store holds yet, for any worker to encode.

    The run's own task (its coordinator) cuts the texts into shards and sends one task per
    shard; a worker claims its shard by id (or the coordinator takes it itself, when it has
    nothing else to do), beats while it works, and writes the vectors to the embedding store.
    A running shard whose heartbeat is stale is claimable again: its worker died.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Kind(models.TextChoices):
        ENCODE = "encode", "Embeddings of a frozen encoder"
        REWARD = "reward", "Rewards of an existing reward model"

    run = models.ForeignKey(ScoringRun, on_delete=models.CASCADE, related_name="shards")
    index = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ENCODE)
    # the model's settings as the worker rebuilds it (EncoderConfig.to_dict(), or a reward
    # model's path and length), and their hash, the store's setting column
    model = models.JSONField(default=dict)
    setting = models.CharField(max_length=24)
    queue = models.CharField(max_length=40, default="default")
    # sorted by length, so that each batch pads little; emptied once the shard is done
    texts = ArrayField(models.TextField(), default=list)
    n_texts = models.PositiveIntegerField()
    done = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="one_shard_per_index_and_run")
        ]
        indexes = [models.Index(fields=["run", "status"], name="shard_run_status")]

    def __str__(self) -> str:
        return f"shard {self.index} of scoring run {self.run_id} ({self.status})"


class StoredEmbedding(models.Model):
    """One text's vector under one encoder setting, for every worker on every machine.

    Content-addressed (workers/rm/store.py): ``digest`` is the sha256 of the text, ``setting``
    the hash of the encoder's cache key; the vector is little-endian float16 bytes. Rows are
    written by COPY and never changed.
    """

    pk = models.CompositePrimaryKey("setting", "digest")
    setting = models.CharField(max_length=24)
    digest = models.BinaryField()
    vector = models.BinaryField()

    def __str__(self) -> str:
        return f"embedding {bytes(self.digest).hex()[:12]} under {self.setting}"
