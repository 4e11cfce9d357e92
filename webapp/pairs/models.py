"""Preference pairs, and items: a prompt with several responses labelled as one unit. Prompts
and responses are stored once and shared by hash.

An ``Item`` (ranking, rating, pairwise-per-attribute projects) keeps its responses once, in
``ItemResponse`` rows by position. Its human answers (webapp/labelling, ``ItemAnswer``) derive
votes on ordinary ``Pair`` rows that point back at the item with the attribute they are about
(blank: overall) and the answers' mean margin, so every later stage reads pairs as before.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Case, F, Func, Q, When

from webapp.projects.models import Project


class Prompt(models.Model):
    # 16-byte BLAKE2b of the canonical JSON of the prompt; see webapp/pairs/hashing.py.
    content_hash = models.BinaryField(max_length=16, unique=True)
    text = models.TextField(blank=True, help_text="Plain-text prompt; empty for conversations.")
    conversation = models.JSONField(
        null=True, blank=True, help_text='A list of {"role", "content"} turns.'
    )
    # The prompt as one text in HH-RLHF's layout ("\n\nHuman: ...\n\nAssistant: ", ending
    # where the answer starts), which standard exports write: PostgreSQL computes it once when
    # the prompt is stored (function preflab_transcript, migration 0004), not on every export,
    # where building it cost about a fifth of the database's time. A plain prompt as it is.
    transcript = models.GeneratedField(
        expression=Case(
            When(conversation__isnull=True, then=F("text")),
            default=Func(
                F("conversation"), function="preflab_transcript", output_field=models.TextField()
            ),
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    def __str__(self) -> str:
        return self.as_text()[:80]

    def as_text(self) -> str:
        if self.conversation is None:
            return self.text
        return "\n\n".join(f"{turn['role']}: {turn['content']}" for turn in self.conversation)


class Response(models.Model):
    content_hash = models.BinaryField(max_length=16, unique=True)
    text = models.TextField()
    source_model = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return self.text[:80]


class Item(models.Model):
    """A prompt and its K responses, labelled as one unit (see the module doc)."""

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    prompt = models.ForeignKey(
        Prompt, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    # Hash of (prompt, the responses in order, external id): re-importing a file adds nothing.
    dedup_key = models.BinaryField(max_length=16)
    source_file = models.CharField(max_length=500, blank=True)
    source_line = models.PositiveIntegerField(default=0)
    split = models.CharField(max_length=20, default="train")
    external_id = models.CharField(max_length=200, blank=True)
    # How many annotators should answer it; null: the project's votes_per_pair.
    answers_wanted = models.PositiveSmallIntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    import_batch = models.ForeignKey(
        "imports.ImportBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "dedup_key"], name="item_unique_in_project")
        ]
        indexes = [models.Index(fields=["project", "split", "id"], name="item_project_split")]

    def __str__(self) -> str:
        return f"item {self.pk}"


class ItemResponse(models.Model):
    """One of an item's responses, at its position (0, 1, ... in the file's order)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="responses")
    position = models.PositiveSmallIntegerField()
    response = models.ForeignKey(
        Response, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "position"], name="one_response_per_position")
        ]
        ordering = ["item", "position"]

    def __str__(self) -> str:
        return f"item {self.item_id} #{self.position}"


class Pair(models.Model):
    class Label(models.TextChoices):
        A = "a", "A is better"
        B = "b", "B is better"
        TIE = "tie", "Tie"
        NONE = "", "No label"

    # The unique (project, dedup_key) index starts with project_id and serves its lookups.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="pairs", db_index=False
    )
    # No database FK triggers on these: the importer takes the ids from a join on the rows it
    # has just inserted, and per-row trigger checks were the largest cost of a bulk import.
    prompt = models.ForeignKey(
        Prompt, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    # Nothing looks pairs up by response or by import batch, so no index on those either:
    # each index is work for every imported row.
    response_a = models.ForeignKey(
        Response, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    response_b = models.ForeignKey(
        Response, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    imported_label = models.CharField(max_length=3, choices=Label.choices, blank=True)
    # Hash of (prompt, response_a, response_b, label, external id): re-importing a file adds
    # nothing, while the same texts with a conflicting label stay visible as two pairs.
    dedup_key = models.BinaryField(max_length=16)
    source_file = models.CharField(max_length=500, blank=True)
    source_line = models.PositiveIntegerField(default=0)
    split = models.CharField(max_length=20, default="train")
    external_id = models.CharField(max_length=200, blank=True)
    votes_wanted = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Overrides the project's votes per pair."
    )
    metadata = models.JSONField(default=dict, blank=True)
    import_batch = models.ForeignKey(
        "imports.ImportBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    # A derived pair: the item whose answers it comes from (response_a is the response at the
    # lower position, metadata["positions"] holds both), the attribute it is about (blank:
    # overall) and the mean over the answers of how much better response_a is than
    # response_b (rank gap or rating gap; negative when B is better). Null on plain pairs.
    item = models.ForeignKey(
        Item,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="derived_pairs",
        db_constraint=False,
        db_index=False,
    )
    attribute = models.CharField(max_length=40, blank=True, default="", db_default="")
    margin = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "dedup_key"], name="pair_unique_in_project")
        ]
        indexes = [
            models.Index(fields=["project", "split", "id"], name="pair_project_split"),
            models.Index(fields=["item"], condition=Q(item__isnull=False), name="pair_derived"),
        ]

    def __str__(self) -> str:
        return f"pair {self.pk}"
