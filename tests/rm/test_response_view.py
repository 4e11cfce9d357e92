"""By default the heads read each response twice: in its context, and alone."""

from __future__ import annotations

import numpy as np

from tests.rm.helpers import Pairs
from workers.rm import EnsembleConfig, embed_pairs, score_pairs
from workers.rm.encoder import Encoder
from workers.rm.text import response_text


def test_the_response_view_appends_the_embedding_of_the_response_alone(
    hh_pairs: Pairs, encoder: Encoder
) -> None:
    pairs = hh_pairs.head(12)
    context_chosen, context_rejected = embed_pairs(
        prompts=pairs.prompts, chosen=pairs.chosen, rejected=pairs.rejected, encoder=encoder
    )
    both_chosen, both_rejected = embed_pairs(
        prompts=pairs.prompts,
        chosen=pairs.chosen,
        rejected=pairs.rejected,
        encoder=encoder,
        features="context+response",
    )
    dim = encoder.dim
    assert both_chosen.shape == (12, 2 * dim)
    np.testing.assert_allclose(both_chosen[:, :dim], context_chosen, atol=1e-5)
    np.testing.assert_allclose(both_rejected[:, :dim], context_rejected, atol=1e-5)
    alone = encoder.encode([response_text(r) for r in pairs.rejected])
    np.testing.assert_allclose(both_rejected[:, dim:], alone, atol=1e-5)
    # The prompt changes the context view, not the response view.
    assert not np.allclose(both_rejected[:, dim:], context_rejected, atol=1e-3)

    result = score_pairs(
        prompts=pairs.prompts,
        chosen=pairs.chosen,
        rejected=pairs.rejected,
        encoder=encoder,
        config=EnsembleConfig(n_models=2, n_folds=2, features="context"),
    )
    assert result.config["features"] == "context"
