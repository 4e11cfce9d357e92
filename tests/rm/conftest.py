"""Fixtures for the reward-model tests: real HH-RLHF pairs, the bundled MiniLM, a tiny model.

No Django here: these tests run alone (`pytest tests/rm -p no:django`) or in the full suite.
"""

from __future__ import annotations

import os
from pathlib import Path

# Before transformers is imported anywhere: tests must never reach for a model hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest

from tests.rm.helpers import Pairs, load_hh_sample
from workers.rm.config import EncoderConfig, default_encoder_path
from workers.rm.encoder import Encoder


@pytest.fixture(scope="session")
def hh_pairs() -> Pairs:
    """300 real pairs from Anthropic hh-rlhf, helpful-base test split (see data/LICENSE)."""
    return load_hh_sample()


@pytest.fixture(scope="session")
def minilm_path() -> str:
    return str(default_encoder_path())


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The real MiniLM on CPU at 64 tokens (cut from the left, so the responses' ends stay):
    a few hundred pairs embed in seconds on 2 cores."""
    return Encoder(EncoderConfig(max_length=64, batch_size=32, device="cpu"))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, minilm_path: str) -> Path:
    """A 2-layer, 32-wide BERT reward model (random weights) with MiniLM's tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    folder = tmp_path_factory.mktemp("tiny-rm")
    tokenizer = AutoTokenizer.from_pretrained(minilm_path)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=1,
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
