"""Small projects for export tests: tricky texts, every kind of label, votes, scores, flags."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.factories import UserFactory
from webapp.exports.selectors import ExportSpec
from webapp.exports.services import export_create, export_write
from webapp.flags.models import Flag
from webapp.labelling.models import Vote
from webapp.pairs.hashing import pair_key, prompt_hash, response_hash
from webapp.pairs.models import Pair, Prompt, Response
from webapp.scoring.models import PairScore, ScoringRun

# Texts a careless writer would mangle: quotes, backslashes, escapes that look like escapes,
# control characters, markup, astral-plane characters, a lone blank line.
TRICKY = [
    'He said "hi" \\ then left',
    "line one\nline two\ttabbed\r\nwindows",
    "a literal \\n and \\u0041 and \\\\ double",
    "<script>alert('x')</script> **bold** & [link](javascript:alert(1))",
    "emoji 🙂 and 汉字 and \u2028 separator and \x01 control \x02 too",
    "",
]


@dataclass
class Made:
    pairs: list[Pair] = field(default_factory=list)
    expected: dict[int, dict[str, Any]] = field(default_factory=dict)  # pair id -> fields
    run: ScoringRun | None = None


def _prompt(value: str | list[dict[str, str]]) -> Prompt:
    conv = value if isinstance(value, list) else None
    text = value if isinstance(value, str) else ""
    return Prompt.objects.create(content_hash=prompt_hash(value), text=text, conversation=conv)


def _response(text: str, n: int) -> Response:
    return Response.objects.create(
        content_hash=response_hash(text, f"m{n}"), text=text, source_model=f"model-{n}"
    )


def make_pairs(project: Any, n: int = 12, *, conversations: bool = True) -> Made:
    """n pairs: labels cycle a, b, tie, none; every 3rd pair is in "test"; every 4th prompt is
    a conversation. Texts cycle through TRICKY."""
    made = Made()
    labels = ["a", "b", "tie", ""]
    for i in range(n):
        prompt_value: str | list[dict[str, str]]
        if conversations and i % 4 == 1:
            prompt_value = [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": f"Q{i}: " + TRICKY[i % len(TRICKY)]},
                {"role": "assistant", "content": "An earlier answer."},
                {"role": "user", "content": "And now?"},
            ]
        else:
            prompt_value = f"Prompt {i}: " + TRICKY[i % len(TRICKY)]
        prompt = _prompt(prompt_value)
        text_a = f"A{i} " + TRICKY[(i + 1) % len(TRICKY)]
        text_b = f"B{i} " + TRICKY[(i + 2) % len(TRICKY)]
        ra, rb = _response(text_a, 2 * i), _response(text_b, 2 * i + 1)
        label = labels[i % 4]
        pair = Pair.objects.create(
            project=project,
            prompt=prompt,
            response_a=ra,
            response_b=rb,
            imported_label=label,
            dedup_key=pair_key(
                prompt=prompt.content_hash,
                response_a=ra.content_hash,
                response_b=rb.content_hash,
                label=label,
                external_id=str(i),
            ),
            split="test" if i % 3 == 2 else "train",
            external_id=str(i),
        )
        made.pairs.append(pair)
        made.expected[pair.pk] = {
            "prompt": prompt_value,
            "a": text_a,
            "b": text_b,
            "label": label,
            "split": pair.split,
        }
    return made


def add_votes(pair: Pair, choices: list[str]) -> None:
    for choice in choices:
        Vote.objects.create(pair=pair, annotator=UserFactory(), choice=choice)


def add_scores(
    project: Any, made: Made, *, mu_of: Any = None, flag_ids: tuple[int, ...] = ()
) -> ScoringRun:
    """A complete scoring run that scored every a/b pair against its imported label."""
    run = ScoringRun.objects.create(project=project, complete=True, n_pairs=len(made.pairs))
    for k, pair in enumerate(made.pairs):
        if pair.imported_label not in ("a", "b"):
            continue
        mu = mu_of(k) if mu_of else 0.25 * k - 1.0
        PairScore.objects.create(
            run=run,
            pair=pair,
            label_scored=pair.imported_label,
            mu=mu,
            sigma=0.1 * k,
            p_label=0.5,
            margins=[mu],
            decile=0,
        )
    for pair_id in flag_ids:
        Flag.objects.create(
            project=project,
            pair_id=pair_id,
            kind="likely_mislabelled",
            source="scoring",
            scoring_run=run,
        )
        Flag.objects.create(
            project=project, pair_id=pair_id, kind="ambiguous", source="scoring", scoring_run=run
        )
    made.run = run
    return run


def transcript(conversation: list[dict[str, str]]) -> str:
    """What a standard-layout export writes for a conversation prompt."""
    names = {"user": "Human", "assistant": "Assistant"}
    parts = [f"\n\n{names.get(m['role'], m['role'].title())}: {m['content']}" for m in conversation]
    return "".join(parts) + "\n\nAssistant: "


def export_rows_by_pair(project: Any, **spec: Any) -> tuple[Any, dict[int, dict[str, Any]]]:
    """A JSON Lines export written in process, and its rows by pair id (all splits)."""
    snapshot = export_write(
        snapshot=export_create(
            project=project, file_format="jsonl", spec=ExportSpec(**spec), enqueue=False
        )
    )
    rows = {}
    for f in snapshot.files:
        if f["name"].endswith(".jsonl"):
            for line in (snapshot.path / f["name"]).read_text().split("\n"):
                if line:
                    row = json.loads(line)
                    rows[row["pair_id"]] = row
    return snapshot, rows
