"""Every URL and API route, for every kind of visitor: who gets in and who is turned away.

MATRIX names each route's least role. The first test fails when a route is added (or renamed)
without an entry here, so nobody ships a page without deciding who may see it. The second
asks each route, with every method it answers, as an anonymous visitor, an admin of another
project, and this project's annotator, reviewer and admin, and checks that those below the
least role are turned away the way PrefLab turns people away (anonymous: the login page or a
401; members of too low a role and strangers: a 404, as if the object did not exist) and those
at or above it are let in (anything but a refusal; never a server error). Django's admin is
checked separately: staff only, for every model it registers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.exports.helpers import make_pairs
from tests.factories import MembershipFactory, ProjectFactory
from tests.labelling.helpers import lease, make_items
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write
from webapp.imports.models import ImportBatch
from webapp.imports.services import import_batch_create
from webapp.imports.step_items import steps_load
from webapp.imports.steps import ParsedSteps
from webapp.jobs.services import job_create
from webapp.pairs.models import Item
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


MATRIX: dict[str, Rule] = {
    "home": Rule("public"),
    "favicon": Rule("public"),
    "login": Rule("public", ("GET", "POST")),
    "logout": Rule("public", ("POST",)),
    "health": Rule("user"),
    "projects:list": Rule("user"),
    "projects:detail": Rule("annotator", args=project),
    "projects:pair": Rule("reviewer", args=pair_args),
    "projects:settings": Rule("admin", ("GET", "POST"), args=project),
    "projects:members": Rule(
        "admin",
        ("POST",),
        args=project,
        data=lambda w, v: {"action": "add", "username": "matrix-newcomer", "role": "annotator"},
    ),
    "jobs:detail": Rule("reviewer", args=lambda w: {"job_id": w.job.pk}),
    "jobs:cancel": Rule("admin", ("POST",), args=lambda w: {"job_id": w.job.pk}),
    "imports:upload": Rule("admin", ("GET", "POST"), args=project),
    "imports:report": Rule("admin", args=lambda w: {"batch_id": w.batch.pk}),
    "scoring:start": Rule("admin", ("POST",), args=project),
    "scoring:run": Rule("reviewer", args=lambda w: {"run_id": w.run.pk}),
    "labelling:home": Rule("user"),
    "labelling:page": Rule("annotator", args=project),
    "labelling:next": Rule("annotator", ("POST",), args=project),
    "labelling:vote": Rule("annotator", ("POST",), args=project, data=lease_of),
    # an answer on an item; here a pair's lease, so a 400 ("send a vote"), never a refusal
    "labelling:answer": Rule("annotator", ("POST",), args=project, data=answer_of),
    "labelling:skip": Rule("annotator", ("POST",), args=project, data=lease_of),
    "labelling:undo": Rule("annotator", ("POST",), args=project),
    "labelling:progress": Rule("annotator", args=project),
    # the step page posts JSON: a form here is a 400 ("expected token..."), never a refusal
    "labelling:steps": Rule("annotator", args=steps_project),
    "labelling:steps_answer": Rule("annotator", ("POST",), args=steps_project),
    "labelling:steps_skip": Rule("annotator", ("POST",), args=steps_project, data=step_lease_of),
    "labelling:gold": Rule("admin", ("GET", "POST"), args=project),
    "labelling:agreement": Rule("reviewer", args=project),
    "exports:list": Rule("reviewer", ("GET",), args=project),
    "exports:detail": Rule("reviewer", args=lambda w: {"snapshot_id": w.snapshot.pk}),
    "exports:download": Rule(
        "reviewer", args=lambda w: {"snapshot_id": w.snapshot.pk, "name": "README.md"}
    ),
    "api:schema": Rule("public"),  # the OpenAPI description; no data
    "api:docs": Rule("public"),  # what the API offers; no data
    "api:token": Rule("public", ("POST",)),
    "api:projects": Rule("user"),
    "api:project": Rule("annotator", args=project),
    "api:pairs": Rule("reviewer", args=project),
    "api:pair": Rule("reviewer", args=pair_args),
    "api:import-create": Rule("admin", ("POST",), args=project),
    "api:import": Rule("admin", args=lambda w: {"batch_id": w.batch.pk}),
    "api:next": Rule("annotator", ("POST",), args=project),
    "api:items": Rule("reviewer", args=project),
    "api:item": Rule("reviewer", args=lambda w: {"project_id": w.project.pk, "item_id": w.item.pk}),
    "api:item-next": Rule("annotator", ("POST",), args=project),
    "api:answers": Rule("annotator", ("POST",), args=project, data=answer_of),
    "api:skip": Rule("annotator", ("POST",), args=project, data=lease_of),
    "api:votes": Rule("annotator", ("POST",), args=project, data=lease_of),
    "api:jobs": Rule("admin", args=project),  # as the project page: admins see its jobs
    "api:job": Rule("reviewer", args=lambda w: {"job_id": w.job.pk}),
    "api:job-cancel": Rule("admin", ("POST",), args=lambda w: {"job_id": w.job.pk}),
    "api:exports": Rule("reviewer", ("GET", "POST"), args=project),
    "api:export": Rule("reviewer", args=lambda w: {"snapshot_id": w.snapshot.pk}),
    "api:download": Rule(
        "reviewer", args=lambda w: {"snapshot_id": w.snapshot.pk, "name": "README.md"}
    ),
    # the API's catch-all: an unknown API path is a JSON 404 for everyone
    "api:<catch-all>": Rule("nobody"),
    "api:scoring-runs": Rule("reviewer", ("GET", "POST"), args=project),
    "api:scoring-run": Rule("reviewer", args=lambda w: {"run_id": w.run.pk}),
    "api:scores": Rule("reviewer", args=lambda w: {"run_id": w.run.pk}),
    "api:flags": Rule("reviewer", args=project),
    "api:flag-precision": Rule("reviewer", args=project),
    "api:noise": Rule("reviewer", args=project),
    "api:training-runs": Rule("reviewer", ("GET", "POST"), args=project),
    "api:training-run": Rule("reviewer", args=lambda w: {"run_id": w.training.pk}),
    "checks:page": Rule("reviewer", args=project),
    "checks:start": Rule("admin", ("POST",), args=project),
    "checks:settings": Rule("admin", ("POST",), args=project),
    "training:list": Rule("reviewer", ("GET", "POST"), args=project),
    "review:queue": Rule("reviewer", args=project),
    "review:rebuild": Rule("reviewer", ("POST",), args=project),
    "review:bulk": Rule("reviewer", ("GET", "POST"), args=project),
    "review:pair": Rule("reviewer", ("GET", "POST"), args=pair_args),
    "review:history": Rule("reviewer", args=pair_args),
    "review:dashboard": Rule("reviewer", args=project),
    "review:chart": Rule("reviewer", args=lambda w: {**project(w), "name": "mu-by-flag"}),
    "review:steps": Rule("reviewer", args=steps_project),
    "review:step_item": Rule("reviewer", args=step_item_args),
    "review:step_decide": Rule(
        "reviewer", ("POST",), args=step_item_args, data=lambda w, v: {"outcome": "keep"}
    ),
    "review:settings": Rule("admin", ("GET", "POST"), args=project),
    "api:review-decisions": Rule("reviewer", ("GET", "POST"), args=project),
    "api:pair-review-decisions": Rule("reviewer", args=pair_args),
    "api:review-bulk": Rule("reviewer", ("POST",), args=project),
    "training:compare": Rule("reviewer", args=project),
    "training:run": Rule("reviewer", args=lambda w: {"run_id": w.training.pk}),
    "training:download": Rule(
        "reviewer", args=lambda w: {"model_id": w.model.pk, "name": "config.json"}
    ),
}

# Methods that may only be answered by admins even where reading is open to reviewers.
WRITE_LEAST = {
    name: {"POST": "admin"}
    for name in ("exports:list", "api:exports", "api:scoring-runs", "api:training-runs")
} | {"training:list": {"POST": "admin"}}


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


def test_every_route_has_an_entry() -> None:
    found = set(routes())
    missing = sorted(found - set(MATRIX))
    stale = sorted(set(MATRIX) - found)
    assert not missing, f"routes without an authorization rule: {missing}"
    assert not stale, f"rules for routes that no longer exist: {stale}"


@pytest.fixture
def world(db: Any, tmp_path: Path) -> World:
    mine = ProjectFactory(name="Ours")
    theirs = ProjectFactory(name="Theirs")
    steps = ProjectFactory(name="Our steps", label_scheme="steps")
    step_items = steps_made(steps, 12)
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
    return World(
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


def steps_made(project: Any, n: int) -> list[Any]:
    """n solutions of three steps, as the step importer stores them."""
    batch = ImportBatch.objects.create(project=project, file_name="steps.jsonl")
    records = [
        ParsedSteps(i + 1, f"Problem {i}", ["a", "b", "c"], None, external_id=str(i))
        for i in range(n)
    ]
    steps_load(
        batch=batch, records=records, fmt="x", reject=lambda e: None, annotator_id=lambda n: 0
    )
    return list(Item.objects.filter(project=project).order_by("pk"))


def relogin(w: World, visitor: str) -> None:
    if visitor in w.users:
        w.clients[visitor].force_login(w.users[visitor])


def url_of(name: str, w: World) -> str:
    if name == "api:<catch-all>":
        return "/api/no/such/route/"
    return reverse(name, kwargs=MATRIX[name].args(w))


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


def test_each_route_lets_in_exactly_its_roles(world: World) -> None:
    wrong = []
    for name, rule in sorted(MATRIX.items()):
        url = url_of(name, world)
        for method in rule.methods:
            least = WRITE_LEAST.get(name, {}).get(method, rule.least)
            # the refused first: a refused write must change nothing for the requests after it
            for visitor in sorted(VISITORS, key=lambda v: let_in(least, v)):
                client = world.clients[visitor]
                if method == "GET":
                    response = client.get(url)
                else:
                    response = client.generic(
                        method,
                        url,
                        urlencode(rule.data(world, visitor)),
                        content_type="application/x-www-form-urlencoded",
                    )
                if name == "logout":  # it did what it says: log the visitor in again
                    relogin(world, visitor)
                expected = "let in" if let_in(least, visitor) else "refused"
                if response.status_code >= 500 or (expected == "refused") != refused(
                    visitor, response
                ):
                    wrong.append(f"{method} {name} as {visitor}: {response.status_code}, "
                                 f"expected {expected}")  # fmt: skip
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_django_admin_is_for_staff_only(world: World) -> None:
    pages = [reverse("admin:index")] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]
    assert len(pages) > 5
    for visitor in VISITORS:  # none of them is staff, not even a project's admin
        for page in pages:
            response = world.clients[visitor].get(page)
            assert response.status_code == 302, (visitor, page)
            assert "/admin/login/" in response["Location"], (visitor, page)
    staff = get_user_model().objects.create(
        username="matrix-staff", is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(staff)
    for page in pages:
        assert client.get(page).status_code == 200, page
