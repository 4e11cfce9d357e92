"""An item project exports its derived pairs in TRL's layout with attribute and margin columns,
its ratings in HelpSteer2's layout or its rankings as given, each loadable by ``datasets``; the
card says how the pairs were derived."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import pytest

from tests.labelling.helpers import annotator, make_items
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write
from webapp.labelling.items import AnswerRow, item_answers_store
from webapp.projects.services import project_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    datasets.disable_progress_bars()


def export(project: Any, fmt: str = "jsonl") -> Any:
    return export_write(
        snapshot=export_create(project=project, file_format=fmt, spec=ExportSpec(), enqueue=False)
    )


def pairs_of(snapshot: Any) -> datasets.Dataset:
    loader = "parquet" if snapshot.file_format == "parquet" else "json"
    (train,) = [f for f in snapshot.files if f["split"] == "train"]
    return datasets.load_dataset(
        loader, data_files=str(snapshot.path / train["name"]), split="train"
    )


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_a_rating_project_exports_pairs_per_attribute_and_its_ratings(fmt: str) -> None:
    settings = {
        "attributes": [
            {"name": "help", "low": 0, "high": 4},
            {"name": "brief", "low": 0, "high": 4},
        ],
        "overall": {"help": 1},
    }
    project = project_create(name="rated", label_scheme="rating", scheme_settings=settings)
    (item,) = make_items(project, 1, k=3)
    ann, bob = annotator(project, "ann"), annotator(project, "bob")
    item_answers_store(
        project=project,
        answers=[
            AnswerRow(
                item.pk,
                ann.pk,
                "rating",
                {
                    "ratings": {
                        "0": {"help": 4, "brief": 1},
                        "1": {"help": 2, "brief": 1},
                        "2": {"help": 0, "brief": 3},
                    }
                },
            ),
            AnswerRow(
                item.pk,
                bob.pk,
                "rating",
                {
                    "ratings": {
                        "0": {"help": 3, "brief": 1},
                        "1": {"help": 3, "brief": 2},
                        "2": {"help": 1, "brief": 4},
                    }
                },
            ),
        ],
    )
    snapshot = export(project, fmt)
    rows = pairs_of(snapshot)
    assert rows.column_names[:5] == ["prompt", "chosen", "rejected", "attribute", "margin"]
    got = {(r["attribute"], r["chosen"][-3:], r["rejected"][-3:], r["margin"]) for r in rows}
    # help: 0 over 1 (ann +2, bob 0: one decisive vote), 0 over 2 (+4, +2: mean 3),
    # 1 over 2 (+2, +2); brief: 2 over 0 (2, 3: 2.5), 2 over 1 (2, 2), 0-1 (0, -1: one vote for 1)
    assert got == {
        ("help", "0.0", "0.1", 1.0), ("help", "0.0", "0.2", 3.0), ("help", "0.1", "0.2", 2.0),
        ("", "0.0", "0.1", 1.0), ("", "0.0", "0.2", 3.0), ("", "0.1", "0.2", 2.0),
        ("brief", "0.2", "0.0", 2.5), ("brief", "0.2", "0.1", 2.0), ("brief", "0.1", "0.0", 0.5),
    }  # fmt: skip
    ratings_file = next(f for f in snapshot.files if f["name"] == "ratings.jsonl")
    ratings = datasets.load_dataset(
        "json", data_files=str(snapshot.path / ratings_file["name"]), split="train"
    )
    assert ratings.column_names[:4] == ["prompt", "response", "help", "brief"]
    by_position = {r["position"]: (r["help"], r["brief"], r["annotators"]) for r in ratings}
    assert by_position == {0: (3.5, 1.0, 2), 1: (2.5, 1.5, 2), 2: (0.5, 3.5, 2)}
    card = (snapshot.path / "README.md").read_text()
    assert "## How the pairs were derived" in card
    assert "every pair of responses an answer orders" in card
    assert "(1 x help) / 1" in card
    assert "config_name: ratings" in card
    # the card's YAML header is what load_dataset(folder) reads: the default config is the pairs
    folder = datasets.load_dataset(str(snapshot.path), split="train")
    assert len(folder) == len(rows)


def test_a_ranking_project_exports_its_rankings_as_given() -> None:
    project = project_create(
        name="ranks", label_scheme="ranking", scheme_settings={"derivation": "best_vs_rest"}
    )
    (item,) = make_items(project, 1, k=3)
    ann = annotator(project, "ann")
    item_answers_store(
        project=project, answers=[AnswerRow(item.pk, ann.pk, "ranking", {"tiers": [[2], [0, 1]]})]
    )
    snapshot = export(project)
    rows = pairs_of(snapshot)
    assert sorted((r["chosen"][-3:], r["rejected"][-3:], r["margin"]) for r in rows) == [
        ("0.2", "0.0", 1.0), ("0.2", "0.1", 1.0)
    ]  # fmt: skip
    rankings = datasets.load_dataset(
        "json", data_files=str(snapshot.path / "rankings.jsonl"), split="train"
    )
    (row,) = rankings
    assert row["responses"] == ["Response 0.0", "Response 0.1", "Response 0.2"]
    assert row["answers"] == [{"annotator_id": ann.pk, "kind": "ranking", "tiers": [[2], [0, 1]]}]
    assert "only the best response(s) of each answer" in (snapshot.path / "README.md").read_text()
