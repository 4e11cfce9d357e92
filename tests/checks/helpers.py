"""Pairs built by hand for the checks tests: prompts and responses by text, stored once."""

from __future__ import annotations

import hashlib
from typing import Any

from webapp.pairs.models import Pair, Prompt, Response
from webapp.projects.models import Project


def _hash(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()[:16]


def prompt(text: str) -> Prompt:
    return Prompt.objects.get_or_create(content_hash=_hash("p:" + text), defaults={"text": text})[0]


def response(text: str) -> Response:
    return Response.objects.get_or_create(content_hash=_hash("r:" + text), defaults={"text": text})[
        0
    ]


def pair(project: Project, p: str, a: str, b: str, label: str = "a", **kw: Any) -> Pair:
    """A pair of the prompt text p with responses a and b (each distinct text stored once)."""
    return Pair.objects.create(
        project=project,
        prompt=prompt(p),
        response_a=response(a),
        response_b=response(b),
        imported_label=label,
        dedup_key=_hash(f"{project.pk}:{p}:{a}:{b}:{Pair.objects.count()}"),
        **kw,
    )
