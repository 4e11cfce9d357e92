"""The checks page: dataset text is escaped, its charts and tables are there, queries are
few, and people outside the project (or annotators) get a 404."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tests.checks.helpers import pair
from tests.labelling.helpers import annotator, lease, make_pairs, vote
from webapp.checks.services import CheckOptions, check_run_create, check_run_execute

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_the_page_escapes_dataset_text(admin_client: Any, project: Any) -> None:
    pair(project, f"Prompt {EVIL}", f"Hi {EVIL}", f"hi  {EVIL.lower()}")
    pair(project, "Pick", "red", "green")
    pair(project, "Pick", "green", "blue")
    pair(project, "Pick", "blue", "red")
    check_run_execute(run=check_run_create(project=project, options=CheckOptions()),
                      progress=lambda *a: None)  # fmt: skip
    html = admin_client.get(reverse("checks:page", args=[project.pk])).content.decode()
    assert EVIL not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert 'id="flagged-near_identical"' in html and 'id="flagged-label_cycle"' in html
    assert 'id="cycles-data"' in html and 'id="cycles"' in html


def test_the_page_takes_a_fixed_number_of_queries(
    admin_client: Any, project: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(3):
        pair(project, "Pick", f"r{i}", f"g{i}")
    run = check_run_create(project=project, options=CheckOptions())
    check_run_execute(run=run, progress=lambda *a: None)
    make_pairs(project, 6, votes_wanted=1)
    for name in ("ann1", "ann2"):
        user = annotator(project, name)
        for _ in range(2):
            a = lease(project, user)
            assert a is not None
            vote(project, user, a, "left")
    admin_client.get(reverse("checks:page", args=[project.pk]))
    # session, user, project+role, run, position, self-agreement, settings, 5 flag lists
    with django_assert_max_num_queries(13):
        response = admin_client.get(reverse("checks:page", args=[project.pk]))
    html = response.content.decode()
    assert 'id="position-data"' in html
    assert "ann1" in html and "ann2" in html
    assert "4 of 4 A/B votes for the left response" in html


def test_annotators_and_strangers_get_a_404(client: Any, project: Any) -> None:
    ann = annotator(project, "ann")
    client.force_login(ann)
    assert client.get(reverse("checks:page", args=[project.pk])).status_code == 404
    assert client.post(reverse("checks:start", args=[project.pk])).status_code == 404
