"""Derivation by hand: answers on items become votes on (lower position, higher position) pairs
with the attribute and a signed margin (positive when the lower position is better)."""

from __future__ import annotations

import pytest

from webapp.labelling.derive import DerivedVote, derive_votes
from webapp.labelling.payloads import PayloadError, payload_clean
from webapp.projects.schemes import SchemeSettingsError, scheme_settings_parse


def votes(kind: str, payload: dict, **settings: object) -> set[tuple]:
    parsed = scheme_settings_parse(settings)
    clean = payload_clean(kind=kind, payload=payload, positions=[0, 1, 2, 3], settings=parsed)
    return {
        (v.first, v.second, v.attribute, v.choice, v.margin)
        for v in derive_votes(kind=kind, payload=clean, settings=parsed)
    }


def test_a_ranking_with_a_tie_gives_every_pair_with_its_rank_gap() -> None:
    # 2 first, then 0 and 3 tied, then 1 last: tiers 0, 1, 1, 2.
    got = votes("ranking", {"tiers": [[2], [3, 0], [1]]})
    assert got == {
        (0, 1, "", "a", 1.0),  # tier 1 over tier 2
        (0, 2, "", "b", -1.0),  # 2 (tier 0) over 0 (tier 1)
        (0, 3, "", "tie", 0.0),
        (1, 2, "", "b", -2.0),  # 2 over 1 by two tiers
        (1, 3, "", "b", -1.0),
        (2, 3, "", "a", 1.0),
    }


def test_best_vs_rest_keeps_only_the_pairs_of_the_top_tier() -> None:
    got = votes("ranking", {"tiers": [[1, 3], [0], [2]]}, derivation="best_vs_rest")
    # 1 and 3 are tied best: each against 0 and 2; not 1 against 3, not 0 against 2.
    assert got == {
        (0, 1, "", "b", -1.0),
        (0, 3, "", "b", -1.0),
        (1, 2, "", "a", 2.0),
        (2, 3, "", "b", -2.0),
    }


def test_best_worst_compares_only_pairs_with_the_best_or_the_worst() -> None:
    got = votes("best_worst", {"shown": [3, 0, 1], "best": 3, "worst": 0})
    # 1 was neither: 3 > 1 and 1 > 0 by one step, 3 > 0 by two; 2 was not shown.
    assert got == {(0, 1, "", "b", -1.0), (0, 3, "", "b", -2.0), (1, 3, "", "b", -1.0)}


def test_ratings_give_pairs_per_attribute_and_overall_from_the_weights() -> None:
    settings = {
        "attributes": [
            {"name": "help", "low": 0, "high": 4},
            {"name": "style", "low": 1, "high": 3},
        ],
        "overall": {"help": 3, "style": 1},
    }
    ratings = {
        "0": {"help": 4, "style": 1},  # overall (12 + 1) / 4 = 3.25
        "1": {"help": 2, "style": 3},  # (6 + 3) / 4 = 2.25
        "2": {"help": 4, "style": 2},  # (12 + 2) / 4 = 3.5
        "3": {"help": 2, "style": 3},  # 2.25, the same as 1 on everything
    }
    got = votes("rating", {"ratings": ratings}, **settings)
    help_votes = {v for v in got if v[2] == "help"}
    assert help_votes == {
        (0, 1, "help", "a", 2.0), (0, 2, "help", "tie", 0.0), (0, 3, "help", "a", 2.0),
        (1, 2, "help", "b", -2.0), (1, 3, "help", "tie", 0.0), (2, 3, "help", "a", 2.0),
    }  # fmt: skip
    overall = {v for v in got if v[2] == ""}
    assert overall == {
        (0, 1, "", "a", 1.0), (0, 2, "", "b", -0.25), (0, 3, "", "a", 1.0),
        (1, 2, "", "b", -1.25), (1, 3, "", "tie", 0.0), (2, 3, "", "a", 1.25),
    }  # fmt: skip
    assert len(got) == 18  # six pairs for each of help, style and overall


def test_pairwise_attributes_vote_once_per_attribute_and_overall() -> None:
    settings = scheme_settings_parse({"attributes": [{"name": "x"}, {"name": "y"}], "overall": {}})
    payload = payload_clean(
        kind="pairwise_attributes",
        payload={"overall": "b", "attributes": {"x": "a", "y": "tie"}},
        positions=[0, 1],
        settings=settings,
    )
    assert derive_votes(kind="pairwise_attributes", payload=payload, settings=settings) == [
        DerivedVote(0, 1, "x", "a", 1.0),
        DerivedVote(0, 1, "y", "tie", 0.0),
        DerivedVote(0, 1, "", "b", -1.0),
    ]


@pytest.mark.parametrize(
    ("kind", "payload", "field"),
    [
        ("ranking", {"tiers": [[0, 1], [2]]}, "tiers"),  # 3 not ranked
        ("ranking", {"tiers": [[0, 1], [1, 2, 3]]}, "tiers.1.0"),  # 1 twice
        ("ranking", {"tiers": [[0, 1, 2, 7]]}, "tiers.0.3"),
        ("best_worst", {"shown": [0, 1, 2], "best": 1, "worst": 1}, "worst"),
        ("best_worst", {"shown": [0, 1, 2], "best": 3, "worst": 1}, "best"),
        (
            "rating",
            {"ratings": {str(p): {"helpfulness": 2} for p in range(4)}},
            "ratings.0.correctness",
        ),
        ("rating", {"ratings": {"0": {}, "9": {}}}, "ratings.9"),
        ("ranking", {"tiers": [[0, 1, 2, 3]], "note": 1}, "note"),
    ],
)
def test_a_bad_payload_names_its_field(kind: str, payload: dict, field: str) -> None:
    with pytest.raises(PayloadError) as caught:
        payload_clean(
            kind=kind, payload=payload, positions=[0, 1, 2, 3], settings=scheme_settings_parse({})
        )
    assert caught.value.field == field


def test_a_rating_outside_its_scale_is_refused() -> None:
    settings = scheme_settings_parse({})
    ratings = {str(p): {a: 2 for a in settings.names()} for p in range(4)}
    ratings["2"]["verbosity"] = 5
    with pytest.raises(PayloadError, match="between 0 and 4") as caught:
        payload_clean(
            kind="rating", payload={"ratings": ratings}, positions=range(4), settings=settings
        )
    assert caught.value.field == "ratings.2.verbosity"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"attributes": [{"name": "A b"}]}, "attributes[0].name"),
        ({"attributes": [{"name": "x", "low": 3, "high": 1}]}, "attributes[0].high"),
        ({"attributes": [{"name": "x"}, {"name": "x"}]}, "attributes[1].name"),
        ({"ranking_mode": "pick"}, "ranking_mode"),
        ({"derivation": "some"}, "derivation"),
        ({"overall": {"nope": 1}}, "overall.nope"),
    ],
)
def test_bad_scheme_settings_name_their_field(raw: dict, field: str) -> None:
    with pytest.raises(SchemeSettingsError) as caught:
        scheme_settings_parse(raw)
    assert caught.value.field == field


def test_the_default_settings_are_helpsteer2s_five_attributes_at_0_to_4() -> None:
    settings = scheme_settings_parse({})
    assert settings.names() == [
        "helpfulness",
        "correctness",
        "coherence",
        "complexity",
        "verbosity",
    ]
    assert {(a.low, a.high) for a in settings.attributes} == {(0, 4)}
    assert (settings.ranking_mode, settings.derivation) == ("full", "all")
    assert dict(settings.overall) == {"helpfulness": 1.0}
