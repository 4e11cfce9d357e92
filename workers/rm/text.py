"""The text a reward model reads for one (prompt, response), and its left-truncated tokens.

Format, one line per turn, the response last:

    User: <first user turn>
    Assistant: <assistant turn>
    User: <last user turn>
    Assistant: <response>

Inputs longer than `max_length` tokens are cut from the LEFT: a preference is decided by the
response, and its end (the conclusion, the refusal, the code that finally runs) must survive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

Message = Mapping[str, str]
# A plain string is one user turn; a list is a conversation of {"role", "content"} dicts.
Prompt = str | Sequence[Message]

_ROLE_LABELS = {"user": "User", "human": "User", "assistant": "Assistant", "system": "System"}
_HH_TURN = re.compile(r"\n\n(Human|Assistant):")


def prompt_messages(prompt: Prompt) -> list[dict[str, str]]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    messages = []
    for message in prompt:
        if "role" not in message or "content" not in message:
            raise ValueError(f"a conversation turn needs 'role' and 'content': {message!r}")
        messages.append({"role": str(message["role"]), "content": str(message["content"])})
    return messages


def format_turns(messages: Sequence[Message]) -> str:
    lines = []
    for message in messages:
        role = message["role"]
        label = _ROLE_LABELS.get(role.lower(), role.capitalize())
        lines.append(f"{label}: {message['content'].strip()}")
    return "\n".join(lines)


def prompt_text(prompt: Prompt) -> str:
    """The prompt alone, in the same format (what the contrast check embeds)."""
    return format_turns(prompt_messages(prompt))


def rm_text(*, prompt: Prompt, response: str) -> str:
    """The reward-model input for one response to one prompt."""
    turns = [*prompt_messages(prompt), {"role": "assistant", "content": response}]
    return format_turns(turns)


def rm_texts(*, prompts: Sequence[Prompt], responses: Sequence[str]) -> list[str]:
    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts but {len(responses)} responses")
    return [rm_text(prompt=p, response=r) for p, r in zip(prompts, responses, strict=True)]


def response_text(response: str) -> str:
    """The response alone, for the second view of a pair (see EnsembleConfig.features)."""
    return response.strip()


def chat_template_text(*, tokenizer: Any, prompt: Prompt, response: str) -> str:
    """An existing reward model's own chat format, when its tokenizer ships one."""
    turns = [*prompt_messages(prompt), {"role": "assistant", "content": response}]
    return str(tokenizer.apply_chat_template(turns, tokenize=False))


def hh_prompt_messages(prompt: str) -> list[dict[str, str]]:
    """Turns of an HH-RLHF style transcript ("\\n\\nHuman: ...\\n\\nAssistant: ...")."""
    parts = _HH_TURN.split(prompt)
    if len(parts) < 3:
        return [{"role": "user", "content": prompt.strip()}]
    # split() gives [text before the first turn, role, content, role, content, ...]
    return [
        {"role": "user" if role == "Human" else "assistant", "content": content.strip()}
        for role, content in zip(parts[1::2], parts[2::2], strict=True)
    ]


def load_tokenizer(model: str) -> Any:
    """A tokenizer that truncates from the left (see the module docstring)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model)
    tokenizer.truncation_side = "left"
    return tokenizer


def tokenize_left(
    *, tokenizer: Any, texts: Sequence[str], max_length: int, add_special_tokens: bool = True
) -> list[list[int]]:
    """Token ids per text, at most `max_length` each, cut from the left.

    add_special_tokens=False for chat-template texts, which carry their special tokens already.
    """
    if tokenizer.truncation_side != "left":
        raise ValueError("tokenizer must truncate from the left; load it with load_tokenizer()")
    if not texts:
        return []
    encoded = tokenizer(
        list(texts),
        truncation=True,
        max_length=max_length,
        padding=False,
        add_special_tokens=add_special_tokens,
    )
    return [list(ids) for ids in encoded["input_ids"]]
