"""Ranking load for the labelling benchmark: a project of items to rank, and simulated
annotators who rank them over HTTP as the ranking page does (static/js/label_items.js).

``fill_items`` makes a ranking project of many items with SQL (``INSERT ... SELECT
generate_series``) over the demo's real HH-RLHF texts: each item is one of its prompts with K
real responses (the chosen and rejected answers of K / 2 of its pairs), so pages render real
texts through the markdown filter. ``run_item_load`` has annotators, on the keep-alive
connections of bench/load.py, open the page's one item (``POST /label/next/``), then answer
each with one request, ``POST /label/answer/`` with a ranking of the positions shown (random,
sometimes with a tie), whose answer is the next item. Storing an answer derives its votes on
the item's pairs in the same transaction, so a request does what the page's does.
``check_items`` holds what the server acknowledged against the answers stored.
"""

from __future__ import annotations

import json
import random
import re
import secrets
import sys
import time
from typing import Any
from urllib.parse import quote

from bench.load import DEMO_FILE, Connection, Tally, _held, run_annotators

POSITIONS = re.compile(rb'data-positions="([^"]*)"')
K = 4


def fill_items(items: int, *, k: int = K) -> int:
    """A ranking project of ``items`` items of ``k`` real responses; returns its id."""
    from django.db import connection

    from webapp.imports.services import import_batch_create, import_run
    from webapp.labelling.models import ItemQueueItem
    from webapp.pairs.models import Item, ItemResponse, Pair
    from webapp.projects.services import project_create

    source = project_create(name="Ranking bench source")
    import_run(batch=import_batch_create(project=source, path=DEMO_FILE, file_name=DEMO_FILE.name))
    project = project_create(name="Ranking bench", label_scheme="ranking", votes_per_pair=3)
    started = time.perf_counter()
    tables = {
        "items": Item._meta.db_table,
        "responses": ItemResponse._meta.db_table,
        "pairs": Pair._meta.db_table,
        "queue": ItemQueueItem._meta.db_table,
    }
    with connection.cursor() as cursor:
        # numbered source pairs: item i takes pairs i*h .. i*h + h - 1 (mod the source's
        # count), h = k / 2, and the prompt of the first
        cursor.execute(
            f"""
            CREATE TEMP TABLE bench_source AS
            SELECT row_number() OVER (ORDER BY id) - 1 AS n, prompt_id, response_a_id,
                   response_b_id FROM {tables["pairs"]} WHERE project_id = %s
            """,
            [source.pk],
        )
        cursor.execute("SELECT count(*) FROM bench_source")
        (distinct,) = cursor.fetchone() or (0,)
        half = k // 2
        cursor.execute(
            f"""
            INSERT INTO {tables["items"]} (project_id, prompt_id, dedup_key, source_file,
                source_line, split, external_id, metadata, created_at)
            SELECT %(project)s, s.prompt_id, decode(md5('bench-item-' || i), 'hex'), 'bench',
                i, 'train', '', '{{}}', now()
            FROM generate_series(0, %(items)s - 1) AS i
            JOIN bench_source s ON s.n = (i * %(half)s) %% %(distinct)s
            """,
            {"project": project.pk, "items": items, "half": half, "distinct": distinct},
        )
        cursor.execute(
            f"""
            INSERT INTO {tables["responses"]} (item_id, position, response_id, metadata)
            SELECT it.id, p, CASE WHEN p %% 2 = 0 THEN s.response_a_id ELSE s.response_b_id END,
                '{{}}'
            FROM {tables["items"]} it
            CROSS JOIN generate_series(0, %(k)s - 1) AS p
            JOIN bench_source s ON s.n = (it.source_line * %(half)s + p / 2) %% %(distinct)s
            WHERE it.project_id = %(project)s
            """,
            {"project": project.pk, "k": k, "half": half, "distinct": distinct},
        )
        cursor.execute("DROP TABLE bench_source")
        for table in tables.values():
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(
        f"labelling: {items} ranking items of {k} responses in "
        f"{time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return project.pk


def members_ensure(project_id: int, n: int) -> None:
    """The first n bench annotators (bench/load.py's, made already) as annotators here too."""
    from django.contrib.auth import get_user_model

    from webapp.projects.models import Membership

    users = get_user_model().objects.filter(username__in=[f"bench-annotator-{i}" for i in range(n)])
    Membership.objects.bulk_create(
        [Membership(project_id=project_id, user=u, role=Membership.Role.ANNOTATOR) for u in users],
        ignore_conflicts=True,
    )


def _positions(body: bytes) -> list[int]:
    match = POSITIONS.search(body)
    return json.loads(match.group(1).decode().replace("&quot;", '"')) if match else []


def ranking_of(positions: list[int], rng: random.Random) -> dict[str, Any]:
    """A random ranking of the positions shown, best first; now and then two share a tier."""
    order = list(positions)
    rng.shuffle(order)
    tiers = [[p] for p in order]
    if len(tiers) > 2 and rng.random() < 0.3:
        tiers[1:3] = [tiers[1] + tiers[2]]
    return {"tiers": tiers}


async def rank(
    conn: Connection, project_id: int, tally: Tally, window: tuple[float, float], seed: int
) -> None:
    """One annotator on the ranking page: one item held, one request an answer."""
    rng = random.Random(seed)
    base = f"/projects/{project_id}/label"
    start, stop = window
    body = b""
    for _ in range(4):
        status, _, body = await conn.post(f"{base}/next/", {})
        if status == 200:
            break
        tally.errors += 1
        tally.error_samples.append(f"next {status}: {body[:120]!r}")
    held = _held(body)
    while held is not None and (now := time.perf_counter()) < stop:
        token, round_ = held
        form = {
            "token": token,
            "round": round_,
            "payload": quote(json.dumps(ranking_of(_positions(body), rng))),
            "time_ms": str(rng.randrange(2000, 30000)),
        }
        t0 = time.perf_counter()
        status, headers, body = await conn.post(f"{base}/answer/", form)
        t1 = time.perf_counter()
        outcome = headers.get("x-vote-status", "")
        tally.statuses[outcome] = tally.statuses.get(outcome, 0) + 1
        if status != 200 or outcome != "stored":
            tally.errors += 1
            tally.error_samples.append(f"answer {status} {outcome}: {body[:120]!r}")
            break
        tally.stored.add(token)
        held = _held(body)
        if held is None:
            tally.exhausted += 1
        if now >= start:
            tally.vote_ms.append((t1 - t0) * 1000)
            tally.vote_at.append(t1)


async def run_item_load(port: int, project_id: int, cookies: list[str], seconds: float) -> Tally:
    conns = [Connection(port, c, secrets.token_hex(16)) for c in cookies]

    def page(conn: Connection, tally: Tally, window: tuple[float, float], i: int) -> Any:
        return rank(conn, project_id, tally, window, i)

    return await run_annotators(conns, page, seconds)


def check_items(project_id: int, tally: Tally) -> dict[str, int]:
    """The answers stored against those the server acknowledged, and the item queue."""
    from django.db import connection

    from webapp.labelling.models import Assignment, ItemAnswer, ItemQueueItem
    from webapp.pairs.models import Item

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.token::text FROM {ItemAnswer._meta.db_table} x
            JOIN {Assignment._meta.db_table} a ON a.id = x.assignment_id
            WHERE x.project_id = %s
            """,
            [project_id],
        )
        in_db = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"""
            SELECT count(*) FROM {ItemQueueItem._meta.db_table} q
            JOIN {Item._meta.db_table} i
              ON i.id = q.item_id
            WHERE i.project_id = %s AND q.taken > q.wanted
            """,
            [project_id],
        )
        (over,) = cursor.fetchone() or (0,)
    stored = set(in_db)
    return {
        "lost": len(tally.stored - stored),
        "duplicated": (len(in_db) - len(stored)) + len(stored - tally.stored),
        "over_assigned": int(over),
    }
