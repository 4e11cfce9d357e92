"""The simulated annotators' side of the load benchmarks: a small asyncio HTTP/1.1 client on
keep-alive connections (as a logged-in page or an API client), what one answer's request
counts in a ``Tally``, and the runner that has every annotator work at once.

Used by bench/load.py (pairs), bench/load_api.py (the REST API) and bench/load_items.py
(rankings and steps).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

WARMUP_S = 5.0  # the first seconds of a load, whose votes count in no figure


@dataclass
class Tally:
    vote_ms: list[float] = field(default_factory=list)  # each vote request, the next pair back
    next_ms: list[float] = field(default_factory=list)  # each request for a pair alone (API)
    vote_at: list[float] = field(default_factory=list)  # when each of them ended (perf_counter)
    stored: set[str] = field(default_factory=set)  # tokens the server acknowledged as stored
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    seconds: float = 0.0
    error_samples: list[str] = field(default_factory=list)
    exhausted: int = 0


Answer = tuple[int, dict[str, str], bytes]  # status, headers (lower-case names), body


class Connection:
    """A keep-alive HTTP/1.1 connection that POSTs forms as a logged-in page does (a session
    cookie and a CSRF token), or JSON as an API client does (a token); enough HTTP for these
    benchmarks."""

    def __init__(self, port: int, cookie: str = "", csrf: str = "", token: str = "") -> None:
        self.port, self.cookie, self.csrf, self.token = port, cookie, csrf, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def _session(self) -> str:
        cookies = f"sessionid={self.cookie}; csrftoken={self.csrf}"
        return f"Cookie: {cookies}\r\nX-CSRFToken: {self.csrf}\r\n"

    async def get(self, path: str) -> Answer:
        return await self._send(path, self._session(), b"", method="GET")

    async def post(self, path: str, form: dict[str, str]) -> Answer:
        body = "&".join(f"{k}={v}" for k, v in form.items()).encode()
        headers = self._session() + "Content-Type: application/x-www-form-urlencoded\r\n"
        return await self._send(path, headers, body)

    async def post_json(self, path: str, data: object) -> Answer:
        """JSON as an API client sends it, with a token; as a page's script does (its
        session and CSRF token) on a connection without one."""
        body = b"" if data is None else json.dumps(data).encode()
        auth = f"Authorization: Token {self.token}\r\n" if self.token else self._session()
        return await self._send(path, auth + "Content-Type: application/json\r\n", body)

    async def _send(self, path: str, extra: str, body: bytes, method: str = "POST") -> Answer:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        headers = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if status in (204, 304):
            payload = b""
        elif "content-length" in headers:
            payload = await self.reader.readexactly(int(headers["content-length"]))
        else:  # chunked
            chunks = []
            while (size := int((await self.reader.readline()).strip(), 16)) > 0:
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
            await self.reader.readline()
            payload = b"".join(chunks)
        return status, headers, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def vote_status(headers: dict[str, str], body: bytes) -> str:
    """What the labelling page's answer says became of a vote (or an answer on an item)."""
    return headers.get("x-vote-status", "")


async def answer_timed(
    request: Awaitable[Answer],
    tally: Tally,
    token: str,
    what: str,
    outcome_of: Callable[[dict[str, str], bytes], str] = vote_status,
) -> tuple[bytes, float, float] | None:
    """Send an answer on the lease ``token`` (a vote, a ranking, step labels) and count what
    became of it in ``tally``: its body and when it was sent and answered (perf_counter) if it
    was stored, None (counted as an error, ``what`` naming it) otherwise."""
    t0 = time.perf_counter()
    status, headers, body = await request
    t1 = time.perf_counter()
    outcome = outcome_of(headers, body)
    tally.statuses[outcome] = tally.statuses.get(outcome, 0) + 1
    if status != 200 or outcome != "stored":
        tally.errors += 1
        tally.error_samples.append(f"{what} {status} {outcome}: {body[:120]!r}")
        return None
    tally.stored.add(token)
    return body, t0, t1


Annotator = Callable[[Connection, Tally, tuple[float, float], int], Awaitable[None]]


async def run_annotators(conns: list[Connection], annotator: Annotator, seconds: float) -> Tally:
    """``annotator`` on each connection at once (its index as a seed), recording for
    ``seconds`` after WARMUP_S; the Tally of them all."""
    tally = Tally()
    begin = time.perf_counter()
    window = (begin + WARMUP_S, begin + WARMUP_S + seconds)
    try:
        await asyncio.gather(*(annotator(c, tally, window, i) for i, c in enumerate(conns)))
    finally:
        for c in conns:
            c.close()
    tally.seconds = seconds
    return tally


async def run_pages(port: int, cookies: list[str], seconds: float, page: Annotator) -> Tally:
    """``page`` for each logged-in annotator (a session cookie) on a connection of their own,
    as run_annotators runs it."""
    conns = [Connection(port, c, secrets.token_hex(16)) for c in cookies]
    return await run_annotators(conns, page, seconds)
