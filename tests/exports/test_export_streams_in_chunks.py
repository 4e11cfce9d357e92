"""A big export streams: many COPY statements, pieces of lines and blocks, progress recorded
between them on the same connection, and the files are the same as when written in one piece."""

from __future__ import annotations

from typing import Any

import pytest

from tests.exports.helpers import add_scores, add_votes, make_pairs
from webapp.dbbackend import copy_binary
from webapp.exports import selectors, streaming
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write
from webapp.jobs.models import Job
from webapp.jobs.services import JobReporter


def _export(project: Any, fmt: str, progress: Any = None) -> Any:
    snapshot = export_create(
        project=project, file_format=fmt, spec=ExportSpec(with_margin=True), enqueue=False
    )
    return export_write(snapshot=snapshot, progress=progress)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_chunks_and_blocks_change_nothing_in_the_files(
    project: Any, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = make_pairs(project, 30)
    add_scores(project, made, flag_ids=(made.pairs[5].pk,))
    add_votes(made.pairs[9], ["a", "a"])
    whole = _export(project, fmt)
    statements: list[int] = []  # pieces each COPY statement sent
    original = copy_binary.copy_out

    def counting(*args: Any, **kwargs: Any) -> Any:
        statements.append(0)
        for piece in original(*args, **kwargs):
            statements[-1] += 1
            yield piece

    monkeypatch.setattr(copy_binary, "copy_out", counting)
    monkeypatch.setattr(streaming, "CHUNK_IDS", 3)
    monkeypatch.setattr(selectors, "PIECE_IDS", 2)  # a line or two per COPY row
    monkeypatch.setattr(streaming, "BLOCK_BYTES", 200)
    if fmt == "parquet":
        from webapp.exports import writers

        monkeypatch.setattr(writers, "ROW_GROUP_BYTES", 500)
    job = Job.objects.create(kind="export", project=project)
    reporter = JobReporter(job, interval=0)  # writes the job row at every call
    pieces = _export(project, fmt, progress=reporter)
    if fmt == "jsonl":
        assert [f["sha256"] for f in pieces.files[:-1]] == [f["sha256"] for f in whole.files[:-1]]
    else:  # Parquet row groups differ in size, so its bytes do too; its rows do not
        import pyarrow.parquet as pq

        for a, b in zip(pieces.files[:-1], whole.files[:-1], strict=True):
            rows_a = pq.read_table(pieces.path / a["name"]).to_pylist()
            assert rows_a == pq.read_table(whole.path / b["name"]).to_pylist()
    assert [f["rows"] for f in pieces.files] == [f["rows"] for f in whole.files]
    job.refresh_from_db()
    assert job.progress_done == job.progress_total == pieces.row_count
    assert pieces.row_count == whole.row_count > 0
    assert len(statements) > 10 and max(statements) > 1
