"""Per-attribute strength on real ratings: how well the heads predict each USR attribute.

USR Topical-Chat (../shared/data/ratings/usr-topical-chat.json; no licence stated, so read
from ../shared only): 60 dialogue contexts x 6 responses (four systems, the original reply and
a new human one), each rated by humans on six attributes (understandability 0-1, naturalness,
coherence, engagingness 1-3, groundedness 0-1, overall 1-5; means of three annotators).

The prompt is the dialogue history; the knowledge fact the speakers were given is left out
(cut from the left at 128 tokens it would not survive), so groundedness, which asks whether
the response uses that fact, is expected to be hard. Features as the default attribute heads
(workers.rm.AttributeConfig: context+response, MiniLM layers 3 and 5, M = 8 ridge heads per
fold, K = 5 folds drawn over dialogue contexts), embeddings cached under var/bench-embeddings.

For each of SEEDS fold splits, per attribute: Spearman's rho between the out-of-fold mean
prediction and the ratings, pooled over all 360 responses. Figures, per attribute:
``<attr>.spearman`` (mean over seeds), ``<attr>.spearman_seed_sd`` (spread over seeds),
``<attr>.spearman_fold_sd`` (spread over the folds of one split, averaged over seeds),
``<attr>.ci_low`` / ``ci_high`` (the 95% interval from resampling contexts, seed 0),
``<attr>.baseline_spearman`` (the baseline predicting each fold's training mean, the same
folds), ``<attr>.r2_vs_mean`` (1 - squared error / the baseline's: above 0 is better than the
mean), ``<attr>.within_context`` (mean rho among one context's six responses: what pairs
derived from the ratings ask of the heads), ``<attr>.predictable_seeds`` (in how many splits
the interval stayed above 0). And ``overall_contradicting_pairs``: pairs of one context whose
overall rating goes against the other five attributes (``overall_contradictions``).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np

from bench.real_pairs import DATA, offline_encoder
from workers.rm import AttributeConfig, embed_responses, fit_attributes, overall_contradictions

Figures = Callable[[str, float, str], None]

NEEDS_SHARED_DATA = True
PATH = DATA / "ratings" / "usr-topical-chat.json"
SEEDS = (0, 1, 2, 3, 4)


def usr_records() -> tuple[
    list[list[dict[str, str]]], list[str], np.ndarray, np.ndarray, list[str]
]:
    """(prompts as conversations, responses, (N, A) ratings, (N,) context id, attribute names)."""
    records = json.loads(PATH.read_text(encoding="utf-8"))
    names = list(records[0]["scores"])
    contexts: dict[str, int] = {}
    prompts, responses, ratings, groups = [], [], [], []
    for record in records:
        turns = [t.strip() for t in record["source"].strip().split("\n") if t.strip()]
        # the last turn is the one answered: speakers alternate back from it
        roles = ["user" if (len(turns) - i) % 2 else "assistant" for i in range(len(turns))]
        prompts.append([{"role": r, "content": t} for r, t in zip(roles, turns, strict=True)])
        responses.append(record["system_output"].strip())
        ratings.append([float(record["scores"][n]) for n in names])
        groups.append(contexts.setdefault(record["source"], len(contexts)))
    return prompts, responses, np.array(ratings), np.array(groups), names


def run(figures: Figures) -> None:
    prompts, responses, ratings, groups, names = usr_records()
    figures("responses", len(responses), "responses")
    figures("contexts", len(set(groups.tolist())), "contexts")
    encoder, cache = offline_encoder()
    defaults = AttributeConfig()
    x = embed_responses(
        prompts=prompts,
        responses=responses,
        encoder=encoder,
        cache=cache,
        features=defaults.features,
        layers=defaults.encoder_layers,
    )
    by_seed = [
        fit_attributes(
            features=x,
            ratings=ratings,
            groups=groups,
            attributes=names,
            config=AttributeConfig(seed=seed),
        )
        for seed in SEEDS
    ]
    for a, name in enumerate(names):
        fits = [result.fits[a] for result in by_seed]
        rhos = np.array([f.spearman if f.spearman is not None else np.nan for f in fits])
        figures(f"{name}.spearman", float(np.nanmean(rhos)), "")
        figures(f"{name}.spearman_seed_sd", float(np.nanstd(rhos)), "")
        fold_sd = [
            np.nanstd([r if r is not None else np.nan for r in f.fold_spearman]) for f in fits
        ]
        figures(f"{name}.spearman_fold_sd", float(np.mean(fold_sd)), "")
        figures(f"{name}.ci_low", _number(fits[0].ci_low), "")
        figures(f"{name}.ci_high", _number(fits[0].ci_high), "")
        baseline = [
            f.baseline_spearman if f.baseline_spearman is not None else np.nan for f in fits
        ]
        figures(f"{name}.baseline_spearman", float(np.nanmean(baseline)), "")
        figures(f"{name}.r2_vs_mean", float(np.mean([_number(f.r2_vs_mean) for f in fits])), "")
        figures(
            f"{name}.within_context", float(np.mean([_number(f.within_prompt) for f in fits])), ""
        )
        figures(f"{name}.predictable_seeds", sum(f.predictable for f in fits), f"of {len(SEEDS)}")
        print(f"  {name}: rho by seed {np.round(rhos, 3).tolist()}", flush=True)
    overall = names.index("overall")
    others = [i for i in range(len(names)) if i != overall]
    _, pairs = overall_contradictions(
        overall=ratings[:, overall], attributes=ratings[:, others], group=groups
    )
    figures("overall_contradicting_pairs", len(pairs), "pairs")


def _number(value: float | None) -> float:
    return float(value) if value is not None else float("nan")
