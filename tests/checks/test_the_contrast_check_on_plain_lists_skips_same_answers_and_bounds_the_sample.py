"""workers.rm.checks.contrast_check on plain lists, no database: prompt pairs whose preferred
answers are the same text are left out, a seeded sample bounds the pairs scored, and each flag
is an instance where both checks fail, named by the caller's pair ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.checks.helpers import PROMPTS
from workers.rm.cache import EmbeddingCache
from workers.rm.checks import ContrastConfig, ContrastFindings, contrast_check
from workers.rm.config import EncoderConfig, EnsembleConfig
from workers.rm.encoder import Encoder

SHARED = "It is far away."


@pytest.mark.slow
def test_the_check_samples_filters_and_flags_double_failures(tmp_path: Path) -> None:
    keys, prompts, chosen, rejected = [], [], [], []
    for k, (prompt, good) in enumerate(PROMPTS):
        # Moon and Sun (the last two) share their preferred answer; bread and cake swap theirs
        answer = SHARED if k >= 6 else PROMPTS[k ^ 1][1] if k < 2 else good
        for bad in ("I don't know.", "Ask someone else, please."):
            keys.append(f"prompt {k}")
            prompts.append(prompt)
            chosen.append(answer)
            rejected.append(bad)
    pair_ids = [1000 + 7 * row for row in range(len(chosen))]
    encoder = Encoder(EncoderConfig(max_length=32, batch_size=16, device="cpu"))
    cache = EmbeddingCache(tmp_path)

    def run(max_pairs: int) -> tuple[ContrastFindings, list[int]]:
        stages: list[int] = []
        findings = contrast_check(
            prompt_keys=keys, prompts=prompts, chosen=chosen, rejected=rejected,
            pair_ids=pair_ids, encoder=encoder, cache=cache,
            ensemble=EnsembleConfig(n_models=2, epochs=1),
            config=ContrastConfig(low=0.3, high=0.99, neighbours=7, max_pairs=max_pairs, seed=3),
            progress=lambda stage, stages_, _message: stages.append(stage),
        )  # fmt: skip
        return findings, stages

    full, stages = run(max_pairs=1000)
    assert full.n_prompts == len(PROMPTS)
    # prompts embedded, then the refit (its texts embedded), then the scoring
    assert stages[0] == 0 and stages.count(1) == stages.count(2) == 1 and stages[-1] == 2
    assert stages.index(1) < len(stages) - 1
    # the first pair of each prompt holds its preferred answer
    assert set(full.q.tolist()) <= set(range(0, len(chosen), 2))
    moon_sun = {12, 14}
    assert not any({q, r} == moon_sun for q, r in zip(full.q, full.r, strict=True))
    assert len(full.similarities) == full.n_band_pairs >= 3
    assert len(full.q) == 2 * full.n_band_pairs == full.scores.n
    both_fail = ~full.scores.res_ok & ~full.scores.ins_ok
    # bread's preferred answer is the cake recipe: it loses to bread's own recipe under the
    # bread prompt, and scores higher under the cake prompt
    assert (0, pair_ids[2]) in [(row, d["partner_pair"]) for row, d in full.flagged]
    assert [row for row, _ in full.flagged] == full.q[both_fail].tolist()
    for (row, details), i in zip(full.flagged, np.flatnonzero(both_fail), strict=True):
        assert details["partner_pair"] == pair_ids[int(full.r[i])]
        assert details["own"] <= details["other_response"]
        assert details["own"] <= details["other_prompt"]
        assert row != full.r[i]
    summary = full.summary()
    assert summary["both_fail"] == int(both_fail.sum()) == len(full.flagged)
    assert [e["pair"] for e in summary["examples"]] == [pair_ids[row] for row, _ in full.flagged]

    sample, _ = run(max_pairs=2)
    assert sample.n_band_pairs == full.n_band_pairs
    assert len(sample.similarities) == 2 and len(sample.q) == 4
    assert set(sample.similarities.tolist()) <= set(full.similarities.tolist())
