"""Content hashes that deduplicate prompts, responses and pairs (16-byte BLAKE2b)."""

from __future__ import annotations

import json
from hashlib import blake2b
from typing import Any


def _digest(data: bytes) -> bytes:
    return blake2b(data, digest_size=16).digest()


def prompt_hash(prompt: str | list[dict[str, str]]) -> bytes:
    # A plain prompt and a one-turn conversation are different prompts: the tag keeps them apart.
    if isinstance(prompt, str):
        return _digest(b"t" + prompt.encode())
    return _digest(b"c" + json.dumps(prompt, ensure_ascii=False, sort_keys=True).encode())


def response_hash(text: str, source_model: str = "") -> bytes:
    return _digest(source_model.encode() + b"\x00" + text.encode())


def pair_key(
    *, prompt: bytes, response_a: bytes, response_b: bytes, label: str, external_id: str
) -> bytes:
    return _digest(
        b"".join([prompt, response_a, response_b, label.encode(), b"\x00"]) + external_id.encode()
    )


def canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def derived_pair_key(*, item_id: int, first: int, second: int, attribute: str) -> bytes:
    """The key of the pair an item's answers derive between two of its positions on one
    attribute: tagged, so it never meets a plain pair's key."""
    return _digest(b"d" + f"{item_id}:{first}:{second}:{attribute}".encode())


def item_key(*, prompt: bytes, responses: list[bytes], external_id: str) -> bytes:
    return _digest(b"i" + prompt + b"".join(responses) + b"\x00" + external_id.encode())
