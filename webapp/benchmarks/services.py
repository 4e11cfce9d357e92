"""Writes of the benchmarks stage: importing a benchmark, and evaluating contenders on it.

A contender is {"kind", "ref", "name"}: a registered model (ref: its id), an external reward
model (ref: its folder), a judge (ref: its id), a project's ensemble (ref: the project's id)
or a baseline ("always_a", "random"). Results are written in the evaluation's final
transaction, so a killed worker leaves none half-stored.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webapp.benchmarks import metrics
from webapp.benchmarks.formats import read_benchmark
from webapp.benchmarks.models import Benchmark, Evaluation, Result
from webapp.imports.containers import FormatError, RecordError
from webapp.imports.models import ImportBatch
from webapp.imports.services import import_batch_create, import_run
from webapp.jobs.runs import run_create
from webapp.jobs.services import JobCancelled
from webapp.judges.models import Judge, JudgeVerdict
from webapp.judges.services import GPU_BYTES, judge_model_path
from webapp.pairs.models import Pair
from webapp.pairs.selectors import pair_texts
from webapp.projects.models import Membership, Project
from webapp.projects.services import project_get_or_create
from webapp.registry.models import ModelKind, RegisteredModel
from webapp.scoring.models import ScoringRun
from webapp.scoring.selectors import labelled_pairs, latest_complete_run

Progress = Callable[..., None]
MAPPING = {"prompt": "prompt", "response_a": "response_a", "response_b": "response_b",
           "label": "label", "id": "id"}  # fmt: skip
BASELINES = ("always_a", "random")
MAX_ERRORS_KEPT = 200


class BenchmarkError(ValueError):
    """A benchmark request that cannot be met; the message says why."""


def benchmark_import(
    *,
    name: str,
    path: Path,
    file_name: str,
    fmt: str,
    weights: dict[str, float] | None = None,
    mapping: dict[str, str] | None = None,
    created_by: Any = None,
    progress: Progress | None = None,
) -> tuple[Benchmark, dict[str, Any]]:
    """Add a file's pairs to the benchmark ``name`` (created with its own project if new).
    Bad records are reported with their file, line and field; the rest are imported."""
    name = name.strip()[:100]
    if not name:
        raise BenchmarkError("a benchmark needs a name")
    if weights is not None and not all(
        isinstance(k, str) and isinstance(v, int | float) and v >= 0 for k, v in weights.items()
    ):
        raise BenchmarkError("weights are {category: a number >= 0}")
    errors: list[RecordError] = []
    out = Path(settings.UPLOAD_DIR) / f"benchmark-{uuid.uuid4().hex}"
    out.mkdir(parents=True, exist_ok=True)
    converted = out / (Path(file_name).stem + ".pairs.jsonl")
    n = 0
    lines: list[int] = []  # the benchmark file's line of each converted line
    try:
        with open(converted, "w") as fh:
            for item in read_benchmark(path, name=file_name, fmt=fmt, mapping=mapping):
                if isinstance(item, RecordError):
                    errors.append(item)
                    continue
                fh.write(json.dumps(item.record()) + "\n")
                lines.append(item.line)
                n += 1
    except (FormatError, ValueError) as exc:
        raise BenchmarkError(str(exc)) from exc
    if n == 0:
        raise BenchmarkError(f"{file_name}: no valid benchmark record")
    with transaction.atomic():
        project = project_get_or_create(name=f"benchmark: {name}", created_by=created_by)
        benchmark, _ = Benchmark.objects.get_or_create(
            name=name, defaults={"project": project, "format": fmt}
        )
        if weights is not None:
            benchmark.weights = {**benchmark.weights, **weights}
            benchmark.save(update_fields=["weights"])
        if created_by is not None:
            Membership.objects.get_or_create(
                project=project, user=created_by, defaults={"role": Membership.Role.ADMIN}
            )
    batch = import_batch_create(
        project=benchmark.project, path=converted, file_name=file_name, fmt="mapping",
        mapping=MAPPING, default_split="test", created_by=created_by,
    )  # fmt: skip
    import_run(batch=batch, progress=progress)
    if batch.status == ImportBatch.Status.FAILED:
        raise BenchmarkError(batch.error)
    # read_benchmark checks what the import does, so the import rejects nothing; were it to,
    # its report names the benchmark file's line, not the converted file's
    rejected = [
        {"file": e.file, "line": e.line, "field": e.field, "reason": e.reason} for e in errors
    ] + [{**e, "line": lines[e["line"] - 1] if 0 < e["line"] <= n else 0} for e in batch.errors]
    return benchmark, {
        "benchmark": benchmark.pk,
        "pairs": n,
        "created": batch.pairs_created,
        "existing": batch.pairs_existing,
        "rejected": len(rejected),
        "errors": rejected[:MAX_ERRORS_KEPT],
    }


# --- contenders -------------------------------------------------------------------------------


def contender(kind: str, ref: Any, name: str) -> dict[str, Any]:
    return {"kind": kind, "ref": ref, "name": name[:300]}


def contender_parse(spec: str) -> dict[str, Any]:
    """A contender from the command line: registered:ID, rm:PATH, judge:ID, ensemble:PROJECT
    (a name or an id), always_a or random."""
    if spec in BASELINES:
        return contender(Result.Kind.BASELINE, spec, spec.replace("_", "-"))
    kind, _, ref = spec.partition(":")
    if kind == "registered" and ref.isdigit():
        model = RegisteredModel.objects.select_related("project").filter(pk=int(ref)).first()
        if model is None:
            raise BenchmarkError(f"no registered model {ref}")
        return contender(Result.Kind.REGISTERED, model.pk, f"{model.project.name} v{model.version}")
    if kind == "rm" and ref:
        if not Path(ref).is_dir():
            raise BenchmarkError(f"the reward model folder {ref!r} is not here")
        return contender(Result.Kind.REWARD_MODEL, ref, f"rm:{Path(ref).name}")
    if kind == "judge" and ref.isdigit():
        judge = Judge.objects.filter(pk=int(ref)).first()
        if judge is None:
            raise BenchmarkError(f"no judge {ref}")
        return contender(Result.Kind.JUDGE, judge.pk, f"judge {judge.name}")
    if kind == "ensemble" and ref:
        project = Project.objects.filter(
            **({"pk": int(ref)} if ref.isdigit() else {"name": ref})
        ).first()
        if project is None:
            raise BenchmarkError(f"no project {ref!r}")
        return contender(Result.Kind.ENSEMBLE, project.pk, f"ensemble of {project.name}")
    raise BenchmarkError(
        f"cannot read the contender {spec!r}: registered:ID, rm:PATH, judge:ID, "
        "ensemble:PROJECT, always_a or random"
    )


def contenders_all(*, benchmark: Benchmark, projects: list[Project]) -> list[dict[str, Any]]:
    """Every registered model, reward-model judge and ensemble of ``projects``, the benchmark's
    own verdict judges, and the two baselines."""
    out = [contender_parse(b) for b in BASELINES]
    ids = [p.pk for p in projects if p.pk != benchmark.project_id]
    for model in RegisteredModel.objects.filter(project_id__in=ids).select_related("project"):
        out.append(contender_parse(f"registered:{model.pk}"))
    judges = Judge.objects.filter(project_id__in=ids, source=Judge.Source.REWARD_MODEL)
    own = Judge.objects.filter(project=benchmark.project, source=Judge.Source.VERDICTS)
    for judge in [*judges, *own]:
        out.append(contender(Result.Kind.JUDGE, judge.pk, f"judge {judge.name}"))
    with_runs = ScoringRun.objects.filter(project_id__in=ids, complete=True).exclude(
        mode=ScoringRun.Mode.FINETUNE
    )
    for project in Project.objects.filter(pk__in=with_runs.values("project_id")):
        out.append(contender(Result.Kind.ENSEMBLE, project.pk, f"ensemble of {project.name}"))
    return out


def _queue(contenders: list[dict[str, Any]]) -> str:
    registered = [c["ref"] for c in contenders if c["kind"] == Result.Kind.REGISTERED]
    finetuned = RegisteredModel.objects.filter(pk__in=registered, kind=ModelKind.FINETUNE)
    outside = any(c["kind"] == Result.Kind.REWARD_MODEL for c in contenders)
    return "gpu" if finetuned.exists() or (outside and _any_large(contenders)) else "default"


def _any_large(contenders: list[dict[str, Any]]) -> bool:
    for c in contenders:
        if c["kind"] == Result.Kind.REWARD_MODEL:
            size = sum(f.stat().st_size for f in Path(c["ref"]).rglob("*") if f.is_file())
            if size >= GPU_BYTES:
                return True
    return False


def evaluation_create(
    *,
    benchmark: Benchmark,
    contenders: list[dict[str, Any]],
    created_by: Any = None,
    seed: int = 0,
    enqueue: bool = True,
) -> Evaluation:
    if not contenders:
        raise BenchmarkError("nothing to evaluate")
    return run_create(
        Evaluation,
        job_kind="evaluate",
        project=benchmark.project,
        params={"benchmark": benchmark.pk, "contenders": len(contenders)},
        config={"contenders": contenders, "seed": seed},
        created_by=created_by,
        queue=_queue(contenders),
        enqueue=enqueue,
        benchmark=benchmark,
    )


# --- scoring a benchmark ----------------------------------------------------------------------


class _Pairs:
    def __init__(self, project: Project) -> None:
        texts = pair_texts(project=project)
        labels = dict(Pair.objects.filter(project=project).values_list("pk", "imported_label"))
        keep = [i for i, pk in enumerate(texts.ids) if labels.get(pk) in ("a", "b")]
        self.ids = [texts.ids[i] for i in keep]
        self.prompts = [texts.prompts[i] for i in keep]
        self.a = [texts.a_text[i] for i in keep]
        self.b = [texts.b_text[i] for i in keep]
        self.labels = [labels[pk] for pk in self.ids]
        meta = [texts.metadata[i] for i in keep]
        self.categories = [str(m.get("category") or "all") for m in meta]
        self.items = [str(m.get("item", pk)) for m, pk in zip(meta, self.ids, strict=True)]
        self.styles = [(m.get("chosen_style"), m.get("rejected_style")) for m in meta]


def evaluation_execute(
    *, run: Evaluation, progress: Progress, cancelled: Callable[[], bool]
) -> Evaluation:
    """Score every contender of the run on its benchmark, then store the results at once."""
    benchmark = run.benchmark
    pairs = _Pairs(benchmark.project)
    if not pairs.ids:
        raise BenchmarkError(f"the benchmark {benchmark.name} has no labelled pairs")
    contenders = run.config.get("contenders", [])
    results = []
    for k, entry in enumerate(contenders):
        progress(k, len(contenders), f"scoring {entry['name']} on {len(pairs.ids)} pairs")
        if cancelled():
            raise JobCancelled("cancelled")
        try:
            correct, coverage = _correct(entry, pairs, seed=int(run.config.get("seed", 0)))
            figures = _figures(correct, pairs, benchmark) | {"coverage": coverage}
        except (BenchmarkError, ValueError, OSError) as exc:
            figures = {"error": str(exc)}
        results.append((entry, figures))
    with transaction.atomic():
        locked = Evaluation.objects.select_for_update().get(pk=run.pk)
        if locked.complete:
            return locked
        Result.objects.bulk_create(
            Result(
                evaluation=run,
                benchmark=benchmark,
                name=entry["name"],
                kind=entry["kind"],
                registered_model_id=entry["ref"]
                if entry["kind"] == Result.Kind.REGISTERED
                else None,
                accuracy=figures.get("accuracy"),
                figures=figures,
            )
            for entry, figures in results
        )
        run.complete = True
        run.finished_at = timezone.now()
        run.save(update_fields=["complete", "finished_at"])
    return run


def _figures(correct: np.ndarray, pairs: _Pairs, benchmark: Benchmark) -> dict[str, Any]:
    table = metrics.accuracy_table(
        correct, pairs.categories, items=pairs.items, weights=benchmark.weights or None
    )
    styled = [i for i, (c, r) in enumerate(pairs.styles) if c is not None and r is not None]
    if styled:
        rows = np.array(styled)
        table["styles"] = metrics.style_grid(
            correct[rows],
            [pairs.styles[i][0] for i in styled],
            [pairs.styles[i][1] for i in styled],
        )
        table["styles_by_category"] = {
            cat: metrics.style_grid(
                correct[rows][keep],
                [pairs.styles[i][0] for i, k in zip(styled, keep, strict=True) if k],
                [pairs.styles[i][1] for i, k in zip(styled, keep, strict=True) if k],
            )
            for cat in sorted({pairs.categories[i] for i in styled})
            if (keep := np.array([pairs.categories[i] == cat for i in styled])).any()
        }
    return table


def _correct(entry: dict[str, Any], pairs: _Pairs, *, seed: int) -> tuple[np.ndarray, float]:
    """(N,) correctness of the contender on each pair, and the share of pairs it answered."""
    from workers.rm.benchmark import correct

    kind, ref = entry["kind"], entry["ref"]
    n = len(pairs.ids)
    if kind == Result.Kind.BASELINE:
        if ref == "always_a":
            return correct(np.ones(n), pairs.labels), 1.0
        return correct(np.random.default_rng(seed).choice([-1.0, 1.0], size=n), pairs.labels), 1.0
    if kind == Result.Kind.REGISTERED:
        model = RegisteredModel.objects.get(pk=ref)
        return correct(_model_margins(model.path, pairs), pairs.labels), 1.0
    if kind == Result.Kind.REWARD_MODEL:
        return correct(_model_margins(str(ref), pairs), pairs.labels), 1.0
    if kind == Result.Kind.ENSEMBLE:
        return correct(_ensemble_margins(Project.objects.get(pk=ref), pairs), pairs.labels), 1.0
    if kind == Result.Kind.JUDGE:
        return _judge_correct(Judge.objects.get(pk=ref), pairs)
    raise BenchmarkError(f"unknown contender kind {kind!r}")


def _judge_correct(judge: Judge, pairs: _Pairs) -> tuple[np.ndarray, float]:
    if judge.source == Judge.Source.REWARD_MODEL:
        path, _ = judge_model_path(project=judge.project, config=judge.config)
        return _correct(contender(Result.Kind.REWARD_MODEL, path, judge.name), pairs, seed=0)
    if judge.source == Judge.Source.ENSEMBLE:
        return _correct(
            contender(Result.Kind.ENSEMBLE, judge.project_id, judge.name), pairs, seed=0
        )
    said = dict(
        JudgeVerdict.objects.filter(judge=judge, pair_id__in=pairs.ids).values_list(
            "pair_id", "choice"
        )
    )
    if not said:
        raise BenchmarkError(f"the judge {judge.name} gave no verdict on this benchmark's pairs")
    # a pair the judge did not answer counts as a coin's toss, and the coverage says how many
    values = [
        0.5 if said.get(pk, "tie") == "tie" else float(said[pk] == label)
        for pk, label in zip(pairs.ids, pairs.labels, strict=True)
    ]
    return np.array(values), len(said) / len(pairs.ids)


def _model_margins(path: str, pairs: _Pairs) -> np.ndarray:
    from workers import rm
    from workers.rm.saved import is_head_model, score_head_model

    if is_head_model(path):
        return np.asarray(
            score_head_model(
                folder=path,
                prompts=pairs.prompts,
                chosen=pairs.a,
                rejected=pairs.b,
                cache=rm.EmbeddingCache(Path(settings.EMBEDDING_CACHE_DIR)),
            )
        )
    return np.asarray(
        rm.score_with_sequence_classifier(
            model_path=path, prompts=pairs.prompts, chosen=pairs.a, rejected=pairs.b
        )
    )


def _ensemble_margins(project: Project, pairs: _Pairs) -> np.ndarray:
    """The project's latest scoring run's heads, trained again on all its labelled pairs with
    the run's settings, scoring the benchmark's pairs."""
    from workers import rm
    from workers.rm.benchmark import ensemble_transfer_margins

    run = latest_complete_run(project=project)
    if run is None or run.mode == ScoringRun.Mode.FINETUNE:
        raise BenchmarkError(f"{project.name} has no complete scoring run of reward heads")
    config = run.config
    encoder = rm.EncoderConfig(**config["encoder"]) if "encoder" in config else rm.EncoderConfig()
    ensemble = (
        rm.EnsembleConfig(**config["ensemble"]) if "ensemble" in config else rm.EnsembleConfig()
    )
    train = labelled_pairs(project=project)
    return ensemble_transfer_margins(
        train_prompts=train.prompts, train_chosen=train.chosen, train_rejected=train.rejected,
        prompts=pairs.prompts, response_a=pairs.a, response_b=pairs.b,
        encoder=rm.Encoder(encoder), config=ensemble,
        cache=rm.EmbeddingCache(Path(settings.EMBEDDING_CACHE_DIR)),
    )  # fmt: skip
