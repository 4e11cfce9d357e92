"""Shapes of the API's requests and responses. Reads come from selectors; these only render."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.exports.models import ExportSnapshot
from webapp.imports.formats import FORMATS
from webapp.jobs.models import Job
from webapp.pairs.models import Pair
from webapp.projects.models import Membership
from webapp.scoring.models import ScoringRun


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(required=False)  # type: ignore[assignment]


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class ProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    created_at = serializers.DateTimeField()


class ProjectDetailSerializer(ProjectSerializer):
    guidelines = serializers.CharField()
    strength_scale = serializers.ListField(child=serializers.CharField())
    votes_per_pair = serializers.IntegerField()
    pairs = serializers.IntegerField()
    pairs_by_split = serializers.DictField(child=serializers.IntegerField())
    # Imported labels are not for annotators: null for them.
    pairs_by_label = serializers.DictField(child=serializers.IntegerField(), allow_null=True)


class MessageSerializer(serializers.Serializer):
    role = serializers.CharField()
    content = serializers.CharField(allow_blank=True)


class PairSerializer(serializers.ModelSerializer):
    prompt = serializers.CharField(source="prompt.text", help_text="Empty for conversations.")
    conversation = MessageSerializer(source="prompt.conversation", many=True, allow_null=True)
    response_a = serializers.CharField(source="response_a.text")
    response_b = serializers.CharField(source="response_b.text")
    model_a = serializers.CharField(source="response_a.source_model")
    model_b = serializers.CharField(source="response_b.source_model")
    votes = serializers.IntegerField(source="n_votes")

    class Meta:
        model = Pair
        fields = [
            "id",
            "split",
            "external_id",
            "prompt",
            "conversation",
            "response_a",
            "response_b",
            "model_a",
            "model_b",
            "imported_label",
            "votes",
            "source_file",
            "source_line",
            "metadata",
            "created_at",
        ]


class PairFilterSerializer(serializers.Serializer):
    split = serializers.CharField(required=False, max_length=20)
    label = serializers.ChoiceField(  # type: ignore[assignment]
        required=False,
        choices=[("a", "a"), ("b", "b"), ("tie", "tie"), ("none", "none")],
        help_text="The imported label; `none` for pairs imported without one.",
    )
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)


class PairPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PairSerializer(many=True)


class JobSerializer(serializers.ModelSerializer):
    percent = serializers.FloatField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "project",
            "status",
            "progress_done",
            "progress_total",
            "percent",
            "message",
            "error",
            "result",
            "cancel_requested",
            "created_at",
            "started_at",
            "finished_at",
            "url",
        ]

    def get_url(self, job: Job) -> str:
        return f"/jobs/{job.pk}/"


class ImportRequestSerializer(serializers.Serializer):
    """Multipart form fields, the same as the upload page's."""

    file = serializers.FileField()
    fmt = serializers.ChoiceField(choices=[(f, f) for f in FORMATS], required=False)
    mapping = serializers.CharField(required=False, allow_blank=True)
    split = serializers.CharField(required=False, max_length=20)
    strict = serializers.BooleanField(required=False)


class ImportBatchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    file_name = serializers.CharField()
    fmt = serializers.CharField()
    status = serializers.CharField()
    records_seen = serializers.IntegerField()
    records_rejected = serializers.IntegerField()
    pairs_created = serializers.IntegerField()
    pairs_existing = serializers.IntegerField()
    votes_created = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())  # type: ignore[assignment]
    error = serializers.CharField()
    job = serializers.IntegerField(source="job_id", allow_null=True)
    created_at = serializers.DateTimeField()


class ImportStartedSerializer(serializers.Serializer):
    import_batch = ImportBatchSerializer()
    job = JobSerializer()


class AssignmentSerializer(serializers.Serializer):
    """A pair as an annotator sees it: blind. Sides, never A or B, labels, models or votes."""

    token = serializers.UUIDField()
    round = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    prompt = serializers.CharField()
    conversation = MessageSerializer(many=True, allow_null=True)
    left = serializers.CharField()
    right = serializers.CharField()
    strength_scale = serializers.ListField(child=serializers.CharField())


class VoteRequestSerializer(serializers.Serializer):
    token = serializers.UUIDField()
    round = serializers.IntegerField(min_value=0, max_value=32767)
    choice = serializers.ChoiceField(
        choices=[("left", "left"), ("right", "right"), ("tie", "tie"), ("both_bad", "both bad")],
        help_text="The side the annotator preferred, as shown.",
    )
    strength = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100)
    rationale = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    time_ms = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2_000_000_000
    )


class VoteResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[("stored", "stored"), ("duplicate", "duplicate")],
    )
    vote = serializers.IntegerField(allow_null=True)


class SkipRequestSerializer(serializers.Serializer):
    token = serializers.UUIDField()
    round = serializers.IntegerField(min_value=0, max_value=32767)


class SkipResultSerializer(serializers.Serializer):
    skipped = serializers.BooleanField()


class ExportRequestSerializer(serializers.Serializer):
    file_format = serializers.ChoiceField(choices=ExportSnapshot.FileFormat.choices)
    style = serializers.ChoiceField(  # type: ignore[assignment]
        choices=ExportSnapshot.Style.choices, default=ExportSnapshot.Style.STANDARD
    )
    with_margin = serializers.BooleanField(default=False)
    split = serializers.CharField(required=False, allow_blank=True, max_length=20)
    drop_flagged = serializers.BooleanField(default=False)
    min_strength = serializers.FloatField(required=False, allow_null=True)
    reviewed_only = serializers.BooleanField(default=False)

    def validate_min_strength(self, value: float | None) -> float | None:
        import math

        if value is not None and not math.isfinite(value):
            raise serializers.ValidationError("must be a finite number")
        return value


class ExportFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    split = serializers.CharField()
    rows = serializers.IntegerField()
    bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    url = serializers.CharField()


class ExportSnapshotSerializer(serializers.ModelSerializer):
    files = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = ExportSnapshot
        fields = [
            "id",
            "project",
            "version",
            "status",
            "file_format",
            "style",
            "with_margin",
            "filters",
            "scoring_run_id",
            "row_count",
            "counts",
            "files",
            "preflab_version",
            "error",
            "job",
            "created_at",
            "finished_at",
            "url",
        ]

    def get_url(self, snapshot: ExportSnapshot) -> str:
        return f"/exports/{snapshot.pk}/"

    @extend_schema_field(ExportFileSerializer(many=True))
    def get_files(self, snapshot: ExportSnapshot) -> list[dict[str, Any]]:
        return [
            {
                "name": f["name"],
                "split": f.get("split", ""),
                "rows": f.get("rows", 0),
                "bytes": f.get("bytes", 0),
                "sha256": f.get("sha256", ""),
                "url": f"/api/exports/{snapshot.pk}/files/{f['name']}",
            }
            for f in snapshot.files
        ]


class ExportStartedSerializer(serializers.Serializer):
    export = ExportSnapshotSerializer()
    job = JobSerializer()


# --- training runs and the model registry ------------------------------------------------------

from webapp.registry.models import RegisteredModel  # noqa: E402
from webapp.training.models import TrainingRun  # noqa: E402


class RegisteredModelSerializer(serializers.ModelSerializer):
    files = serializers.SerializerMethodField()

    class Meta:
        model = RegisteredModel
        fields = ["id", "version", "kind", "path", "files", "created_at"]

    @extend_schema_field(ExportFileSerializer(many=True))
    def get_files(self, model: RegisteredModel) -> list[dict[str, Any]]:
        return [
            {
                "name": f["name"],
                "split": "",
                "rows": 0,
                "bytes": f["bytes"],
                "sha256": f["sha256"],
                "url": f"/training/models/{model.pk}/files/{f['name']}",
            }
            for f in model.files
        ]


class TrainingRunSerializer(serializers.ModelSerializer):
    job = JobSerializer(allow_null=True)
    model = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = TrainingRun
        fields = [
            "id", "project", "kind", "name", "scoring_run", "config", "counts", "curves",
            "metrics", "complete", "job", "model", "created_at", "finished_at", "url",
        ]  # fmt: skip

    @extend_schema_field(RegisteredModelSerializer(allow_null=True))
    def get_model(self, run: TrainingRun) -> dict[str, Any] | None:
        model = getattr(run, "model", None)
        return None if model is None else dict(RegisteredModelSerializer(model).data)

    def get_url(self, run: TrainingRun) -> str:
        return f"/training/runs/{run.pk}/"


class TrainingRequestSerializer(serializers.Serializer):
    """The options of a training run; see `python manage.py train_rm --help`."""

    kind = serializers.ChoiceField(choices=TrainingRun.Kind.choices, default="head")
    scoring_run = serializers.IntegerField(required=False, allow_null=True, default=None)
    drop_flagged = serializers.BooleanField(default=False)
    drop_flag_kinds = serializers.ListField(child=serializers.CharField(), required=False)
    drop_bottom_pct = serializers.FloatField(default=0.0, min_value=0, max_value=99)
    drop_top_pct = serializers.FloatField(default=0.0, min_value=0, max_value=99)
    flip_below = serializers.FloatField(required=False, allow_null=True, default=None)
    smoothing = serializers.FloatField(default=0.0, min_value=0, max_value=0.49)
    smooth_below = serializers.FloatField(required=False, allow_null=True, default=None)
    margin_lambda = serializers.FloatField(default=0.0)
    center_rewards_coefficient = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=0
    )
    epochs = serializers.IntegerField(default=20, min_value=1, max_value=1000)
    hidden = serializers.IntegerField(default=0, min_value=0, max_value=4096)
    seed = serializers.IntegerField(default=0, min_value=0)


# --- scores, flags and scoring runs ---------------------------------------------------------


class ScoringRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    mode = serializers.CharField()
    complete = serializers.BooleanField()
    n_pairs = serializers.IntegerField()
    member_names = serializers.ListField(child=serializers.CharField())
    summary = serializers.DictField()
    job = serializers.IntegerField(source="job_id", allow_null=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class ScoringRunRequestSerializer(serializers.Serializer):
    """The options of the project page's scoring form."""

    mode = serializers.ChoiceField(choices=ScoringRun.Mode.choices, default=ScoringRun.Mode.OOF)
    n_models = serializers.IntegerField(default=8, min_value=1, max_value=32)
    n_folds = serializers.IntegerField(default=5, min_value=2, max_value=20)


class ScoringRunStartedSerializer(serializers.Serializer):
    scoring_run = ScoringRunSerializer()
    job = JobSerializer()


class PairScoreSerializer(serializers.Serializer):
    pair = serializers.IntegerField(source="pair_id")
    label_scored = serializers.CharField(help_text="The label the run scored as chosen.")
    label_source = serializers.CharField()
    mu = serializers.FloatField(help_text="Ensemble mean of r(chosen) - r(rejected).")
    sigma = serializers.FloatField(help_text="Spread of that margin across the models.")
    p_label = serializers.FloatField()
    margins = serializers.ListField(child=serializers.FloatField(), help_text="One per model.")
    decile = serializers.IntegerField()


class ScoreFilterSerializer(serializers.Serializer):
    decile = serializers.IntegerField(required=False, min_value=0, max_value=9)
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)


class PairScorePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PairScoreSerializer(many=True)


class FlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    pair = serializers.IntegerField(source="pair_id")
    kind = serializers.CharField()
    severity = serializers.IntegerField()
    source = serializers.CharField()  # type: ignore[assignment]
    scoring_run = serializers.IntegerField(source="scoring_run_id", allow_null=True)
    details = serializers.DictField()
    created_at = serializers.DateTimeField()


class FlagFilterSerializer(serializers.Serializer):
    kind = serializers.CharField(required=False, max_length=40, help_text="e.g. `ambiguous`.")
    run = serializers.CharField(
        required=False,
        max_length=18,
        help_text="A scoring run's id, or `none` for flags tied to no run (checks, people).",
    )
    pair = serializers.IntegerField(required=False, min_value=1, max_value=10**18 - 1)
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)

    def validate_run(self, value: str) -> str:
        if value != "none" and not re.fullmatch("[0-9]+", value):
            raise serializers.ValidationError("a scoring run's id, or `none`")
        return value


class FlagPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = FlagSerializer(many=True)


# --- review decisions ------------------------------------------------------------------------

REVIEW_ACTIONS = ["keep", "flip", "tie", "drop", "more_votes", "undo"]
BULK_REVIEW_ACTIONS = REVIEW_ACTIONS[:-1]


class ReviewDecisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    pair = serializers.IntegerField(source="pair_id")
    reviewer = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    outcome = serializers.CharField()
    label_before = serializers.CharField()
    source_before = serializers.CharField()
    label_after = serializers.CharField()
    reason = serializers.CharField()
    votes_requested = serializers.IntegerField()
    flag = serializers.IntegerField(source="flag_id", allow_null=True)
    flag_kind = serializers.CharField()
    scoring_run = serializers.IntegerField(source="scoring_run_id", allow_null=True)
    undoes = serializers.IntegerField(source="undoes_id", allow_null=True)
    bulk = serializers.IntegerField(source="bulk_id", allow_null=True)

    def get_reviewer(self, decision: Any) -> str | None:
        return decision.reviewer.get_username() if decision.reviewer else None


class ReviewDecisionPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ReviewDecisionSerializer(many=True)


class ReviewDecisionRequestSerializer(serializers.Serializer):
    pair = serializers.IntegerField(min_value=1, max_value=2**62)
    action = serializers.ChoiceField(choices=REVIEW_ACTIONS)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    votes = serializers.IntegerField(required=False, min_value=1, max_value=20)
    flag = serializers.IntegerField(required=False, min_value=1, max_value=2**62)


class ReviewFilterSerializer(serializers.Serializer):
    kind = serializers.CharField(required=False, allow_blank=True, max_length=40)
    mu_min = serializers.FloatField(required=False, allow_null=True)
    mu_max = serializers.FloatField(required=False, allow_null=True)
    annotator = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                         max_value=2**62)  # fmt: skip
    split = serializers.CharField(required=False, allow_blank=True, max_length=20)
    state = serializers.ChoiceField(
        required=False,
        allow_blank=True,
        choices=["", "undecided", "decided", "sent_back", "keep", "flip", "tie", "drop"],
    )
    votes_disagree = serializers.BooleanField(required=False)


class ReviewBulkRequestSerializer(serializers.Serializer):
    filter = ReviewFilterSerializer(required=False)
    action = serializers.ChoiceField(choices=BULK_REVIEW_ACTIONS)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    votes = serializers.IntegerField(required=False, min_value=1, max_value=20)
    confirm = serializers.BooleanField(
        required=False, default=False, help_text="false: only count; true: decide them."
    )


class ReviewBulkResultSerializer(serializers.Serializer):
    action = serializers.CharField()
    filter = serializers.DictField()
    count = serializers.IntegerField(help_text="Pairs it decides (preview) or decided.")
    confirmed = serializers.BooleanField()
    bulk = serializers.IntegerField(allow_null=True)
