"""The importer's length limits are the columns' own, so no value that passes them can fail
the COPY of a whole chunk."""

from __future__ import annotations

from webapp.imports import fields
from webapp.pairs.models import Pair, Response


def test_the_importer_limits_are_the_column_lengths() -> None:
    assert Pair._meta.get_field("external_id").max_length == fields.MAX_ID
    assert Pair._meta.get_field("split").max_length == fields.MAX_SPLIT
    assert Response._meta.get_field("source_model").max_length == fields.MAX_MODEL
