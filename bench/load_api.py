"""Labelling load over the REST API, beside bench/load.py's page load: the same annotators,
each on its own keep-alive connection of bench/client.py, authenticated with a token, loop
over ``POST /api/projects/<id>/assignments/next/`` (the pair to label) and
``POST /api/projects/<id>/votes/`` (JSON), as an API client labels. Their ``Tally`` holds
each vote's and each next's latency and the tokens stored, for load.check.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

from bench.client import Connection, Tally, run_annotators
from bench.load import CHOICES


def api_tokens(n: int) -> list[str]:
    """The API tokens of the first n bench annotators (made where missing)."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    users = get_user_model().objects.filter(username__startswith="bench-annotator-")
    by_name = {u.username: u for u in users}
    return [
        Token.objects.get_or_create(user=by_name[f"bench-annotator-{i}"])[0].key for i in range(n)
    ]


async def annotate_api(
    conn: Connection, project_id: int, tally: Tally, window: tuple[float, float], seed: int
) -> None:
    """One API annotator: ask for a pair, vote on it, again, until the window closes."""
    rng = random.Random(seed)
    base = f"/api/projects/{project_id}"
    start, stop = window
    while (now := time.perf_counter()) < stop:
        record = now >= start
        t0 = time.perf_counter()
        status, _, body = await conn.post_json(f"{base}/assignments/next/", None)
        t1 = time.perf_counter()
        if status == 204:
            tally.exhausted += 1
            return
        if status != 200:
            tally.errors += 1
            tally.error_samples.append(f"api next {status}: {body[:120]!r}")
            continue
        served = json.loads(body)
        choice = rng.choice(CHOICES)
        vote = {
            "token": served["token"],
            "round": served["round"],
            "choice": choice,
            "time_ms": rng.randrange(2000, 30000),
        }
        if choice in ("left", "right") and served["strength_scale"]:
            vote["strength"] = rng.randrange(len(served["strength_scale"]))
        status, _, body = await conn.post_json(f"{base}/votes/", vote)
        t2 = time.perf_counter()
        outcome = json.loads(body).get("status", "") if status in (200, 201) else str(status)
        tally.statuses[outcome] = tally.statuses.get(outcome, 0) + 1
        if status != 201 or outcome != "stored":
            tally.errors += 1
            tally.error_samples.append(f"api vote {status}: {body[:120]!r}")
            continue
        tally.stored.add(served["token"])
        if record:
            tally.next_ms.append((t1 - t0) * 1000)
            tally.vote_ms.append((t2 - t1) * 1000)
            tally.vote_at.append(t2)


async def run_api_load(port: int, project_id: int, tokens: list[str], seconds: float) -> Tally:
    def api(conn: Connection, tally: Tally, window: tuple[float, float], i: int) -> Any:
        return annotate_api(conn, project_id, tally, window, i)

    return await run_annotators([Connection(port, token=t) for t in tokens], api, seconds)
