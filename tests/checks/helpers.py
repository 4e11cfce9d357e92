"""Pairs built by hand for the checks tests: prompts and responses by text, stored once."""

from __future__ import annotations

import hashlib
from typing import Any

from webapp.pairs.models import Pair, Prompt, Response
from webapp.projects.models import Project

# Similar prompts in pairs (bread / cake, rice / pasta...), each with its preferred answer:
# the contrast check's neighbour search finds them.
PROMPTS = [
    ("How do I bake bread at home?", "Mix flour, water, yeast and salt; knead; proof; bake."),
    ("How do I bake a cake at home?", "Cream butter and sugar, add eggs and flour, bake."),
    ("How do I cook rice on the stove?", "Rinse the rice, simmer covered for 15 minutes."),
    ("How do I cook pasta on the stove?", "Boil salted water, cook the pasta until al dente."),
    ("What is the capital of France?", "Paris is the capital of France."),
    ("What is the capital of Italy?", "Rome is the capital of Italy."),
    ("How far is the Moon from Earth?", "About 384,000 kilometres on average."),
    ("How far is the Sun from Earth?", "About 150 million kilometres on average."),
]


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
