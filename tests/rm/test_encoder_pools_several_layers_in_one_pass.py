"""EncoderConfig.layers / Encoder.with_layers: several hidden layers' views of one text."""

from __future__ import annotations

import numpy as np
import pytest

from tests.rm.helpers import Pairs
from workers.rm import embed_pairs
from workers.rm.encoder import Encoder
from workers.rm.text import rm_texts


def test_layer_views_are_unit_vectors_and_the_last_layer_is_the_default_embedding(
    hh_pairs: Pairs, encoder: Encoder
) -> None:
    texts = hh_pairs.chosen[:8]
    dim = encoder.dim
    default = encoder.encode(texts)
    view = encoder.with_layers((3, -1))
    both = view.encode(texts)

    assert view.model is encoder.model  # no second copy of the weights
    assert view.dim == 2 * dim and both.shape == (8, 2 * dim)
    np.testing.assert_allclose(both[:, dim:], default, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(both[:, :dim], axis=1), 1.0, atol=1e-5)
    # layer 3 sees the same text differently from the last layer
    assert not np.allclose(both[:, :dim], default, atol=1e-2)

    # a layered view is cached apart; the default keeps its older cache key
    assert "layers" not in encoder.cache_key
    assert view.cache_key == {**encoder.cache_key, "layers": [3, -1]}
    assert encoder.with_layers(()) is encoder


def test_a_layer_the_model_does_not_have_is_refused_by_name(encoder: Encoder) -> None:
    with pytest.raises(ValueError, match="layer 9 is out of range"):
        encoder.with_layers((9,))


def test_embed_pairs_asks_the_encoder_for_the_layers(hh_pairs: Pairs, encoder: Encoder) -> None:
    pairs = hh_pairs.head(6)
    chosen, rejected = embed_pairs(
        prompts=pairs.prompts,
        chosen=pairs.chosen,
        rejected=pairs.rejected,
        encoder=encoder,
        features="context+response",
        layers=(2, 4),
    )
    dim = encoder.dim
    assert chosen.shape == rejected.shape == (6, 4 * dim)
    # context view (layers 2, 4), then response view (layers 2, 4)
    texts = rm_texts(prompts=pairs.prompts, responses=pairs.chosen)
    context = encoder.with_layers((2, 4)).encode(texts)
    np.testing.assert_allclose(chosen[:, : 2 * dim], context, atol=1e-5)
