"""A scoring run's encoding, split into shards that every worker takes a share of.

The run's own task is the coordinator (scoring_run_execute): it finds the texts the embedding
store lacks, cuts them into shards (``shards_plan``), sends one task per shard to the broker,
and takes queued shards itself while it waits (``shards_encode``), so a run on one worker
needs no other. Every shard is a row claimed by id (``shard_claim``): queued -> running ->
done, exactly one worker at a time. A worker beats while it encodes; a running shard whose
beat is older than SCORING_SHARD_STALE_S is queued again and its task sent again
(``shards_requeue_stale``: the reaper's rule, which the coordinator applies too), so a
killed shard is taken again. Once every shard is done the coordinator alone fits and stores
the run, in its one final transaction as before: the run completes once.

Cancelling the run's job stops it: queued shards end cancelled and are never taken; running
ones stop at their next report.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from webapp.jobs.models import Job
from webapp.jobs.services import JobCancelled, beating
from webapp.scoring.models import EncodeShard, ScoringRun
from webapp.scoring.store import PostgresVectorStore

if TYPE_CHECKING:
    from workers.rm.cache import EmbeddingSource

log = logging.getLogger("preflab.scoring")

SHARD_TASK = "preflab.encode_shard"
# A shard whose workers died this many times fails the run: something in it kills workers.
MAX_ATTEMPTS = 3
# The coordinator's pause between looks at shards that other workers hold.
POLL_S = 0.5


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _stale_before() -> Any:
    return timezone.now() - timedelta(seconds=settings.SCORING_SHARD_STALE_S)


def worker_threads() -> int:
    """This worker's share of the machine's cores, for torch's intra-op threads."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // max(settings.WORKERS_PER_HOST, 1))


def shards_plan(
    *,
    run: ScoringRun,
    kind: str,
    model: dict[str, Any],
    setting: str,
    texts: Sequence[str],
    queue: str,
) -> list[EncodeShard]:
    """Queued shards of ``texts`` (each once, none the store holds), sorted by length and cut
    every SCORING_SHARD_TEXTS; their tasks are sent once this commits. Shards an earlier
    attempt of the run left for the same setting are replaced."""
    ordered = sorted(texts, key=len)
    size = max(1, settings.SCORING_SHARD_TEXTS)
    with transaction.atomic():
        EncodeShard.objects.filter(run=run, setting=setting).delete()
        last = EncodeShard.objects.filter(run=run).order_by("-index").first()
        first = last.index + 1 if last is not None else 0
        shards = EncodeShard.objects.bulk_create(
            EncodeShard(
                run=run,
                index=first + n,
                kind=kind,
                model=model,
                setting=setting,
                queue=queue,
                texts=ordered[start : start + size],
                n_texts=len(ordered[start : start + size]),
            )
            for n, start in enumerate(range(0, len(ordered), size))
        )
        ids = [(s.pk, s.queue) for s in shards]
        transaction.on_commit(lambda: _send(ids))
    return shards


def _send(shards: Sequence[tuple[int, str]]) -> None:
    """Hand shards to the broker. One that cannot be sent stays queued: the coordinator takes
    queued shards itself, so the run still finishes, on fewer workers."""
    from webapp.celery import app

    for shard_id, queue in shards:
        try:
            app.send_task(SHARD_TASK, args=[shard_id], queue=queue)
        except Exception:  # kombu's OperationalError, redis-py's errors, OSError...
            log.warning("could not send shard %s; its coordinator will take it", shard_id)


def shard_claim(*, shard_id: int) -> EncodeShard | None:
    """Move a queued shard to running for this worker; None when another worker has it, it
    ended, or its run's job is no longer running. A run without a job (one a bench or a
    command scores in its own process) has nobody to cancel it: its shards are always open."""
    now = timezone.now()
    open_run = Q(run__job__isnull=True) | Q(
        run__job__status=Job.Status.RUNNING, run__job__cancel_requested=False
    )
    claimed = EncodeShard.objects.filter(
        open_run, pk=shard_id, status=EncodeShard.Status.QUEUED
    ).update(
        status=EncodeShard.Status.RUNNING,
        worker=_me(),
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        done=0,
    )
    if claimed != 1:
        return None
    return EncodeShard.objects.select_related("run__job").get(pk=shard_id)


def _next_queued(*, run: ScoringRun) -> EncodeShard | None:
    """Claim the run's next queued shard (the coordinator's share of the work)."""
    while True:
        shard_id = (
            EncodeShard.objects.filter(run=run, status=EncodeShard.Status.QUEUED)
            .order_by("index")
            .values_list("pk", flat=True)
            .first()
        )
        if shard_id is None:
            return None
        shard = shard_claim(shard_id=shard_id)
        if shard is not None:
            return shard
        # another worker took it between the look and the claim (look again), or the job
        # ended or was asked to stop (the caller's cancel check takes it from there)
        if run.job_id is None:
            continue
        live = Job.objects.filter(pk=run.job_id, status=Job.Status.RUNNING)
        if not live.filter(cancel_requested=False).exists():
            return None


def shards_requeue_stale(*, run: ScoringRun | None = None) -> list[int]:
    """Queue again the running shards (of one run, or of all) whose worker stopped beating,
    and send their tasks again; those taken MAX_ATTEMPTS times fail instead. Returns the
    shards queued again. The reaper's rule for shards (workers/tasks.py runs it with the
    reaper's beat; the coordinator runs it for its run while it waits)."""
    stale = EncodeShard.objects.filter(
        status=EncodeShard.Status.RUNNING, heartbeat_at__lt=_stale_before()
    )
    if run is not None:
        stale = stale.filter(run=run)
    requeued: list[tuple[int, str]] = []
    for shard in stale.only("pk", "worker", "attempts", "queue"):
        error = f"its workers stopped reporting {shard.attempts} times (last {shard.worker})"
        if shard.attempts >= MAX_ATTEMPTS:
            EncodeShard.objects.filter(pk=shard.pk, status=EncodeShard.Status.RUNNING).update(
                status=EncodeShard.Status.FAILED, error=error, finished_at=timezone.now()
            )
            continue
        if EncodeShard.objects.filter(
            pk=shard.pk, status=EncodeShard.Status.RUNNING, heartbeat_at__lt=_stale_before()
        ).update(status=EncodeShard.Status.QUEUED, worker=""):
            log.warning("shard %s: %s; queued again", shard.pk, error)
            requeued.append((shard.pk, shard.queue))
    if requeued:
        _send(requeued)
    return [pk for pk, _ in requeued]


def shards_cancel(*, run: ScoringRun) -> int:
    """Cancel the run's shards no worker has taken; running ones stop at their next report."""
    return EncodeShard.objects.filter(run=run, status=EncodeShard.Status.QUEUED).update(
        status=EncodeShard.Status.CANCELLED, finished_at=timezone.now()
    )


def shards_abandon(*, job_id: int) -> None:
    """The shards of a scoring job that ended without its coordinator (the reaper failed it):
    none is taken any more."""
    EncodeShard.objects.filter(
        run__job_id=job_id, status__in=[EncodeShard.Status.QUEUED, EncodeShard.Status.RUNNING]
    ).update(status=EncodeShard.Status.CANCELLED, finished_at=timezone.now())


def shards_progress(*, run: ScoringRun) -> tuple[int, int]:
    """Texts encoded so far across the run's shards, and texts in them."""
    totals = EncodeShard.objects.filter(run=run).aggregate(done=Sum("done"), total=Sum("n_texts"))
    return int(totals["done"] or 0), int(totals["total"] or 0)


def shard_work(
    *, shard: EncodeShard, source: EmbeddingSource, report: Callable[[int], None] | None = None
) -> None:
    """Encode a claimed shard into the store, beating all along; mark it done (or failed,
    or cancelled, and raise). ``report(done)`` hears of its progress."""
    from workers.rm.cache import settings_hash
    from workers.rm.progress import Cancelled
    from workers.rm.store import encode_into, unique_missing

    job_id = shard.run.job_id
    if settings_hash(source.cache_key) != shard.setting:
        raise ValueError(f"shard {shard.pk}: this worker's model has other settings")
    last = [0.0, 0.0]  # when the shard's count was written, when the cancel flag was read

    def beat() -> None:
        EncodeShard.objects.filter(pk=shard.pk, status=EncodeShard.Status.RUNNING).update(
            heartbeat_at=timezone.now()
        )

    def progress(done: int, _total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 1.0 or done == shard.n_texts:
            last[0] = now
            EncodeShard.objects.filter(pk=shard.pk, status=EncodeShard.Status.RUNNING).update(
                done=done, heartbeat_at=timezone.now()
            )
        if report is not None:
            report(done)

    def cancelled() -> bool:
        now = time.monotonic()
        if now - last[1] < 1.0:
            return False
        last[1] = now
        if job_id is None:  # a run scored in its own process: it stops when the run is gone
            return not ScoringRun.objects.filter(pk=shard.run_id).exists()
        stopped = Q(cancel_requested=True) | ~Q(status=Job.Status.RUNNING)
        return Job.objects.filter(stopped, pk=job_id).exists()

    store = PostgresVectorStore()
    every = max(1.0, settings.SCORING_SHARD_STALE_S / 5)
    try:
        with beating(beat=beat, every=every, name=f"shard-{shard.pk}-heartbeat"):
            digests, texts = unique_missing(store=store, setting=shard.setting, texts=shard.texts)
            encode_into(
                store=store,
                setting=shard.setting,
                digests=digests,
                texts=texts,
                encoder=source,
                progress=progress,
                cancel=cancelled,
            )
    except BaseException as exc:
        stopped = isinstance(exc, Cancelled | JobCancelled)
        EncodeShard.objects.filter(pk=shard.pk, status=EncodeShard.Status.RUNNING).update(
            status=EncodeShard.Status.CANCELLED if stopped else EncodeShard.Status.FAILED,
            error="" if stopped else f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    EncodeShard.objects.filter(pk=shard.pk, status=EncodeShard.Status.RUNNING).update(
        status=EncodeShard.Status.DONE,
        done=shard.n_texts,
        texts=[],  # the store has them now; the row need not keep a second copy
        finished_at=timezone.now(),
    )


@functools.lru_cache(maxsize=1)
def _loaded(kind: str, model_json: str) -> EmbeddingSource:
    """The model of a shard, loaded once per worker process for the run's many shards."""
    from workers import rm
    from workers.rm.members import RewardSource

    model = json.loads(model_json)
    if kind == EncodeShard.Kind.REWARD:
        return RewardSource(**model)
    config = rm.EncoderConfig(**(model | {"layers": tuple(model.get("layers", ()))}))
    return rm.Encoder(dataclasses.replace(config, threads=worker_threads()))


def shard_execute(*, shard_id: int) -> bool:
    """A worker's whole part in one shard: claim it, load its model, encode. False when it was
    not this worker's to take."""
    from workers.rm.progress import Cancelled

    shard = shard_claim(shard_id=shard_id)
    if shard is None:
        return False
    try:
        source = _loaded(shard.kind, json.dumps(shard.model, sort_keys=True))
    except BaseException as exc:
        EncodeShard.objects.filter(pk=shard.pk, status=EncodeShard.Status.RUNNING).update(
            status=EncodeShard.Status.FAILED,
            error=f"could not load the model: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    try:
        shard_work(shard=shard, source=source)
    except (Cancelled, JobCancelled):
        return True
    return True


def shards_encode(
    *,
    run: ScoringRun,
    kind: str,
    source: EmbeddingSource,
    model: dict[str, Any],
    texts: Sequence[str],
    queue: str,
    progress: Callable[..., None],
    cancelled: Callable[[], bool],
) -> dict[str, int]:
    """The coordinator's loop: every text of ``texts`` in the store when it returns.

    Plans shards of the missing texts, takes queued ones itself with ``source`` (the model
    already loaded here) while other workers take theirs, queues again those whose worker
    died, and reports texts done across all shards. Raises JobCancelled on a cancel (queued
    shards cancelled first), ValueError when a shard failed."""
    from workers.rm.cache import settings_hash
    from workers.rm.progress import Cancelled
    from workers.rm.store import unique_missing

    store = PostgresVectorStore()
    setting = settings_hash(source.cache_key)
    _, missing = unique_missing(store=store, setting=setting, texts=texts)
    n_unique = len(set(texts))
    cached = n_unique - len(missing)
    figures = {"texts": n_unique, "cached": cached, "shards": 0}
    if not missing:
        return figures
    shards = shards_plan(
        run=run, kind=kind, model=model, setting=setting, texts=missing, queue=queue
    )
    figures["shards"] = len(shards)
    ids = [s.pk for s in shards]

    def report(_own: int = 0) -> None:
        done, _ = shards_progress(run=run)
        progress(cached + done, n_unique, f"encoding {n_unique} texts in {len(ids)} shards")

    try:
        while True:
            if cancelled():
                raise JobCancelled(f"scoring run {run.pk} was cancelled")
            shard = _next_queued(run=run)
            if shard is not None:
                shard_work(shard=shard, source=source, report=report)
                continue
            failed = EncodeShard.objects.filter(pk__in=ids, status=EncodeShard.Status.FAILED)
            first = failed.order_by("index").first()
            if first is not None:
                raise ValueError(f"shard {first.index} failed on {first.worker}: {first.error}")
            left = EncodeShard.objects.filter(pk__in=ids).exclude(status=EncodeShard.Status.DONE)
            if not left.exists():
                break
            open_ = (EncodeShard.Status.QUEUED, EncodeShard.Status.RUNNING)
            if not left.filter(status__in=open_).exists():
                # none is done, queued or running: nobody will finish them (cancelled
                # from outside this run's job); waiting would never end
                raise ValueError(f"scoring run {run.pk}: shards stopped before they were done")
            shards_requeue_stale(run=run)
            report()
            time.sleep(POLL_S)
    except (JobCancelled, Cancelled) as exc:
        shards_cancel(run=run)
        raise JobCancelled(str(exc)) from exc
    except BaseException:
        shards_cancel(run=run)
        raise
    report()
    return figures
