"""Every page's route (all but the API's), for every kind of visitor: who gets in and who is
turned away (how, and who the visitors are: tests/security/route_access.py). Django's admin
is checked separately: staff only, for every model it registers."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.security.route_access import (
    VISITORS,
    Rule,
    World,
    answer_of,
    benchmark_args,
    judge_args,
    lease_of,
    pair_args,
    project,
    step_item_args,
    step_lease_of,
    steps_project,
    unruled,
    wrong_answers,
)

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
    "judges:page": Rule("reviewer", args=project),
    "judges:add": Rule(
        "admin", ("POST",), args=project, data=lambda w, v: {"name": f"j-{v}", "source": "verdicts"}
    ),
    "judges:measure": Rule("admin", ("POST",), args=project),
    "judges:run": Rule("admin", ("POST",), args=judge_args),
    "judges:verdicts": Rule("admin", ("POST",), args=judge_args),
    "judges:fill_in": Rule("admin", ("POST",), args=judge_args, data=lambda w, v: {"on": "1"}),
    "benchmarks:list": Rule("user"),
    "benchmarks:leaderboard": Rule("reviewer", args=benchmark_args),
    "benchmarks:evaluate": Rule("admin", ("POST",), args=benchmark_args),
    "training:compare": Rule("reviewer", args=project),
    "training:run": Rule("reviewer", args=lambda w: {"run_id": w.training.pk}),
    "training:download": Rule(
        "reviewer", args=lambda w: {"model_id": w.model.pk, "name": "config.json"}
    ),
}

# Methods that may only be answered by admins even where reading is open to reviewers.
WRITE_LEAST = {"exports:list": {"POST": "admin"}, "training:list": {"POST": "admin"}}


def test_every_page_route_has_an_entry() -> None:
    missing, stale = unruled(MATRIX, lambda name: not name.startswith("api:"))
    assert not missing, f"routes without an authorization rule: {missing}"
    assert not stale, f"rules for routes that no longer exist: {stale}"


@pytest.mark.django_db
def test_each_page_route_lets_in_exactly_its_roles(world: World) -> None:
    wrong = wrong_answers(world, MATRIX, WRITE_LEAST)
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
