"""Behaviour 1: a small ensemble trains and scores real HH-RLHF pairs with the real MiniLM."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.rm.helpers import Pairs
from workers.rm import EmbeddingCache, EnsembleConfig, embed_pairs, score_pairs, train_ensemble
from workers.rm.encoder import Encoder
from workers.rm.text import response_text, rm_texts


def test_it_scores_real_pairs_out_of_fold_and_in_sample_from_one_embedding_pass(
    hh_pairs: Pairs, encoder: Encoder, tmp_path: Path
) -> None:
    pairs = hh_pairs.head(200)
    cache = EmbeddingCache(tmp_path / "cache")
    embed_calls: list[int] = []

    def counting_progress(done: int, total: int, message: str) -> None:
        if message == "embedding texts":
            embed_calls.append(done)

    result = score_pairs(
        prompts=pairs.prompts,
        chosen=pairs.chosen,
        rejected=pairs.rejected,
        encoder=encoder,
        cache=cache,
        config=EnsembleConfig(n_models=8, n_folds=5),
        progress=counting_progress,
    )
    # Both views of both responses, each distinct text embedded once.
    texts = rm_texts(prompts=pairs.prompts * 2, responses=pairs.chosen + pairs.rejected)
    texts += [response_text(r) for r in pairs.chosen + pairs.rejected]
    assert embed_calls and embed_calls[-1] == len(set(texts)) > 400
    assert result.margins.shape == (200, 8)
    assert result.margins.dtype == np.float32
    assert np.isfinite(result.margins).all()
    assert len(result.seeds) == 40  # K * M heads
    # Every head learned: its bootstrap-weighted training loss went down from the first epoch.
    assert (result.train_loss[:, -1] < result.train_loss[:, 0]).all()
    # Bootstrap resamples and seeds make the members differ, but they agree on the task.
    assert 0.2 < result.mean_model_correlation < 0.999

    # Rescoring in-sample reuses the cached embeddings: no text is embedded again.
    embed_calls.clear()
    defaults = EnsembleConfig()
    x_chosen, x_rejected = embed_pairs(
        prompts=pairs.prompts,
        chosen=pairs.chosen,
        rejected=pairs.rejected,
        encoder=encoder,
        cache=cache,
        features=defaults.features,
        layers=defaults.encoder_layers,
        progress=counting_progress,
    )
    assert embed_calls == []
    # one unit vector per layer and per view (context, response)
    blocks = x_chosen.reshape(len(x_chosen), 2 * len(defaults.encoder_layers), -1)
    assert np.allclose(np.linalg.norm(blocks, axis=2), 1.0, atol=1e-5)
    in_sample = train_ensemble(
        chosen=x_chosen, rejected=x_rejected, config=EnsembleConfig(mode="insample")
    )
    assert in_sample.margins.shape == (200, 8)
    # Trained on these very pairs, the heads agree with most human labels.
    assert (in_sample.mu > 0).mean() > 0.7
