"""Writes of the judges stage: judges, their verdicts (imported or computed on a worker), and
the project's fill-in setting.

Locking: ``judge_fill_in_set`` locks the project's judges (``select_for_update``) before it
moves the one fill-in flag, so two admins cannot leave two judges filling in. Verdicts are
written set-based (COPY into a staging table, one upsert), in the job's final transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from webapp.imports.containers import FormatError, RecordError, Source
from webapp.imports.services import safe_file_name
from webapp.jobs.models import Job
from webapp.jobs.runs import run_create
from webapp.jobs.services import job_create
from webapp.judges.models import Judge, JudgeRun, JudgeVerdict
from webapp.judges.verdicts import Verdict, read_verdicts
from webapp.pairs.models import Pair
from webapp.pairs.selectors import pair_texts
from webapp.projects.models import Project
from webapp.registry.models import ModelKind, RegisteredModel
from webapp.scoring.models import PairScore
from webapp.scoring.selectors import latest_complete_run

VERDICTS = JudgeVerdict._meta.db_table
PAIRS = Pair._meta.db_table
Progress = Callable[..., None]
# A Hugging Face reward model folder at least this big is scored on the `gpu` queue.
GPU_BYTES = 1_000_000_000
MAX_ERRORS_KEPT = 200
# (pair id, verdict, answer asked A first, asked B first, margin r(a) - r(b), reason)
VerdictRow = tuple[int, str, str, str, float | None, str]


class JudgeError(ValueError):
    """A request about a judge that cannot be met; the message says why."""


def judge_create(
    *, project: Project, name: str, source: str, config: dict[str, Any] | None = None
) -> Judge:
    name = name.strip()
    if not name:
        raise JudgeError("a judge needs a name")
    if source not in Judge.Source.values:
        raise JudgeError(f"unknown judge source {source!r}; expected {', '.join(Judge.Source)}")
    config = dict(config or {})
    if source == Judge.Source.REWARD_MODEL:
        judge_model_path(project=project, config=config)  # fails early on a bad model
    judge, created = Judge.objects.get_or_create(
        project=project, name=name[:100], defaults={"source": source, "config": config}
    )
    if not created and judge.source != source:
        raise JudgeError(f"a judge named {name!r} already exists, with source {judge.source}")
    return judge


def judge_fill_in_set(*, judge: Judge, on: bool) -> Judge:
    """Let ``judge`` (and only it) label the project's pairs that no person voted on, or stop."""
    with transaction.atomic():
        judges = Judge.objects.select_for_update().filter(project_id=judge.project_id)
        list(judges)
        judges.filter(~Q(pk=judge.pk), fills_missing=True).update(fills_missing=False)
        Judge.objects.filter(pk=judge.pk).update(fills_missing=on)
    judge.fills_missing = on
    return judge


def judge_model_path(*, project: Project, config: dict[str, Any]) -> tuple[str, str]:
    """The folder a reward-model judge scores with and the queue it runs on (``gpu`` for a
    fine-tuned model or a folder of GPU_BYTES or more). Which registered models a caller may
    name is their access check's business (the page and the API offer the project's own)."""
    if "registered_model" in config:
        model = RegisteredModel.objects.filter(pk=config["registered_model"]).first()
        if model is None:
            raise JudgeError(f"no registered model {config['registered_model']}")
        return model.path, "gpu" if model.kind == ModelKind.FINETUNE else "default"
    path = str(config.get("path") or "")
    if not path or not Path(path).is_dir():
        raise JudgeError(f"the reward model folder {path!r} is not here")
    size = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
    return path, "gpu" if size >= GPU_BYTES else "default"


# --- imported verdicts -----------------------------------------------------------------------


def verdicts_import_start(
    *, judge: Judge, upload: UploadedFile, key_field: str = "", created_by: Any = None
) -> Job:
    """Keep an uploaded verdict file and queue its import as a job (page and API)."""
    folder = Path(settings.UPLOAD_DIR) / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_file_name(upload.name or "verdicts.jsonl")
    with open(folder / name, "wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return verdicts_job_create(
        judge=judge, path=folder / name, file_name=name, key_field=key_field, created_by=created_by
    )


def verdicts_job_create(
    *,
    judge: Judge,
    path: Path,
    file_name: str,
    key_field: str = "",
    created_by: Any = None,
    enqueue: bool = True,
) -> Job:
    params = {"judge": judge.pk, "path": str(path), "file": file_name, "key_field": key_field}
    return job_create(
        kind="verdicts",
        project=judge.project,
        params=params,
        created_by=created_by,
        enqueue=enqueue,
    )


def verdicts_import(
    *,
    judge: Judge,
    path: Path,
    file_name: str,
    key_field: str = "",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Store the verdicts of a file for ``judge``: every record whose key names a pair of the
    project (``pair_id`` a PrefLab id, any other key the id the pair was imported with).
    A pair asked in both orders keeps both answers; the verdict that counts is the two if
    they agree, else a tie. Bad records are reported, the rest stored; a verdict already
    stored for a pair is replaced."""
    errors: list[RecordError] = []
    found: list[Verdict] = []
    key_name = key_field or ""
    try:
        for item in read_verdicts(path, name=file_name, key_field=key_field or None):
            (errors if isinstance(item, RecordError) else found).append(item)  # type: ignore[arg-type]
    except FormatError as exc:
        raise JudgeError(str(exc)) from exc
    unreadable = len(errors)
    if progress:
        progress(1, 3, f"read {len(found)} verdicts")
    by_pair_id = key_name == "pair_id" or (not key_name and _uses_pair_ids(path, file_name))
    ids = _pair_ids(judge.project, [v.key for v in found], by_pair_id=by_pair_id)
    merged: dict[int, dict[str, str]] = {}
    for v in found:
        pair_id = ids.get(v.key)
        if pair_id is None:
            field = "pair_id" if by_pair_id else "id"
            errors.append(
                RecordError(file_name, v.line, field, f"no pair {v.key!r} in this project")
            )
            continue
        row = merged.setdefault(pair_id, {"ab": "", "ba": "", "reason": ""})
        row[v.position] = v.choice
        row["reason"] = row["reason"] or v.reason
    rows: list[VerdictRow] = [
        (pair_id, _counted(row["ab"], row["ba"]), row["ab"], row["ba"], None, row["reason"])
        for pair_id, row in merged.items()
    ]
    if progress:
        progress(2, 3, f"storing {len(rows)} verdicts")
    verdicts_store(judge=judge, rows=rows)
    return {
        "judge": judge.pk,
        "records": len(found) + unreadable,
        "stored": len(rows),
        "rejected": len(errors),
        "errors": [
            {"file": e.file, "line": e.line, "field": e.field, "reason": e.reason}
            for e in errors[:MAX_ERRORS_KEPT]
        ],
    }


def _uses_pair_ids(path: Path, file_name: str) -> bool:
    """Whether the file's first readable record keys its pair by PrefLab's id."""
    records = Source(path, file_name).records()
    try:
        for item in records:
            if not isinstance(item, RecordError):
                return "pair_id" in item[1]
    finally:
        records.close()
    return False


def _counted(ab: str, ba: str) -> str:
    if ab and ba:
        return ab if ab == ba else "tie"
    return ab or ba


def _pair_ids(project: Project, keys: list[str], *, by_pair_id: bool) -> dict[str, int]:
    """Each key's pair in the project, in one query."""
    if by_pair_id:
        # a PrefLab id: a bigint, so at most 18 digits here ("²".isdigit() too, but not ASCII)
        wanted = [int(k) for k in keys if k.isascii() and k.isdigit() and len(k) <= 18]
        found = Pair.objects.filter(project=project, pk__in=wanted).values_list("pk", flat=True)
        return {str(pk): pk for pk in found}
    rows = Pair.objects.filter(project=project, external_id__in=set(keys)).values_list(
        "external_id", "pk"
    )
    return dict(rows)


def verdicts_store(*, judge: Judge, rows: Sequence[VerdictRow]) -> int:
    """Upsert (pair, choice, choice_ab, choice_ba, margin, reason) rows of one judge, set-based."""
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute(
            "CREATE TEMP TABLE IF NOT EXISTS stage_verdict (pair_id bigint, choice text, "
            "choice_ab text, choice_ba text, margin float8, reason text); TRUNCATE stage_verdict"
        )
        with raw.copy(
            "COPY stage_verdict (pair_id, choice, choice_ab, choice_ba, margin, reason) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        raw.execute(
            f"""
            INSERT INTO {VERDICTS} (judge_id, pair_id, choice, choice_ab, choice_ba, margin, reason)
            SELECT %(judge)s, pair_id, choice, choice_ab, choice_ba, margin, reason
            FROM stage_verdict
            ON CONFLICT (judge_id, pair_id) DO UPDATE SET choice = EXCLUDED.choice,
                choice_ab = EXCLUDED.choice_ab, choice_ba = EXCLUDED.choice_ba,
                margin = EXCLUDED.margin, reason = EXCLUDED.reason
            """,
            {"judge": judge.pk},
        )
        stored = raw.rowcount
        raw.execute("TRUNCATE stage_verdict")
    return int(stored)


# --- reward-model and ensemble judges, on a worker -------------------------------------------


def judge_run_create(*, judge: Judge, created_by: Any = None) -> JudgeRun:
    """A queued run of a reward-model or ensemble judge over every pair of its project."""
    if judge.source == Judge.Source.VERDICTS:
        raise JudgeError("a judge of imported verdicts is not run: import its file instead")
    queue = "default"
    if judge.source == Judge.Source.REWARD_MODEL:
        _, queue = judge_model_path(project=judge.project, config=judge.config)
    return run_create(
        JudgeRun,
        job_kind="judge",
        project=judge.project,
        params={"judge": judge.pk},
        config={"judge": judge.pk, "source": judge.source, **judge.config},
        created_by=created_by,
        queue=queue,
        judge=judge,
    )


def _sign(margins: np.ndarray) -> list[str]:
    return ["a" if m > 0 else "b" if m < 0 else "tie" for m in margins]


def judge_run_execute(
    *, run: JudgeRun, progress: Progress, cancelled: Callable[[], bool]
) -> JudgeRun:
    """Score every pair with the judge and store its verdicts with the run, in one transaction.

    A reward model scores each pair twice, A as the first text and then B, as a pairwise judge
    would be asked; a scalar reward model sees each response on its own, so the two agree
    unless its batches change the arithmetic, and the judges page shows that measured."""
    judge = run.judge
    if judge.source == Judge.Source.ENSEMBLE:
        rows = _ensemble_rows(judge.project)
    else:
        rows = _reward_model_rows(judge, progress)
    with transaction.atomic():
        locked = JudgeRun.objects.select_for_update().get(pk=run.pk)
        if locked.complete:
            return locked
        verdicts_store(judge=judge, rows=rows)
        run.n_pairs = len(rows)
        run.complete = True
        run.finished_at = timezone.now()
        run.save(update_fields=["n_pairs", "complete", "finished_at"])
    return run


def _ensemble_rows(project: Project) -> list[VerdictRow]:
    """The latest scoring run's mean margin, turned to be about A against B."""
    scoring = latest_complete_run(project=project)
    if scoring is None:
        raise JudgeError("the ensemble judge needs a complete scoring run of the project")
    scores = PairScore.objects.filter(run=scoring).values_list("pair_id", "label_scored", "mu")
    rows: list[VerdictRow] = []
    for pair_id, label, mu in scores:
        margin = float(mu) if label == "a" else -float(mu)
        rows.append((pair_id, _sign(np.array([margin]))[0], "", "", margin, ""))
    return rows


def _reward_model_rows(judge: Judge, progress: Progress) -> list[VerdictRow]:
    from workers import rm
    from workers.rm.saved import is_head_model, score_head_model

    path, _ = judge_model_path(project=judge.project, config=judge.config)
    texts = pair_texts(project=judge.project)
    progress(0, 2, f"scoring {len(texts.ids)} pairs, A first")

    def margins(first: list[str], second: list[str]) -> np.ndarray:
        if is_head_model(path):
            return np.asarray(
                score_head_model(
                    folder=path,
                    prompts=texts.prompts,
                    chosen=first,
                    rejected=second,
                    cache=rm.EmbeddingCache(Path(settings.EMBEDDING_CACHE_DIR)),
                )
            )
        return np.asarray(
            rm.score_with_sequence_classifier(
                model_path=path, prompts=texts.prompts, chosen=first, rejected=second
            )
        )

    ab = margins(texts.a_text, texts.b_text)
    progress(1, 2, "scoring again, B first")
    ba = -margins(texts.b_text, texts.a_text)
    mean = (ab + ba) / 2
    return [
        (pair_id, c, x, y, float(m), "")
        for pair_id, c, x, y, m in zip(
            texts.ids, _sign(mean), _sign(ab), _sign(ba), mean, strict=True
        )
    ]
