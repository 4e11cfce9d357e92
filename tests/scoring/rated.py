"""A rating project whose ratings follow its texts, with a planted wild rating and a planted
overall contradiction: what the attribute-head tests score."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tests.labelling.helpers import annotator
from webapp.labelling.items import AnswerRow, item_answers_store
from webapp.pairs.models import Item, ItemResponse, Prompt, Response
from webapp.projects.models import Project
from webapp.projects.services import project_create

TOPICS = ["tides", "volcanoes", "rainbows", "magnets", "yeast", "glaciers", "comets", "bees"]
LEVELS = [
    "I don't know.",
    "Maybe something about {t}, not sure.",
    "{t} is a thing people talk about sometimes.",
    "{t} work like this: a few parts act together, and here is how they connect.",
    "Great question! {t} work like this: first the parts, then how they interact, with a "
    "worked example you can try at home and a tip to remember it.",
]
SETTINGS = {
    "attributes": [
        {"name": "helpfulness", "low": 0, "high": 4},
        {"name": "correctness", "low": 0, "high": 4},
        {"name": "noise", "low": 0, "high": 4},
    ],
    "overall": {"helpfulness": 1},
}
N_ITEMS, K = 40, 3


def make_rated_items(project: Any, rng: np.random.Generator) -> tuple[list[Item], np.ndarray]:
    levels = np.array([rng.permutation(5)[:K] for _ in range(N_ITEMS)])
    prompts = Prompt.objects.bulk_create(
        [
            Prompt(content_hash=rng.bytes(16), text=f"Explain {TOPICS[i % 8]} #{i}")
            for i in range(N_ITEMS)
        ]
    )
    responses = Response.objects.bulk_create(
        [
            Response(
                content_hash=rng.bytes(16), text=LEVELS[q].format(t=TOPICS[i % 8].capitalize())
            )
            for i in range(N_ITEMS)
            for q in levels[i]
        ]
    )
    items = Item.objects.bulk_create(
        [Item(project=project, prompt=prompts[i], dedup_key=rng.bytes(16)) for i in range(N_ITEMS)]
    )
    ItemResponse.objects.bulk_create(
        [
            ItemResponse(item=items[i], position=p, response=responses[i * K + p])
            for i in range(N_ITEMS)
            for p in range(K)
        ]
    )
    return items, levels


@dataclass
class Rated:
    project: Project
    items: list[Item]
    levels: np.ndarray  # (items, K) quality level of each response, 0-4
    bob: Any
    best: int  # item 0's best position, which bob rates 0 on helpfulness
    lo: int  # item 1: the worse response, rated higher overall (helpfulness) ...
    hi: int  # ... than this one, which is better on correctness


def rated_project(admin_user: Any, seed: int = 0) -> Rated:
    """Two annotators rate every response at its level on helpfulness and correctness, and at
    random on noise; bob's rating of item 0's best response and item 1's two lowest are planted."""
    rng = np.random.default_rng(seed)
    project = project_create(
        name="rated", label_scheme="rating", scheme_settings=SETTINGS, created_by=admin_user
    )
    items, levels = make_rated_items(project, rng)
    ann, bob = annotator(project, "ann"), annotator(project, "bob")
    answers = []
    for i, item in enumerate(items):
        for user in (ann, bob):
            ratings = {
                str(p): {
                    "helpfulness": int(q), "correctness": int(q), "noise": int(rng.integers(0, 5))
                }
                for p, q in enumerate(levels[i])
            }  # fmt: skip
            answers.append(AnswerRow(item.pk, user.pk, "rating", {"ratings": ratings}))
    best = int(np.argmax(levels[0]))
    answers[1].payload["ratings"][str(best)]["helpfulness"] = 0
    lo, hi = (int(p) for p in np.argsort(levels[1])[:2])
    for row in answers[2:4]:
        row.payload["ratings"][str(lo)].update(helpfulness=4, correctness=0, noise=0)
        row.payload["ratings"][str(hi)].update(helpfulness=1, correctness=3, noise=4)
    item_answers_store(project=project, answers=answers)
    return Rated(project, items, levels, bob, best, lo, hi)
