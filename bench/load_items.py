"""Item load for the labelling benchmark: a project of items to rank and one of solutions to
label step by step, and simulated annotators who answer them over HTTP as the ranking page
(static/js/label_items.js) and the step page (static/js/steps.js) do.

``fill_items`` makes a ranking project of many items with SQL (``INSERT ... SELECT
generate_series``) over the demo's real HH-RLHF texts: each item is one of its prompts with K
real responses (the chosen and rejected answers of K / 2 of its pairs), so pages render real
texts through the markdown filter. ``run_item_load`` has annotators, on the keep-alive
connections of bench/load.py, open the page's one item (``POST /label/next/``), then answer
each with one request, ``POST /label/answer/`` with a ranking of the positions shown (random,
sometimes with a tie), whose answer is the next item. Storing an answer derives its votes on
the item's pairs in the same transaction, so a request does what the page's does.
``fill_steps`` makes a steps project the same way, each solution one of the demo's prompts
with a real answer cut into steps at sentence ends; ``run_steps_load`` has annotators load the
step page (``GET /label/steps/``), post each solution's labels as its script does (JSON,
``POST /label/steps/answer/``: every step, stopping at a bad one now and then, or in
first-error mode only the first wrong step) and load the page again for the next: an item's
server time is those two requests. ``check_items`` holds what the server acknowledged against
the answers stored, for either project.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import sys
import time
from typing import Any
from urllib.parse import quote

from bench.client import Connection, Tally, answer_timed, run_pages
from bench.load import DEMO_FILE, _held

POSITIONS = re.compile(rb'data-positions="([^"]*)"')
STEPS_HELD = re.compile(rb'data-token="([0-9a-f-]{36})" data-round="(\d+)" data-steps="(\d+)"')
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
K = 4
MAX_STEPS = 8  # a solution's steps, at most: an answer's sentences are grouped to fit


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


def solution_steps(text: str) -> list[str]:
    """A text cut into at most MAX_STEPS steps at sentence ends."""
    sentences = [s for s in SENTENCE_END.split(text.strip()) if s] or [text]
    per = math.ceil(len(sentences) / MAX_STEPS)
    return [" ".join(sentences[i : i + per]) for i in range(0, len(sentences), per)]


def fill_steps(items: int) -> int:
    """A steps project of ``items`` solutions over the demo's real texts (each a prompt and an
    answer to it, cut into steps), stored as the step importer stores them; returns its id."""
    from django.db import connection

    from webapp.imports.services import import_batch_create, import_run
    from webapp.labelling.models import ItemQueueItem
    from webapp.pairs.models import Item, ItemResponse, Pair, Response
    from webapp.pairs.steps import solution_text
    from webapp.projects.services import project_create

    source = project_create(name="Steps bench source")
    import_run(batch=import_batch_create(project=source, path=DEMO_FILE, file_name=DEMO_FILE.name))
    project = project_create(name="Steps bench", label_scheme="steps", votes_per_pair=3)
    started = time.perf_counter()
    pairs = list(
        Pair.objects.filter(project=source)
        .order_by("id")
        .values_list("prompt_id", "response_a__text")
    )
    solutions = [solution_text(solution_steps(text)) for _, text in pairs]
    responses = Response.objects.bulk_create(
        [
            Response(content_hash=hashlib.md5(f"bench-steps-{n}".encode()).digest(), text=text)
            for n, (text, _) in enumerate(solutions)
        ]
    )
    items_table, responses_table = Item._meta.db_table, ItemResponse._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMP TABLE bench_steps AS
            SELECT n - 1 AS n, prompt_id, response_id, spans::jsonb AS spans
            FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) WITH ORDINALITY
                AS s(prompt_id, response_id, spans, n)
            """,
            [
                [prompt_id for prompt_id, _ in pairs],
                [r.pk for r in responses],
                [json.dumps(spans) for _, spans in solutions],
            ],
        )
        cursor.execute(
            f"""
            INSERT INTO {items_table} (project_id, prompt_id, dedup_key, source_file,
                source_line, split, external_id, metadata, created_at)
            SELECT %(project)s, s.prompt_id, decode(md5('bench-step-item-' || i), 'hex'),
                'bench', i, 'train', '', '{{}}', now()
            FROM generate_series(0, %(items)s - 1) AS i
            JOIN bench_steps s ON s.n = i %% %(distinct)s
            """,
            {"project": project.pk, "items": items, "distinct": len(pairs)},
        )
        cursor.execute(
            f"""
            INSERT INTO {responses_table} (item_id, position, response_id, metadata)
            SELECT it.id, 0, s.response_id, jsonb_build_object('step_spans', s.spans)
            FROM {items_table} it JOIN bench_steps s ON s.n = it.source_line %% %(distinct)s
            WHERE it.project_id = %(project)s
            """,
            {"project": project.pk, "distinct": len(pairs)},
        )
        cursor.execute("DROP TABLE bench_steps")
        for table in (items_table, responses_table, ItemQueueItem._meta.db_table):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(
        f"labelling: {items} step solutions (texts of {len(pairs)} real answers) in "
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
        answered = await answer_timed(conn.post(f"{base}/answer/", form), tally, token, "answer")
        if answered is None:
            break
        body, t0, t1 = answered
        held = _held(body)
        if held is None:
            tally.exhausted += 1
        if now >= start:
            tally.vote_ms.append((t1 - t0) * 1000)
            tally.vote_at.append(t1)


async def run_item_load(port: int, project_id: int, cookies: list[str], seconds: float) -> Tally:
    def page(conn: Connection, tally: Tally, window: tuple[float, float], i: int) -> Any:
        return rank(conn, project_id, tally, window, i)

    return await run_pages(port, cookies, seconds, page)


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


def step_labels_of(n: int, rng: random.Random) -> dict[str, Any]:
    """Labels as the step page sends them: mostly every step good or neutral, up to a bad one
    now and then (the rest unlabelled, as "stop at the first bad step" does); a third of the
    time first-error mode, only the first wrong step (-1: none)."""
    from webapp.pairs.steps import labels_from_first_error

    first = rng.choice([-1, -1, *range(n)])
    if rng.random() < 1 / 3:
        return {"steps": labels_from_first_error(n, first), "first_error": first}
    steps: list[int | None] = [rng.choice((1, 1, 1, 0)) for _ in range(n)]
    if first >= 0:
        steps[first:] = [-1] + [None] * (n - first - 1)
    return {"steps": steps, "first_error": None}


def _step_held(body: bytes) -> tuple[str, int, int] | None:
    """The token, round and number of steps of the solution a step page shows, if any."""
    match = STEPS_HELD.search(body)
    return (match.group(1).decode(), int(match.group(2)), int(match.group(3))) if match else None


def _json_status(headers: dict[str, str], body: bytes) -> str:
    try:
        return str(json.loads(body).get("status", ""))
    except ValueError:
        return ""


async def label_steps(
    conn: Connection, project_id: int, tally: Tally, window: tuple[float, float], seed: int
) -> None:
    """One annotator on the step page: the page, the answer, the page again for the next."""
    rng = random.Random(seed)
    page = f"/projects/{project_id}/label/steps/"
    start, stop = window
    status, _, body = await conn.get(page)
    held = _step_held(body) if status == 200 else None
    if status != 200:
        tally.errors += 1
        tally.error_samples.append(f"step page {status}: {body[:120]!r}")
    while held is not None and (now := time.perf_counter()) < stop:
        token, round_, n = held
        answer = {
            "token": token,
            "round": round_,
            "payload": step_labels_of(n, rng),
            "time_ms": rng.randrange(5000, 60000),
        }
        request = conn.post_json(f"{page}answer/", answer)
        answered = await answer_timed(request, tally, token, "steps answer", _json_status)
        if answered is None:
            break
        _, t0, t1 = answered
        status, _, body = await conn.get(page)
        t2 = time.perf_counter()
        if status != 200:
            tally.errors += 1
            tally.error_samples.append(f"step page {status}: {body[:120]!r}")
            break
        held = _step_held(body)
        if held is None:
            tally.exhausted += 1
        if now >= start:
            tally.vote_ms.append((t2 - t0) * 1000)  # the item's server time: answer, next page
            tally.next_ms.append((t2 - t1) * 1000)
            tally.vote_at.append(t2)


async def run_steps_load(port: int, project_id: int, cookies: list[str], seconds: float) -> Tally:
    def page(conn: Connection, tally: Tally, window: tuple[float, float], i: int) -> Any:
        return label_steps(conn, project_id, tally, window, i)

    return await run_pages(port, cookies, seconds, page)
