"""Hugging Face ``datasets`` loads every kind of export as it is, with the expected columns and
row counts per split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import pytest

from tests.exports.helpers import add_scores, add_votes, make_pairs
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write

EXTRA = ["pair_id", "split", "label_source", "human_agreement", "mu", "sigma", "flags"]


@pytest.fixture(autouse=True)
def _hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    datasets.disable_progress_bars()


def _load(snapshot: Any, **kwargs: Any) -> datasets.DatasetDict:
    loader = "parquet" if snapshot.file_format == "parquet" else "json"
    files = {
        f["hf_split"]: str(snapshot.path / f["name"]) for f in snapshot.files if f.get("hf_split")
    }
    return datasets.load_dataset(loader, data_files=files, **kwargs)


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz", "parquet"])
@pytest.mark.parametrize("style", ["standard", "conversational"])
def test_each_export_loads_with_its_columns_and_counts(project: Any, fmt: str, style: str) -> None:
    made = make_pairs(project, 24)
    add_scores(project, made)
    snapshot = export_write(
        snapshot=export_create(
            project=project,
            file_format=fmt,
            spec=ExportSpec(style=style, with_margin=True),
            enqueue=False,
        )
    )
    loaded = _load(snapshot)
    expected = {"train": 0, "test": 0}
    for e in made.expected.values():
        if e["label"] in ("a", "b"):
            expected[e["split"]] += 1
    assert {name: len(ds) for name, ds in loaded.items()} == expected
    for ds in loaded.values():
        assert ds.column_names == ["prompt", "chosen", "rejected", "margin", *EXTRA]
        row = ds[0]
        if style == "conversational":
            assert row["chosen"][0]["role"] == "assistant"
            assert row["prompt"][-1]["role"] == "user"
        else:
            assert isinstance(row["prompt"], str) and isinstance(row["chosen"], str)
        assert all(m >= 0 for m in ds["margin"])


def test_a_json_file_with_late_values_loads_when_read_in_small_chunks(project: Any) -> None:
    """datasets' JSON loader guesses column types from its first chunk: the pairs that have
    votes, scores and flags open the file, so a column that is null early on still loads."""
    made = make_pairs(project, 40, conversations=False)
    labelled = [p for p in made.pairs if p.imported_label in ("a", "b") and p.split == "train"]
    add_votes(labelled[-1], ["a", "a", "b"])
    add_scores(project, made, mu_of=lambda k: 1.0, flag_ids=(labelled[-2].pk,))
    spec = ExportSpec(split="train")
    snapshot = export_write(
        snapshot=export_create(project=project, file_format="jsonl", spec=spec, enqueue=False)
    )
    # a chunk of a few hundred bytes: many chunks, the first of which holds two or three rows
    ds = _load(snapshot, chunksize=600)["train"]
    assert len(ds) == len(labelled)
    assert ds.features["human_agreement"].dtype == "float64"
    assert ds.features["flags"].feature.dtype == "string"
    assert sum(x is not None for x in ds["human_agreement"]) == 1


def test_the_snapshot_folder_loads_by_its_dataset_card(project: Any) -> None:
    """The card's YAML header names each split's file: the folder itself is a dataset."""
    make_pairs(project, 12)
    snapshot = export_write(
        snapshot=export_create(
            project=project, file_format="parquet", spec=ExportSpec(), enqueue=False
        )
    )
    loaded = datasets.load_dataset(str(snapshot.path))
    assert {name: len(ds) for name, ds in loaded.items()} == {
        f["hf_split"]: f["rows"] for f in snapshot.files if f.get("hf_split")
    }
