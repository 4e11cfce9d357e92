"""Human labels and the agreement report, from imported and in-app votes, shown on the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from tests.conftest import wait_until
from tests.labelling.helpers import annotator, lease, make_pairs, vote
from webapp.imports.services import import_batch_create, import_run
from webapp.jobs.models import Job
from webapp.labelling import services
from webapp.labelling.aggregation import votes_aggregate
from webapp.labelling.models import AgreementReport, HumanLabel, Vote

PANDALM_SAMPLE = Path(__file__).resolve().parents[1] / "imports" / "data" / "pandalm-sample.json"


def import_pandalm(project: Any) -> None:
    path = PANDALM_SAMPLE
    batch = import_batch_create(project=project, path=path, file_name=path.name)
    import_run(batch=batch)


@pytest.mark.django_db
def test_imported_pandalm_votes_become_labels_and_an_agreement_page(
    admin_client: Any, project: Any
) -> None:
    import_pandalm(project)
    report = votes_aggregate(project=project)
    # four good records (the fifth is malformed): votes (2,2,2) twice, (1,0,1), (2,1,1)
    assert report.n_votes == Vote.objects.filter(pair__project=project).count() == 12
    labels = HumanLabel.objects.filter(project=project)
    assert labels.count() == 4
    assert {h.source for h in labels} == {HumanLabel.Source.DAWID_SKENE}
    assert sorted(h.majority_label for h in labels) == ["a", "a", "b", "b"]
    assert report.alpha is not None and report.data["alpha"]["headline"] == "direction"
    page = admin_client.get(reverse("labelling:agreement", args=[project.pk])).content.decode()
    assert f'id="alpha">{report.alpha:.3f}<' in page
    assert 'class="ds">2<' in page  # two pairs labelled "A is better" by Dawid-Skene
    assert "Dawid-Skene" in page and 'id="human-labels"' in page


@pytest.mark.django_db
def test_gold_answers_win_and_are_scored(admin_client: Any, project: Any, admin_user: Any) -> None:
    pairs = make_pairs(project, 2)
    ann, other = annotator(project, "ann"), annotator(project, "other")
    for person, side in ((ann, "tie"), (other, "both_bad")):
        for _ in pairs:
            held = lease(project, person)
            assert held is not None
            vote(project, person, held, side=side)
    services.gold_set(pair=pairs[0], choice="tie", created_by=admin_user)
    votes_aggregate(project=project)
    label = HumanLabel.objects.get(pair=pairs[0])
    assert (label.label, label.source, label.confidence) == ("tie", "gold", 1.0)
    page = admin_client.get(reverse("labelling:gold", args=[project.pk])).content.decode()
    assert "<td>ann</td><td>1</td><td>1</td><td>100%</td>" in page
    assert "<td>other</td><td>1</td><td>0</td><td>0%</td>" in page


@pytest.mark.django_db
def test_labels_of_pairs_that_lost_their_votes_go_away(project: Any, admin_user: Any) -> None:
    pair = make_pairs(project, 1)[0]
    Vote.objects.create(pair=pair, annotator=admin_user, choice="a")
    votes_aggregate(project=project)
    assert HumanLabel.objects.filter(pair=pair).exists()
    Vote.objects.all().delete()
    report = votes_aggregate(project=project)
    assert not HumanLabel.objects.exists() and report.n_votes == 0


def test_an_admin_recomputes_on_a_worker(
    celery_worker: Any, admin_client: Any, project: Any
) -> None:
    import_pandalm(project)
    response = admin_client.post(reverse("labelling:agreement", args=[project.pk]))
    job = Job.objects.get(kind="aggregate_votes")
    assert response.url == reverse("jobs:detail", args=[job.pk])
    wait_until(lambda: Job.objects.get(pk=job.pk).is_finished)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["url"] == reverse("labelling:agreement", args=[project.pk])
    assert AgreementReport.objects.filter(project=project).count() == 1
    assert HumanLabel.objects.filter(project=project).count() == 4
