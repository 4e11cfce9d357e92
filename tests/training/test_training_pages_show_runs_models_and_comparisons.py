"""The training pages: start form, runs and registry, one run, runs compared, downloads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.factories import MembershipFactory, UserFactory
from tests.training.helpers import labelled_project
from webapp.registry.models import RegisteredModel
from webapp.training.models import HeldOutPair, TrainingRun
from workers.rm.evaluate import evaluate


def finished_run(project: Any, tmp_path: Path, seed: int, version: int) -> TrainingRun:
    """A complete run with real metrics of random margins and a model folder with one file."""
    rng = np.random.default_rng(seed)
    margins = rng.normal(0.3, 1.0, 50)
    run = TrainingRun.objects.create(
        project=project, name=f"recipe {seed}", complete=True,
        metrics=evaluate(margins=margins, decile=rng.integers(0, 10, 50)),
        counts={"pairs": 200, "kept": 180, "flipped": 7, "smoothed": 0, "heldout": 50},
        curves={"train_loss": [0.7, 0.6], "heldout_loss": [0.7, 0.65],
                "train_accuracy": [0.5, 0.6], "heldout_accuracy": [0.5, 0.55]},
    )  # fmt: skip
    folder = tmp_path / f"v{version}"
    folder.mkdir()
    (folder / "head.safetensors").write_bytes(b"weights %d" % seed)
    RegisteredModel.objects.create(
        project=project, run=run, version=version, kind="head", path=str(folder),
        files=[{"name": "head.safetensors", "bytes": 9, "sha256": "x"}],
    )  # fmt: skip
    return run


def test_the_list_and_compare_pages_take_the_same_queries_for_more_runs(
    admin_client: Any, project: Any, tmp_path: Path, django_assert_max_num_queries: Any
) -> None:
    runs = [finished_run(project, tmp_path, seed, seed + 1) for seed in range(2)]
    with django_assert_max_num_queries(12) as few:
        page = admin_client.get(f"/projects/{project.pk}/training/")
    runs += [finished_run(project, tmp_path, seed, seed + 1) for seed in range(2, 6)]
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = admin_client.get(f"/projects/{project.pk}/training/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="training-form"' in body and "recipe 5" in body and "v6" in body
    ids = "&".join(f"runs={r.pk}" for r in runs)
    with django_assert_max_num_queries(10):
        compare = admin_client.get(f"/projects/{project.pk}/training/compare/?{ids}")
    assert compare.status_code == 200
    text = compare.content.decode()
    assert text.count("<tr>") == len(runs) + 1
    for chart in ("chart-loss", "chart-accuracy", "chart-deciles", "chart-reliability"):
        assert f'id="{chart}-data"' in text


def test_a_run_page_shows_its_metrics_and_its_model_downloads(
    admin_client: Any, project: Any, tmp_path: Path
) -> None:
    run = finished_run(project, tmp_path, 0, 1)
    page = admin_client.get(f"/training/runs/{run.pk}/")
    assert page.status_code == 200
    assert f"{run.metrics['accuracy']:.3f}" in page.content.decode()
    download = admin_client.get(f"/training/models/{run.model.pk}/files/head.safetensors")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"weights 0"
    assert admin_client.get(f"/training/models/{run.model.pk}/files/secret").status_code == 404


def test_other_people_and_annotators_get_404(client: Any, project: Any, tmp_path: Path) -> None:
    run = finished_run(project, tmp_path, 0, 1)
    stranger = UserFactory(username="mallory")
    annotator = UserFactory(username="anna")
    MembershipFactory(project=project, user=annotator, role="annotator")
    for user in (stranger, annotator):
        client.force_login(user)
        for url in (
            f"/projects/{project.pk}/training/",
            f"/training/runs/{run.pk}/",
            f"/projects/{project.pk}/training/compare/",
            f"/training/models/{run.model.pk}/files/head.safetensors",
        ):
            assert client.get(url).status_code == 404, (user, url)


@pytest.mark.slow
def test_the_form_starts_a_run_and_explains_a_bad_request(
    admin_client: Any, project: Any, tmp_path: Path
) -> None:
    labelled_project(project, tmp_path, n=30)
    form = {"kind": "head", "drop_bottom_pct": 0, "drop_top_pct": 0, "smoothing": 0,
            "margin_lambda": 0, "epochs": 2, "hidden": 0, "seed": 0}  # fmt: skip
    # a margin reads mu, and the project has no scoring run
    bad = admin_client.post(f"/projects/{project.pk}/training/", form | {"margin_lambda": 1})
    assert bad.status_code == 400 and "score the pairs first" in bad.content.decode()
    assert not TrainingRun.objects.exists()
    response = admin_client.post(f"/projects/{project.pk}/training/", form)
    assert response.status_code == 302
    run = TrainingRun.objects.get()
    assert response["Location"] == f"/training/runs/{run.pk}/"
    assert run.job is not None and run.job.kind == "train" and run.job.queue == "default"
    assert HeldOutPair.objects.filter(project=project).exists()
    project_page = admin_client.get(f"/projects/{project.pk}/")
    assert f'href="/projects/{project.pk}/training/"' in project_page.content.decode()
