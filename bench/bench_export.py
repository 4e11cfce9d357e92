"""Export throughput and memory: 1M scored pairs to Parquet and to JSON Lines.

Target: at least 100,000 rows/s and a peak resident memory under 400 MB for the exporting
process.

The bench database gets 1M pairs in a few set-based statements (generate_series), with texts
from the real HH-RLHF sample bundled for the demo (prompts stored as conversations, as the
importer stores HH transcripts; the standard layout turns each back into a transcript), so rows
have HH-RLHF's real length distribution. 14% of the pairs are labelled B and 2% are ties; 10%
are in "test". A complete scoring run scores every A/B pair (mu, sigma), 5% of the pairs carry
a flag and 5% have three votes each, so every join of the export query has data behind it.

Each export runs as ``manage.py export_dataset`` in its own process, exactly as a user runs it;
its peak RSS is the kernel's maximum resident set size for that process (``os.wait4``).
Figures: export.<fmt>_rows_per_s (rows over the command's own export time, start-up
excluded), export.<fmt>_seconds, export.<fmt>_wall_seconds (start-up included),
export.<fmt>_peak_rss_mb, export.<fmt>_mb (file sizes), export.rows, export.fill_seconds,
export.streams (the EXPORT_STREAMS the exports ran with: rows are built on that many database
connections at once). BENCH_EXPORT_PAIRS=100000 makes a quick run.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.db import bench_database, listening

PAIRS = int(os.environ.get("BENCH_EXPORT_PAIRS", 1_000_000))
ROOT = Path(__file__).resolve().parent.parent
SOURCE_FILE = ROOT / "webapp" / "ops" / "demo" / "hh-rlhf-test-sample.jsonl.gz"
PROJECT = "bench export"
FORMATS = ("parquet", "jsonl")

Figures = Callable[[str, float, str], None]


def _source_rows() -> list[tuple[str, str, str]]:
    """(conversation JSON, response A, response B) of the bundled HH-RLHF records."""
    from webapp.imports.formats import ParsedPair, parse_hh

    rows = []
    with gzip.open(SOURCE_FILE, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            try:
                parsed: ParsedPair = parse_hh(n, json.loads(line))
            except Exception:
                continue
            rows.append((json.dumps(parsed.prompt), parsed.response_a, parsed.response_b))
    return rows


def fill(pairs: int) -> None:
    """1M pairs with scores, flags and some votes, in set-based statements."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from webapp.projects.models import Project
    from webapp.scoring.models import ScoringRun

    project = Project.objects.create(name=PROJECT)
    run = ScoringRun.objects.create(project=project, complete=True, n_pairs=pairs)
    users = [get_user_model().objects.create(username=f"bench{i}") for i in range(3)]
    source = _source_rows()
    prompts = (pairs + 1) // 2
    params = {
        "project": project.pk,
        "run": run.pk,
        "n": pairs,
        "prompts": prompts,
        "src": len(source),
        "u0": users[0].pk,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # checked row by row, so no trigger event is pending when the triggers go back on
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("CREATE TEMP TABLE src (k int, conv jsonb, a text, b text)")
        with cursor.cursor.copy("COPY src (k, conv, a, b) FROM STDIN") as copy:
            for k, (conv, a, b) in enumerate(source):
                copy.write_row((k, conv, a, b))
        for table in ("pairs_pair", "labelling_vote"):
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")  # queue upkeep
        cursor.execute(
            """
            INSERT INTO pairs_prompt (id, content_hash, text, conversation)
            SELECT i + 1, decode(md5('p' || i), 'hex'), '', s.conv
            FROM generate_series(0, %(prompts)s - 1) i JOIN src s ON s.k = i %% %(src)s;
            INSERT INTO pairs_response (id, content_hash, text, source_model)
            SELECT i + 1, decode(md5('r' || i), 'hex'),
                CASE WHEN i %% 2 = 0 THEN s.a ELSE s.b END || ' [#' || i || ']', ''
            FROM generate_series(0, 2 * %(n)s - 1) i JOIN src s ON s.k = (i / 2) %% %(src)s;
            INSERT INTO pairs_pair (id, project_id, prompt_id, response_a_id, response_b_id,
                imported_label, dedup_key, source_file, source_line, split, external_id,
                metadata, created_at)
            SELECT i + 1, %(project)s, i / 2 + 1, 2 * i + 1, 2 * i + 2,
                CASE WHEN i %% 50 = 0 THEN 'tie' WHEN i %% 7 = 0 THEN 'b' ELSE 'a' END,
                decode(md5('k' || i), 'hex'), 'bench.jsonl', i + 1,
                CASE WHEN i %% 10 = 0 THEN 'test' ELSE 'train' END, '', '{}', now()
            FROM generate_series(0, %(n)s - 1) i;
            INSERT INTO scoring_pairscore (run_id, pair_id, label_scored, label_source, mu,
                sigma, p_label, margins, decile)
            SELECT %(run)s, p.id, p.imported_label, 'imported', sin(p.id) * 2,
                0.1 + abs(cos(p.id)), 0.5 + sin(p.id) / 2.5, ARRAY[sin(p.id) * 2], 0
            FROM pairs_pair p WHERE p.project_id = %(project)s AND p.imported_label IN ('a', 'b');
            INSERT INTO flags_flag (project_id, pair_id, kind, severity, source, scoring_run_id,
                details, created_at)
            SELECT %(project)s, p.id, 'ambiguous', 1, 'scoring', %(run)s, '{}', now()
            FROM pairs_pair p WHERE p.project_id = %(project)s AND p.id %% 20 = 3;
            INSERT INTO labelling_vote (pair_id, annotator_id, choice, rationale, shown_order,
                created_at)
            SELECT p.id, %(u0)s + u, CASE WHEN u = 2 THEN 'b' ELSE 'a' END, '', 'ab', now()
            FROM pairs_pair p CROSS JOIN generate_series(0, 2) u
            WHERE p.project_id = %(project)s AND p.id %% 20 = 7;
            """,
            params,
        )
        for table in ("pairs_pair", "labelling_vote"):
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        for table in ("pairs_prompt", "pairs_response", "pairs_pair"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _database_url() -> str:
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    if settings.EMBEDDED_DATABASE:
        from webapp import embedded

        host = embedded.ensure_postgres(Path(settings.PREFLAB_HOME))
        return f"postgresql://{db['USER']}@/{db['NAME']}?host={host}"
    host = db.get("HOST") or "127.0.0.1"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgresql://{db['USER']}{password}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"


def export_once(fmt: str, out: Path) -> tuple[float, float, int, float]:
    """(export seconds, wall seconds, peak RSS bytes, rows/s) of one export_dataset run."""
    env = dict(os.environ, DATABASE_URL=_database_url(), PYTHONUNBUFFERED="1")
    if "REDIS_URL" not in env and listening("127.0.0.1", 6379):
        # progress events go to the local Redis rather than an embedded one started for this
        env["REDIS_URL"] = "redis://127.0.0.1:6379/14"
    command = [
        sys.executable,
        "manage.py",
        "export_dataset",
        "--project",
        PROJECT,
        "--format",
        fmt,
        "--out",
        str(out),
        "--margin",
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    output = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode:
        raise RuntimeError(f"export_dataset failed ({proc.returncode}):\n{output}")
    found = re.search(r"wrote (\d+) rows in ([\d.]+) s", output)
    if not found:
        raise RuntimeError(f"no summary in the command's output:\n{output}")
    rows, seconds = int(found.group(1)), float(found.group(2))
    # ru_maxrss is in kilobytes on Linux
    return seconds, wall, usage.ru_maxrss * 1024, rows / seconds


def run(figures: Figures) -> None:
    with bench_database():
        started = time.perf_counter()
        fill(PAIRS)
        figures("fill_seconds", time.perf_counter() - started, "s")
        from webapp.pairs.models import Pair

        exported = Pair.objects.filter(imported_label__in=["a", "b"]).count()
        figures("rows", exported, "rows")
        from django.conf import settings

        figures("streams", settings.EXPORT_STREAMS, "connections")  # the commands inherit it
        work = Path(tempfile.mkdtemp(prefix="preflab-bench-export-"))
        try:
            for fmt in FORMATS:
                out = work / fmt
                seconds, wall, rss, rate = export_once(fmt, out)
                size = sum(p.stat().st_size for p in out.iterdir())
                figures(f"{fmt}_rows_per_s", rate, "rows/s")
                figures(f"{fmt}_seconds", seconds, "s")
                figures(f"{fmt}_wall_seconds", wall, "s")
                figures(f"{fmt}_peak_rss_mb", rss / 2**20, "MB")
                figures(f"{fmt}_mb", size / 2**20, "MB")
                shutil.rmtree(out)
        finally:
            shutil.rmtree(work, ignore_errors=True)
