"""One Celery worker against two on one scoring run, each from a cold embedding store.

One worker process with all of this machine's cores for torch, against two processes with
half each (WORKERS_PER_HOST=2), on the same project: real HH-RLHF pairs, repeated with a
numbered prompt past the 4.6k the test splits hold, so that every text is new to the store.
On a 2-core machine two workers cannot be faster than one: the ratio shows what sharding
costs (claims, store writes, the coordinator's polling), not what it gains; on more machines
each worker brings its own cores.

BENCH_WORKER_PAIRS (default 1000) and BENCH_WORKER_MAX_LENGTH (default 32 tokens): the
issue's 20k pairs take hours on a loaded 2-core machine at about 10 texts/s; the default
figure is smaller and its texts shorter so that it fits in minutes. Set them to measure 20k.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

Figures = Callable[[str, float, str], None]
NEEDS_SHARED_DATA = True
PAIRS = int(os.environ.get("BENCH_WORKER_PAIRS", "1000"))
MAX_LENGTH = int(os.environ.get("BENCH_WORKER_MAX_LENGTH", "32"))


def run(figures: Figures) -> None:
    from bench.db import bench_database
    from bench.scoring_runs import celery_run, hh_records, project_with
    from webapp.scoring.services import ScoringOptions

    with bench_database():
        project = project_with(hh_records(PAIRS), "bench workers")
        options = ScoringOptions(max_length=MAX_LENGTH)
        logs = Path(tempfile.mkdtemp(prefix="bench-workers-"))
        one = celery_run(project, options, 1, logs)
        two = celery_run(project, options, 2, logs)
    figures("pairs", float(PAIRS), "pairs")
    figures("max_length", float(MAX_LENGTH), "tokens")
    figures("one_worker_seconds", one, "s")
    figures("two_workers_seconds", two, "s")
    figures("two_vs_one_worker_speedup", one / two, "x")
    figures("cores", float(os.cpu_count() or 1), "cores")
