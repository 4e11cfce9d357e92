"""Behaviour 5: long inputs lose their beginning, never the end of the response."""

from __future__ import annotations

import numpy as np
import pytest
from transformers import AutoTokenizer

from workers.rm.encoder import Encoder
from workers.rm.text import hh_prompt_messages, load_tokenizer, rm_text, tokenize_left

LONG_PROMPT = "Tell me about the history of bread. " + "It started long ago. " * 300
RESPONSE = "Bread is old. " * 20 + "In short, the answer is sourdough zebra."


def test_tokens_keep_the_end_of_the_response(minilm_path: str) -> None:
    tokenizer = load_tokenizer(minilm_path)
    text = rm_text(prompt=LONG_PROMPT, response=RESPONSE)
    [ids] = tokenize_left(tokenizer=tokenizer, texts=[text], max_length=32)
    assert len(ids) == 32
    assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
    decoded = tokenizer.decode(ids, skip_special_tokens=True)
    assert decoded.endswith("the answer is sourdough zebra.")
    assert "history of bread" not in decoded


def test_a_right_truncating_tokenizer_is_refused(minilm_path: str) -> None:
    with pytest.raises(ValueError, match="left"):
        tokenize_left(
            tokenizer=AutoTokenizer.from_pretrained(minilm_path), texts=["x"], max_length=8
        )


def test_the_encoder_sees_the_end_and_not_the_start(encoder: Encoder) -> None:
    """Past max_length, a different beginning changes nothing and a different end does."""
    base = rm_text(prompt=LONG_PROMPT, response=RESPONSE)
    other_start = "Completely unrelated opening words. " + base
    other_end = base[: -len("sourdough zebra.")] + "rye and barley."
    vectors = encoder.encode([base, other_start, other_end])
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)
    assert np.abs(vectors[0] - vectors[2]).max() > 1e-3


def test_the_text_format_is_explicit_turns() -> None:
    prompt = hh_prompt_messages("\n\nHuman: Hi there\n\nAssistant: Hello!\n\nHuman: A joke?")
    assert rm_text(prompt=prompt, response=" Why not. ") == (
        "User: Hi there\nAssistant: Hello!\nUser: A joke?\nAssistant: Why not."
    )
    assert rm_text(prompt="Plain question", response="Plain answer") == (
        "User: Plain question\nAssistant: Plain answer"
    )
