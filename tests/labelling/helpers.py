"""Pairs and members for labelling tests, made the way the importer makes them (one INSERT per
table, so the queue triggers see statement-sized batches as in production)."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model

from tests.factories import MembershipFactory, UserFactory
from webapp.imports.models import ImportBatch
from webapp.imports.step_items import steps_load
from webapp.imports.steps import ParsedSteps
from webapp.labelling import queue, services
from webapp.labelling.models import Assignment
from webapp.pairs.models import Item, ItemResponse, Pair, Prompt, Response
from webapp.projects.models import Membership, Project


def make_pairs(
    project: Project,
    n: int,
    *,
    prompt: str = "Which answer is better?",
    a: str = "Answer A{i}",
    b: str = "Answer B{i}",
    votes_wanted: int | None = None,
    model_a: str = "",
) -> list[Pair]:
    prompts = Prompt.objects.bulk_create(
        [Prompt(content_hash=os.urandom(16), text=prompt.format(i=i)) for i in range(n)]
    )
    responses = Response.objects.bulk_create(
        [
            Response(content_hash=os.urandom(16), text=text.format(i=i), source_model=model)
            for i in range(n)
            for text, model in ((a, model_a), (b, ""))
        ]
    )
    return Pair.objects.bulk_create(
        [
            Pair(
                project=project,
                prompt=prompts[i],
                response_a=responses[2 * i],
                response_b=responses[2 * i + 1],
                dedup_key=os.urandom(16),
                imported_label="a",
                votes_wanted=votes_wanted,
            )
            for i in range(n)
        ]
    )


def make_items(
    project: Project,
    n: int,
    *,
    k: int = 4,
    prompt: str = "Rank these for {i}",
    split: str = "train",
) -> list[Item]:
    """``n`` items of ``k`` responses each ("Response {i}.{position}")."""
    prompts = Prompt.objects.bulk_create(
        [Prompt(content_hash=os.urandom(16), text=prompt.format(i=i)) for i in range(n)]
    )
    responses = Response.objects.bulk_create(
        [
            Response(content_hash=os.urandom(16), text=f"Response {i}.{p}")
            for i in range(n)
            for p in range(k)
        ]
    )
    items = Item.objects.bulk_create(
        [
            Item(project=project, prompt=prompts[i], dedup_key=os.urandom(16), split=split)
            for i in range(n)
        ]
    )
    ItemResponse.objects.bulk_create(
        [
            ItemResponse(item=items[i], position=p, response=responses[i * k + p])
            for i in range(n)
            for p in range(k)
        ]
    )
    return items


def make_steps(project: Project, n: int, steps: tuple[str, ...] = ("a", "b", "c")) -> list[Item]:
    """``n`` solutions of a steps project ("Problem {i}"), stored as the step importer stores
    them, with no labels."""
    batch = ImportBatch.objects.create(project=project, file_name="steps.jsonl")
    records = [
        ParsedSteps(i + 1, f"Problem {i}", list(steps), None, external_id=str(i)) for i in range(n)
    ]
    steps_load(
        batch=batch, records=records, fmt="x", reject=lambda e: None, annotator_id=lambda n: 0
    )
    return list(Item.objects.filter(project=project).order_by("pk"))


def annotator(
    project: Project, name: str, role: str = Membership.Role.ANNOTATOR, *, login: bool = False
) -> Any:
    """A member of the project; with a password (tests.factories.PASSWORD) only when a test
    logs in through the login form, since hashing one takes a while."""
    user = UserFactory(username=name) if login else get_user_model().objects.create(username=name)
    MembershipFactory(project=project, user=user, role=role)
    return user


def lease(project: Project, user: Any) -> Assignment | None:
    assignment_id = queue.assignment_next(project=project, annotator=user)
    return None if assignment_id is None else Assignment.objects.get(pk=assignment_id)


def vote(project: Project, user: Any, assignment: Assignment, side: str = "left", **kw: Any) -> Any:
    kw.setdefault("strength", 0 if side in ("left", "right") else None)
    return services.vote_submit(
        project=project,
        annotator=user,
        token=assignment.token,
        round=assignment.round,
        side=side,
        **kw,
    )
