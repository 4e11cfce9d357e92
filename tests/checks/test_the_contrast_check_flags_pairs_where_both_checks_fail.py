"""The contrast check end to end on a project's pairs, with the real MiniLM: prompts in the
band become contrast pairs, the run's heads are refit from its stored settings, and every
flag is a pair where both consistency checks fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.checks.helpers import PROMPTS, pair
from webapp.checks.services import CheckOptions, check_run_create, check_run_execute
from webapp.flags.models import Flag
from webapp.pairs.models import Pair
from webapp.scoring.models import ScoringRun
from workers.rm.config import EncoderConfig, EnsembleConfig


@pytest.mark.slow
def test_contrast_pairs_are_scored_and_flags_are_double_failures(
    project: Any, settings: Any, tmp_path: Path
) -> None:
    settings.EMBEDDING_CACHE_DIR = tmp_path / "embeddings"
    for prompt, good in PROMPTS:
        pair(project, prompt, good, "I don't know.")
        pair(project, prompt, good, "Ask someone else, please.")
    ScoringRun.objects.create(
        project=project,
        complete=True,
        config={
            "encoder": EncoderConfig(max_length=32, batch_size=16, device="cpu").to_dict(),
            "ensemble": EnsembleConfig(n_models=2, epochs=1).to_dict(),
        },
    )
    options = CheckOptions(band_low=0.5, band_high=0.97, neighbours=4)
    run = check_run_execute(run=check_run_create(project=project, options=options),
                            progress=lambda *a: None)  # fmt: skip
    contrast = run.summary["contrast"]
    assert "skipped" not in contrast, contrast
    assert contrast["n_prompts"] == len(PROMPTS)
    assert contrast["n_band_pairs"] >= 3  # bread/cake, rice/pasta, France/Italy at least
    assert contrast["n_instances"] == 2 * contrast["n_band_pairs"]
    assert all(0.5 <= s <= 0.97 for s in contrast["similarities"])
    assert 0.0 <= contrast["c_res"] <= 1.0 and 0.0 <= contrast["c_ins"] <= 1.0
    flags = list(Flag.objects.filter(project=project, kind="contrast_inconsistent"))
    assert len({f.pair_id for f in flags}) == len(flags) <= contrast["both_fail"]
    for f in flags:
        d = f.details
        assert f.source == "checks"
        assert d["own"] <= d["other_response"] and d["own"] <= d["other_prompt"]
        partner = Pair.objects.get(pk=d["partner_pair"], project=project)
        assert partner.prompt_id != f.pair.prompt_id
