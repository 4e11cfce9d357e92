"""The real HH-RLHF and PandaLM test sets in ../shared/data parse into the pairs they hold,
with the flaws of the data itself reported on their lines. No database needed."""

from __future__ import annotations

from collections import Counter

from tests.conftest import shared_data
from tests.imports.helpers import read
from webapp.imports.formats import ParsedPair, RecordError


def errors_by_reason(items: list[ParsedPair | RecordError]) -> dict[tuple[str, str], list[int]]:
    found: dict[tuple[str, str], list[int]] = {}
    for e in items:
        if isinstance(e, RecordError):
            found.setdefault((e.field, e.reason.split(":")[0]), []).append(e.line)
    return found


def test_it_parses_the_real_hh_helpful_test_set() -> None:
    items = read(shared_data("hh-rlhf/helpful-base_test.jsonl.gz"))
    pairs = [i for i in items if isinstance(i, ParsedPair)]
    assert len(items) == 2354 and len(pairs) == 2345
    # The data's own flaws, not ours: nine pairs whose rejected transcript has extra or
    # different turns before its last Assistant turn.
    assert errors_by_reason(items) == {
        ("rejected", "does not share chosen's prompt"): [
            169,
            355,
            568,
            744,
            961,
            1012,
            1167,
            1308,
            1451,
        ],
    }
    # four empty rejected responses are real pairs, kept for the checks to flag
    assert [p.line for p in pairs if not p.response_b] == [121, 741, 1215, 2064]
    assert [p.line for p in pairs if p.response_a == p.response_b] == [722, 2169]
    assert all(p.prompt[0]["role"] == "user" and p.prompt[-1]["role"] == "user" for p in pairs)  # type: ignore[index]


def test_it_parses_the_real_hh_harmless_test_set() -> None:
    items = read(shared_data("hh-rlhf/harmless-base_test.jsonl.gz"))
    pairs = [i for i in items if isinstance(i, ParsedPair)]
    assert len(items) == 2312 and len(pairs) == 2307
    assert errors_by_reason(items) == {
        ("rejected", "does not share chosen's prompt"): [1255, 1689, 1951, 1953, 2037],
    }
    assert [p.line for p in pairs if not p.response_a] == [87, 517, 926, 1104]


def test_it_parses_the_real_pandalm_test_set() -> None:
    items = read(shared_data("pandalm/testset-v1.json"))
    pairs = [i for i in items if isinstance(i, ParsedPair)]
    assert len(items) == 999 and len(pairs) == 993
    assert all(len(p.votes) == 3 and p.model_a and p.model_b for p in pairs)
    found = {reason: len(lines) for reason, lines in errors_by_reason(items).items()}
    assert found == {
        ("response1", "expected a string, got a boolean"): 4,  # `true` where a model said "True"
        ("response2", "expected a string, got a boolean"): 2,
    }
    assert sum(1 for p in pairs if not p.response_a or not p.response_b) == 54  # empty, kept
    split = [p for p in pairs if len({v for _, v in p.votes}) > 1]  # all two against one
    assert len(split) == 116 and all([v for _, v in p.votes].count(p.label) == 2 for p in split)
    assert Counter(p.label for p in pairs) == {"b": 470, "a": 418, "tie": 105}
    assert pairs[-1].line == 11978  # real line numbers, not indexes
