"""What the route authorization tests share: the visitors, a route's rule, the world of
objects the routes are asked about, and the check itself.

Each area's test file (pages, API) has a MATRIX naming each of its routes' least role. Its
first test fails when a route of its area is added (or renamed) without an entry, so nobody
ships a page without deciding who may see it. Its second asks each route, with every method
it answers, as an anonymous visitor, an admin of another project, and this project's
annotator, reviewer and admin, and checks that those below the least role are turned away the
way PrefLab turns people away (anonymous: the login page or a 401; members of too low a role
and strangers: a 404, as if the object did not exist) and those at or above it are let in
(anything but a refusal; never a server error).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.exports.helpers import make_pairs
from tests.factories import MembershipFactory, ProjectFactory
from tests.labelling.helpers import lease, make_items, make_steps
from webapp.benchmarks.models import Benchmark, Evaluation
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write
from webapp.imports.services import import_batch_create
from webapp.jobs.services import job_create
from webapp.judges.models import Judge, JudgeReport
from webapp.projects.selectors import role_in_project
from webapp.registry.models import RegisteredModel
from webapp.scoring.models import ScoringRun
from webapp.training.models import TrainingRun

# Visitors, from the least trusted up. A rule's least role is "public", "user" (anyone logged
# in), "annotator", "reviewer", "admin" or "nobody".
VISITORS = ["anonymous", "stranger", "annotator", "reviewer", "admin"]
LEVEL = {"anonymous": 0, "stranger": 1, "annotator": 2, "reviewer": 3, "admin": 4}


@dataclass(frozen=True)
class Rule:
    least: str  # the least role let in
    methods: tuple[str, ...] = ("GET",)
    # the URL's arguments, from the objects of World
    args: Callable[[World], dict[str, Any]] = lambda w: {}
    # what a POST sends, for a visitor: a valid request, so that "let in" is not mistaken
    # for "not found" (a vote needs the visitor's own lease, for one)
    data: Callable[[World, str], dict[str, Any]] = lambda w, visitor: {}


@dataclass
class World:
    project: Any
    pair: Any
    job: Any
    batch: Any
    run: Any
    snapshot: Any
    training: Any
    model: Any
    item: Any
    steps: Any  # a steps project, whose members are those of project, in the same roles
    step_item: Any
    clients: dict[str, Client]
    users: dict[str, Any]
    judge: Any = None
    benchmark: Any = None
    evaluation: Any = None


def lease_of(w: World, visitor: str) -> dict[str, Any]:
    """A live lease of the visitor's own, where the visitor may have one."""
    user = w.users.get(visitor)
    if user is not None and role_in_project(user=user, project=w.project):
        assignment = lease(w.project, user)
        if assignment is not None:
            return {"token": str(assignment.token), "round": assignment.round, "choice": "left"}
    return {"token": str(uuid.uuid4()), "round": 0, "choice": "left"}


def step_lease_of(w: World, visitor: str) -> dict[str, Any]:
    user = w.users.get(visitor)
    if user is not None and role_in_project(user=user, project=w.steps):
        assignment = lease(w.steps, user)
        if assignment is not None:
            return {"token": str(assignment.token), "round": assignment.round}
    return {"token": str(uuid.uuid4()), "round": 0}


def steps_project(w: World) -> dict[str, Any]:
    return {"project_id": w.steps.pk}


def step_item_args(w: World) -> dict[str, Any]:
    return {"project_id": w.steps.pk, "item_id": w.step_item.pk}


def answer_of(w: World, visitor: str) -> dict[str, Any]:
    return {**lease_of(w, visitor), "payload": '{"tiers": [[0], [1]]}'}


def project(w: World) -> dict[str, Any]:
    return {"project_id": w.project.pk}


def pair_args(w: World) -> dict[str, Any]:
    return {"project_id": w.project.pk, "pair_id": w.pair.pk}


def judge_args(w: World) -> dict[str, Any]:
    return {"project_id": w.project.pk, "judge_id": w.judge.pk}


def benchmark_args(w: World) -> dict[str, Any]:
    return {"benchmark_id": w.benchmark.pk}


def routes(patterns: list[Any] | None = None, namespace: str = "") -> Iterator[str]:
    """Every named route outside Django's admin, as "namespace:name"."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            yield from routes(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            name = entry.name or "<catch-all>"
            yield f"{namespace}:{name}" if namespace else name


def unruled(matrix: dict[str, Rule], in_area: Callable[[str], bool]) -> tuple[list[str], list[str]]:
    """The area's routes without a rule, and the rules for routes that no longer exist."""
    found = {name for name in routes() if in_area(name)}
    return sorted(found - set(matrix)), sorted(set(matrix) - found)


def world_make(tmp_path: Path) -> World:
    mine = ProjectFactory(name="Ours")
    theirs = ProjectFactory(name="Theirs")
    steps = ProjectFactory(name="Our steps", label_scheme="steps")
    step_items = make_steps(steps, 12)
    made = make_pairs(mine, 12)  # enough for a lease per visitor and labelling route
    people = {
        "stranger": (theirs, "admin"),
        "annotator": (mine, "annotator"),
        "reviewer": (mine, "reviewer"),
        "admin": (mine, "admin"),
    }
    clients, users = {"anonymous": Client()}, {}
    User = get_user_model()
    User.objects.create(username="matrix-newcomer")
    for name, (where, role) in people.items():
        # no password: hashing one is slow, and force_login needs none
        users[name] = User.objects.create(username=f"matrix-{name}")
        MembershipFactory(project=where, user=users[name], role=role)
        if where == mine:
            MembershipFactory(project=steps, user=users[name], role=role)
        clients[name] = Client()
        clients[name].force_login(users[name])
    upload = tmp_path / "pairs.jsonl"
    upload.write_text('{"prompt": "p", "chosen": "c", "rejected": "r"}\n')
    training = TrainingRun.objects.create(project=mine, complete=True)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    model = RegisteredModel.objects.create(
        project=mine, run=training, version=1, kind="head", path=str(tmp_path / "model"),
        files=[{"name": "config.json", "bytes": 2, "sha256": ""}],
    )  # fmt: skip
    snapshot = export_write(
        snapshot=export_create(project=mine, file_format="jsonl", spec=ExportSpec(), enqueue=False)
    )
    # a benchmark keeps its pairs in a project of its own, with the same people in it
    bench = ProjectFactory(name="Bench")
    for name in ("annotator", "reviewer", "admin"):
        MembershipFactory(project=bench, user=users[name], role=people[name][1])
    benchmark = Benchmark.objects.create(name="B", project=bench, format="rewardbench")
    JudgeReport.objects.create(project=mine, data={"judges": []})
    return World(
        judge=Judge.objects.create(project=mine, name="matrix judge", source="verdicts"),
        benchmark=benchmark,
        evaluation=Evaluation.objects.create(project=bench, benchmark=benchmark),
        project=mine,
        pair=made.pairs[0],
        job=job_create(kind="export", project=mine, params={}, enqueue=False),
        batch=import_batch_create(project=mine, path=upload, file_name=upload.name),
        run=ScoringRun.objects.create(project=mine),
        snapshot=snapshot,
        training=training,
        model=model,
        item=make_items(mine, 1, k=2)[0],
        steps=steps,
        step_item=step_items[0],
        clients=clients,
        users=users,
    )


def relogin(w: World, visitor: str) -> None:
    if visitor in w.users:
        w.clients[visitor].force_login(w.users[visitor])


def url_of(name: str, rule: Rule, w: World) -> str:
    if name == "api:<catch-all>":
        return "/api/no/such/route/"
    return reverse(name, kwargs=rule.args(w))


def refused(visitor: str, response: Any) -> bool:
    if visitor == "anonymous":
        if response.status_code == 302:  # to the login page, to come back afterwards
            return str(response["Location"]).startswith(f"{reverse('login')}?next=")
        return response.status_code in (401, 403, 404)
    return response.status_code == 404


def let_in(least: str, visitor: str) -> bool:
    if least == "nobody":
        return False
    if least == "public":
        return True
    if least == "user":
        return visitor != "anonymous"
    if visitor == "stranger":
        return False
    return LEVEL[visitor] >= LEVEL[least]


def wrong_answers(
    w: World, matrix: dict[str, Rule], write_least: dict[str, dict[str, str]]
) -> list[str]:
    """Each route of ``matrix`` asked by every visitor with each of its methods: the answers
    that let in someone below its least role (``write_least``'s for a method, where it names
    one), turn away someone at or above it, or are a server error."""
    wrong = []
    for name, rule in sorted(matrix.items()):
        url = url_of(name, rule, w)
        for method in rule.methods:
            least = write_least.get(name, {}).get(method, rule.least)
            # the refused first: a refused write must change nothing for the requests after it
            for visitor in sorted(VISITORS, key=lambda v: let_in(least, v)):
                client = w.clients[visitor]
                if method == "GET":
                    response = client.get(url)
                else:
                    response = client.generic(
                        method,
                        url,
                        urlencode(rule.data(w, visitor)),
                        content_type="application/x-www-form-urlencoded",
                    )
                if name == "logout":  # it did what it says: log the visitor in again
                    relogin(w, visitor)
                expected = "let in" if let_in(least, visitor) else "refused"
                if response.status_code >= 500 or (expected == "refused") != refused(
                    visitor, response
                ):
                    wrong.append(f"{method} {name} as {visitor}: {response.status_code}, "
                                 f"expected {expected}")  # fmt: skip
    return wrong
