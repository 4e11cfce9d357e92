"""Preference strength on real data: HH-RLHF, PandaLM's three annotators, injected label flips.

Everything uses the default ensemble (workers.rm.EnsembleConfig: M=8 linear heads, K=5 folds,
out-of-fold, bootstrap with out-of-bag early stopping, context+response features) on the
bundled MiniLM, frozen, at max_length 128 (MiniLM was trained at 256; 128 halves the cold
embedding time, and texts are cut from the left so each response's end survives). Embeddings
are cached under var/bench-embeddings (git ignores var/): a cold run embeds ~20k texts, a warm
run only trains heads.

1. HH-RLHF test splits (../shared/data/hh-rlhf), helpful and harmless scored separately, and
   mixed into one set (pairs from sources with different criteria sharing one model):
   ``<split>.frac_mu_negative``, ``<split>.oof_accuracy`` (share with mu > 0),
   ``<split>.mean_model_correlation``, and sigma against mu in 20 equal-count groups, printed
   as one line of group means; ``<split>.sigma_ends_over_middle`` is the mean sigma of the two
   outer groups over that of the two middle ones (above 1: the paper's U shape).
   Records the importer rejects (rejected does not share chosen's prompt) are left out.

2. PandaLM (testset-v1.json: three annotators vote 1, 2 or 0 = tie on each pair). Scoring the
   pairs with the annotators' majority as the label and then asking whether mu agrees with
   that majority would grade the labels by themselves. Instead, as a dataset with one
   annotator per pair would be: annotator j's vote is the stored label (its ties skipped), an
   out-of-fold ensemble is trained on those labels alone, and each label is then checked
   against the majority of all three annotators (a majority for "tie" counts as
   disagreement; pairs with no majority are left out of the agreement figures). This is done
   for j = 1, 2, 3 and pooled, mu quintiles taken within each j. ``pandalm.agree_q1`` (weakest
   fifth) .. ``agree_q5`` (strongest): if strength means anything, agreement rises with mu.

3. Injected flips, per HH split (pairs with identical responses left out: no flip shows):
   flip a random 20% of the labels by swapping chosen and rejected, score out-of-fold, and
   take the ROC AUC of -score for finding the flipped pairs. This is done for five draws of
   the flipped pairs (FLIP_SEEDS); each figure is the mean over the draws, and each AUC's
   draws are printed on one line (``..._by_seed``):
   - ``auc_ensemble``: -mu of the default ensemble;
   - ``auc_single``: -mu of one model (n_models=1, otherwise the same config, the same folds);
   - ``auc_cleanlab``: cleanlab on the same features. Each pair becomes a 2-class example:
     d = features(chosen) - features(rejected), shown as +d with class 1 or as -d with class 0
     (a fair coin, seed 1), so that both classes exist and "class as stored" is what a flip
     breaks. Out-of-fold probabilities come from sklearn's LogisticRegressionCV (C picked by an
     inner 3-fold search over 0.01..1, on the training folds' labels only) through
     cross_val_predict on the ensemble's own folds. The score is cleanlab's self-confidence
     (the probability of the stored class, `cleanlab.rank.get_label_quality_scores`), the
     ranking `find_label_issues(..., return_indices_ranked_by="self_confidence")` uses; AUC of
     1 - self-confidence.
   ``ens_minus_single`` and ``ens_minus_cleanlab``: the ensemble's mean lead in AUC;
   ``..._se``: its standard error, from a paired bootstrap over pairs (1000 resamples) in each
   draw, to tell a lead from noise; ``ens_ahead_of_<other>_draws``: in how many draws it led.
   ``flagged_ensemble`` / ``precision_ensemble``: pairs flagged likely_mislabelled by
   `compute_flags`' defaults and the share of them that were flipped; ``flagged_cleanlab`` /
   ``precision_cleanlab``: the same for `find_label_issues`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import PredefinedSplit, cross_val_predict

from bench.real_pairs import (
    DATA,
    Features,
    features_as_stored,
    hh_test_pairs,
    offline_encoder,
    read_pairs,
)
from webapp.imports.formats import ParsedPair
from workers.rm import EnsembleConfig, binned_sigma, compute_flags, train_ensemble

Figures = Callable[[str, float, str], None]

NEEDS_SHARED_DATA = True

FLIP_SHARE = 0.2
# Independent draws of which pairs are flipped: one draw of 20% of ~2.3k pairs moves the AUC
# differences by about their own size.
FLIP_SEEDS = (0, 1, 2, 3, 4)
ORIENTATION_SEED = 1
GROUPS = 20
BOOTSTRAP_RESAMPLES = 1000


def _compact(values: np.ndarray) -> str:
    return " ".join(f"{v:.3g}" for v in values)


def report_strength(figures: Figures, name: str, data: Features) -> None:
    result = train_ensemble(chosen=data.chosen, rejected=data.rejected, config=EnsembleConfig())
    bins = binned_sigma(result.mu, result.sigma, groups=GROUPS)
    middle = bins.sigma_mean[GROUPS // 2 - 1 : GROUPS // 2 + 1].mean()
    figures(f"{name}.pairs", len(result.mu), "pairs")
    figures(f"{name}.frac_mu_negative", float((result.mu < 0).mean()), "")
    figures(f"{name}.oof_accuracy", float((result.mu > 0).mean()), "")
    figures(f"{name}.mean_model_correlation", result.mean_model_correlation, "")
    figures(
        f"{name}.sigma_ends_over_middle",
        float((bins.sigma_mean[0] + bins.sigma_mean[-1]) / 2 / middle),
        "x",
    )
    print(f"strength.{name}.mu_by_group: {_compact(bins.mu_mean)}", flush=True)
    print(f"strength.{name}.sigma_by_group: {_compact(bins.sigma_mean)}", flush=True)


def report_pandalm(figures: Figures, pairs: Sequence[ParsedPair], as_stored: Features) -> None:
    votes = np.array([[choice for _, choice in p.votes] for p in pairs])
    majority = np.full(len(pairs), "", dtype=object)
    for choice in ("a", "b", "tie"):
        majority[(votes == choice).sum(axis=1) >= 2] = choice
    agree_by_group: list[list[float]] = [[] for _ in range(5)]
    correct = labelled = 0
    for j in range(3):
        rows = np.flatnonzero(votes[:, j] != "tie")
        swap = votes[rows, j] == "b"
        chosen = np.where(swap[:, None], as_stored.rejected[rows], as_stored.chosen[rows])
        rejected = np.where(swap[:, None], as_stored.chosen[rows], as_stored.rejected[rows])
        result = train_ensemble(chosen=chosen, rejected=rejected, config=EnsembleConfig())
        correct += int((result.mu > 0).sum())
        labelled += len(rows)
        judged = majority[rows] != ""
        agrees = (majority[rows] == votes[rows, j])[judged]
        order = np.argsort(result.mu[judged], kind="stable")
        for group, members in enumerate(np.array_split(order, 5)):
            agree_by_group[group].extend(agrees[members].astype(float).tolist())
    figures("pandalm.labels", labelled, "labels")
    figures("pandalm.oof_accuracy_vs_labeller", correct / labelled, "")
    for group, values in enumerate(agree_by_group, start=1):
        figures(f"pandalm.agree_q{group}", float(np.mean(values)), "")


def _auc(flipped: np.ndarray, score: np.ndarray) -> float:
    return float(roc_auc_score(flipped, score))


def _paired_bootstrap_se(flipped: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Standard error of AUC(a) - AUC(b) over pairs resampled with replacement."""
    rng = np.random.default_rng(0)
    differences = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        rows = rng.integers(0, len(flipped), len(flipped))
        positives = flipped[rows]
        n_pos = int(positives.sum())
        n_neg = len(rows) - n_pos
        if n_pos == 0 or n_neg == 0:
            continue
        aucs = []
        for score in (a[rows], b[rows]):
            ranks = rankdata(score)
            aucs.append((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
        differences.append(aucs[0] - aucs[1])
    return float(np.std(differences, ddof=1))


def _cleanlab(features: np.ndarray, fold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(1 - self-confidence per pair, indices cleanlab's find_label_issues flags)."""
    stored_first = np.random.default_rng(ORIENTATION_SEED).integers(0, 2, len(features))
    shown = features * np.where(stored_first == 1, 1.0, -1.0)[:, None]
    pred_probs = cross_val_predict(
        LogisticRegressionCV(Cs=np.logspace(-2, 0, 5), cv=3, max_iter=2000),
        shown,
        stored_first,
        cv=PredefinedSplit(fold),
        method="predict_proba",
    )
    quality = get_label_quality_scores(stored_first, pred_probs, method="self_confidence")
    issues = find_label_issues(
        stored_first, pred_probs, return_indices_ranked_by="self_confidence", n_jobs=1
    )
    return 1.0 - quality, np.asarray(issues, dtype=np.int64)


@dataclass
class FlipRun:
    """One draw of injected flips: the AUC of each score and the paired SEs of the leads."""

    auc: dict[str, float]  # "ensemble", "single", "cleanlab"
    se: dict[str, float]  # "single", "cleanlab": of AUC(ensemble) - AUC(that one)
    flagged: dict[str, int]
    precision: dict[str, float]


def flip_run(data: Features, seed: int) -> FlipRun:
    n_pairs = len(data.chosen)
    flipped = np.zeros(n_pairs, dtype=bool)
    flipped[
        np.random.default_rng(seed).choice(n_pairs, size=round(FLIP_SHARE * n_pairs), replace=False)
    ] = True
    chosen = np.where(flipped[:, None], data.rejected, data.chosen)
    rejected = np.where(flipped[:, None], data.chosen, data.rejected)

    config = EnsembleConfig()
    ensemble = train_ensemble(chosen=chosen, rejected=rejected, config=config)
    single = train_ensemble(
        chosen=chosen, rejected=rejected, config=EnsembleConfig(n_models=1, seed=config.seed)
    )
    assert ensemble.fold is not None and single.fold is not None
    assert (ensemble.fold == single.fold).all()
    cleanlab_score, issues = _cleanlab(chosen - rejected, ensemble.fold)
    flagged = compute_flags(margins=ensemble.margins).likely_mislabelled
    return FlipRun(
        auc={
            "ensemble": _auc(flipped, -ensemble.mu),
            "single": _auc(flipped, -single.mu),
            "cleanlab": _auc(flipped, cleanlab_score),
        },
        se={
            "single": _paired_bootstrap_se(flipped, -ensemble.mu, -single.mu),
            "cleanlab": _paired_bootstrap_se(flipped, -ensemble.mu, cleanlab_score),
        },
        flagged={"ensemble": int(flagged.sum()), "cleanlab": len(issues)},
        precision={
            "ensemble": float(flipped[flagged].mean()),
            "cleanlab": float(flipped[issues].mean()),
        },
    )


def report_flips(figures: Figures, name: str, data: Features) -> None:
    data = data.take(np.flatnonzero(~data.same_text))
    runs = [flip_run(data, seed) for seed in FLIP_SEEDS]
    prefix = f"flip.{name}"
    figures(f"{prefix}.flipped", round(FLIP_SHARE * len(data.chosen)), "pairs")
    figures(f"{prefix}.flip_seeds", len(runs), "")
    for score in ("ensemble", "single", "cleanlab"):
        by_seed = [run.auc[score] for run in runs]
        figures(f"{prefix}.auc_{score}", float(np.mean(by_seed)), "")
        print(f"strength.{prefix}.auc_{score}_by_seed: {_compact(np.array(by_seed))}", flush=True)
    for other in ("single", "cleanlab"):
        leads = [run.auc["ensemble"] - run.auc[other] for run in runs]
        # the draws flip different pairs: their bootstrap errors add as independent ones
        se_of_mean = float(np.sqrt(sum(run.se[other] ** 2 for run in runs)) / len(runs))
        figures(f"{prefix}.ens_minus_{other}", float(np.mean(leads)), "")
        figures(f"{prefix}.ens_minus_{other}_se", se_of_mean, "")
        figures(f"{prefix}.ens_ahead_of_{other}_draws", sum(lead > 0 for lead in leads), "")
    for score in ("ensemble", "cleanlab"):
        figures(
            f"{prefix}.flagged_{score}", float(np.mean([r.flagged[score] for r in runs])), "pairs"
        )
        figures(
            f"{prefix}.precision_{score}", float(np.mean([r.precision[score] for r in runs])), ""
        )


def run(figures: Figures) -> None:
    started = time.perf_counter()
    encoder, cache = offline_encoder()
    splits = {
        name: features_as_stored(hh_test_pairs(f"{name}-base"), encoder=encoder, cache=cache)
        for name in ("helpful", "harmless")
    }
    pandalm = [p for p in read_pairs(DATA / "pandalm" / "testset-v1.json") if len(p.votes) == 3]
    pandalm_features = features_as_stored(pandalm, encoder=encoder, cache=cache)
    figures("embedding_seconds", time.perf_counter() - started, "s")

    for name, data in splits.items():
        report_strength(figures, name, data)
    helpful, harmless = splits["helpful"], splits["harmless"]
    mixed = Features(
        np.concatenate([helpful.chosen, harmless.chosen]),
        np.concatenate([helpful.rejected, harmless.rejected]),
        np.concatenate([helpful.same_text, harmless.same_text]),
    )
    report_strength(figures, "mixed", mixed)
    report_pandalm(figures, pandalm, pandalm_features)
    for name, data in splits.items():
        report_flips(figures, name, data)
    figures("seconds", time.perf_counter() - started, "s")
