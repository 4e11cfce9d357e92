"""Per-attribute heads of a rating project: a scoring run's second part (webapp/pipeline.py
runs it after the pair ensemble). A service: it reads the project's ratings and response
texts, fits one ridge head per attribute out of fold (workers/rm/attributes.py), and stores
each response's predicted score per attribute with the rating flags, in one transaction.

Flags sit on the item's derived pairs (every finding is about a pair):

- ``rating_far``: one annotator's rating of a response, on an attribute the heads predict,
  lies far from every head's prediction: the derived pairs of that attribute with that
  response are flagged (details: annotator, position, rating, predicted, distance).
- ``overall_contradicts``: a response rated higher overall than another of the same prompt
  that is at least as good on every other attribute and better on one: their overall pair.
  "Overall" is the project's overall attributes (scheme settings), when they are some of the
  attributes and not all of them; otherwise an overall rating cannot contradict the others.

An attribute the heads cannot predict at all (Spearman's interval reaches 0) flags no pair:
it is a finding about the guideline, listed in the run's summary as ``unpredictable``.

A pairwise-per-attribute project has no ratings to fit, but its answers can contradict
themselves: ``answer_contradictions_flag`` flags the overall pair of an answer that chose A
(or B) overall while no attribute favoured it and at least one favoured the other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings as django_settings
from django.db import connection, transaction

from webapp.flags.models import Flag
from webapp.flags.services import NewFlag, flags_replace
from webapp.labelling import rating_agreement
from webapp.labelling.item_scores import item_scores
from webapp.labelling.models import ItemAnswer
from webapp.pairs.models import Item, ItemResponse, Pair, Prompt, Response
from webapp.projects.schemes import SchemeSettings, scheme_settings_of
from webapp.scoring.models import AttributeScore, ScoringRun

SOURCE = "attribute_heads"
ANSWERS_SOURCE = "attribute_answers"
SIDES = {"a": 1.0, "b": -1.0, "tie": 0.0}
Progress = Callable[[int, int, str], None]


def attribute_scores_fit(*, run: ScoringRun, progress: Progress | None = None) -> dict[str, Any]:
    """Fit the run's project's attribute heads; store scores, flags and the summary on the run.
    Returns the summary (``{"skipped": why}`` when there is too little to fit)."""
    from workers import rm

    project = run.project
    settings = scheme_settings_of(project)
    names = settings.names()
    first, _ = rating_agreement.split_repeats(
        rating_agreement.ratings_frame(item_scores(project=project, with_overall=False))
    )
    texts = _response_texts(project.pk)
    config = rm.AttributeConfig(seed=int(run.config.get("options", {}).get("seed", 0)))
    if texts.empty or first.empty or texts["item"].nunique() < config.n_folds:
        return _summary_store(run, {"skipped": "too few rated items to fit attribute heads"})
    means = rating_agreement.summarise(first)["mean"].unstack("attribute")
    means = means.reindex(columns=names)
    index = pd.MultiIndex.from_frame(texts[["item", "position"]])
    ratings = means.reindex(index).to_numpy(dtype=np.float64)
    options = run.config.get("options", {})
    enc_kwargs: dict[str, Any] = {"max_length": int(options.get("max_length", 256))}
    if options.get("encoder"):
        enc_kwargs["model"] = options["encoder"]
    result = rm.score_attributes(
        prompts=texts["prompt"].tolist(),
        responses=texts["text"].tolist(),
        ratings=ratings,
        groups=texts["item"].to_numpy(),
        attributes=names,
        encoder=rm.Encoder(rm.EncoderConfig(**enc_kwargs)),
        config=config,
        cache=rm.EmbeddingCache(Path(django_settings.EMBEDDING_CACHE_DIR)),
        progress=progress,
    )
    row_of = {key: i for i, key in enumerate(index)}
    far = _far_flags(result, first, row_of, names, texts, config.far_scale)
    contradictions = _contradiction_flags(ratings, names, settings, texts)
    pairs = _derived_pairs(project.pk)
    found = {**far, **contradictions}
    flags = [
        NewFlag(pairs[key], kind, details) for key, (kind, details) in found.items() if key in pairs
    ]
    summary = {
        **result.summary(),
        "n_responses": len(texts),
        "unpredictable": rm.unpredictable_attributes(result),
        "flag_counts": {
            kind: sum(f.kind == kind for f in flags)
            for kind in (Flag.Kind.RATING_FAR.value, Flag.Kind.OVERALL_CONTRADICTS.value)
        },
    }
    with transaction.atomic():
        AttributeScore.objects.filter(run=run).delete()
        AttributeScore.objects.bulk_create(
            [
                AttributeScore(
                    run=run,
                    item_id=int(item),
                    position=int(position),
                    attribute=name,
                    predicted=float(result.mean[i, a]),
                    spread=float(result.spread[i, a]),
                    rating=None if np.isnan(ratings[i, a]) else float(ratings[i, a]),
                )
                for i, (item, position) in enumerate(index)
                for a, name in enumerate(names)
            ],
            batch_size=5000,
        )
        flags_replace(project=project, source=SOURCE, scoring_run_id=run.pk, flags=flags)
        _summary_store(run, summary)
    return summary


def _summary_store(run: ScoringRun, summary: dict[str, Any]) -> dict[str, Any]:
    run.summary = {**run.summary, "attributes": summary}
    run.save(update_fields=["summary"])
    return summary


def _response_texts(project_id: int) -> pd.DataFrame:
    """Every response of the project's items: item, position, prompt, text; in one query."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT ir.item_id, ir.position, pr.text, pr.conversation, r.text
            FROM {ItemResponse._meta.db_table} ir
            JOIN {Item._meta.db_table} i
                ON i.id = ir.item_id
            JOIN {Prompt._meta.db_table} pr ON pr.id = i.prompt_id
            JOIN {Response._meta.db_table} r ON r.id = ir.response_id
            WHERE i.project_id = %s ORDER BY ir.item_id, ir.position
            """,
            [project_id],
        )
        rows = [
            (item, position, conversation if conversation is not None else text, response)
            for item, position, text, conversation, response in cursor.fetchall()
        ]
    return pd.DataFrame(rows, columns=["item", "position", "prompt", "text"])


# (item, first position, second position, attribute) -> what to flag there
Found = dict[tuple[int, int, int, str], tuple[str, dict[str, Any]]]


def _derived_pairs(project_id: int) -> dict[tuple[int, int, int, str], int]:
    """The project's derived pairs by (item, lower position, higher position, attribute)."""
    rows = Pair.objects.filter(project_id=project_id, item__isnull=False).values_list(
        "id", "item_id", "attribute", "metadata"
    )
    out = {}
    for pair_id, item_id, attribute, metadata in rows:
        first, second = sorted((metadata or {}).get("positions", [0, 0]))
        out[(item_id, first, second, attribute)] = pair_id
    return out


def _far_flags(
    result: Any,
    first: pd.DataFrame,
    row_of: dict[tuple[int, int], int],
    names: list[str],
    texts: pd.DataFrame,
    scale: float,
) -> Found:
    from workers import rm

    rated = first[first["attribute"].isin(names)]
    rows = np.array([row_of[(i, p)] for i, p in zip(rated["item"], rated["response"], strict=True)])
    attribute = rated["attribute"].map({n: a for a, n in enumerate(names)}).to_numpy()
    far = rm.far_ratings(
        result=result,
        response=rows,
        attribute=attribute,
        value=rated["value"].to_numpy(),
        scale=scale,
    )
    positions = texts.groupby("item")["position"].apply(list).to_dict()
    found: Found = {}
    for k in np.flatnonzero(far.far):
        item, position = int(rated["item"].iloc[k]), int(rated["response"].iloc[k])
        a = int(attribute[k])
        details = {
            "attribute": names[a],
            "position": position,
            "annotator": int(rated["worker"].iloc[k]),
            "rating": float(rated["value"].iloc[k]),
            "predicted": round(float(result.mean[rows[k], a]), 3),
            "distance": round(float(far.distance[k]), 2),
        }
        for other in positions[item]:
            if other == position:
                continue
            key = (item, min(position, other), max(position, other), names[a])
            if key not in found or found[key][1]["distance"] < details["distance"]:
                found[key] = (Flag.Kind.RATING_FAR.value, details)
    return found


def _contradiction_flags(
    ratings: np.ndarray, names: list[str], settings: SchemeSettings, texts: pd.DataFrame
) -> Found:
    from workers import rm

    weights = {name: w for name, w in settings.overall if name in names and w}
    if not weights or len(weights) == len(names):
        return {}
    columns = [names.index(n) for n in weights]
    others = [i for i in range(len(names)) if i not in columns]
    overall = ratings[:, columns] @ np.array(list(weights.values())) / sum(weights.values())
    _, pairs = rm.overall_contradictions(
        overall=overall, attributes=ratings[:, others], group=texts["item"].to_numpy()
    )
    found: Found = {}
    for i, j in pairs:
        item = int(texts["item"].iloc[i])
        pi, pj = int(texts["position"].iloc[i]), int(texts["position"].iloc[j])
        found[(item, min(pi, pj), max(pi, pj), "")] = (
            Flag.Kind.OVERALL_CONTRADICTS.value,
            {"higher_overall": pi, "better_on_attributes": pj, "overall": list(weights)},
        )
    return found


def answer_contradictions_flag(*, run: ScoringRun) -> int:
    """Flag, in this run, the overall pair of every pairwise-per-attribute answer whose overall
    choice goes against its attribute choices (module doc); returns the flags written."""
    from workers import rm

    project = run.project
    names = scheme_settings_of(project).names()
    answers = list(
        ItemAnswer.objects.filter(
            project=project, kind=ItemAnswer.Kind.PAIRWISE_ATTRIBUTES
        ).values_list("item_id", "annotator_id", "payload")
    )
    if not answers:
        return 0
    overall = np.array([SIDES[payload["overall"]] for _, _, payload in answers])
    sides = np.array(
        [
            [SIDES.get(payload["attributes"].get(n), np.nan) for n in names]
            for *_, payload in answers
        ]
    ).reshape(len(answers), len(names))
    contradicting = rm.pair_overall_contradictions(overall=overall, attributes=sides)
    pairs = _derived_pairs(project.pk)
    found: dict[int, NewFlag] = {}
    for k in np.flatnonzero(contradicting):
        item_id, annotator_id, payload = answers[k]
        pair_id = pairs.get((item_id, 0, 1, ""))
        if pair_id is None:
            continue
        flag = found.setdefault(
            pair_id, NewFlag(pair_id, Flag.Kind.OVERALL_CONTRADICTS.value, {"annotators": []})
        )
        flag.details["annotators"].append(annotator_id)
        flag.details.setdefault("overall", payload["overall"])
    with transaction.atomic():
        return flags_replace(
            project=project,
            source=ANSWERS_SOURCE,
            scoring_run_id=run.pk,
            flags=list(found.values()),
        )
