"""LLMFAO (Dmitry Ustalov's "Large Language Model Feedback Analysis and Optimization", CC BY
4.0): crowd workers and two LLMs compared the same 2,139 pairs of model answers.

Its files: ``*-pairs-crowd.jsonl`` (the texts: ``result_x`` and ``result_y`` answer ``text``),
``*-crowd-comparisons.csv`` (one row per worker's judgment: ``winner`` is ``left``, ``right``
or ``tie``, the left being ``model_x``) and one comparisons file per LLM judge. They are turned
into the shapes PrefLab already imports: a PandaLM-style pairs file whose ``annotator<worker>``
fields carry each worker's vote (so worker ids become annotators), and one verdict file per
judge keyed by the pair's id. Pure Python, no Django.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

_VOTE = {"left": "1", "right": "2", "tie": "0"}
JUDGES = {
    "GPT-4": "llmfao-gpt4-crowd-comparisons.csv",
    "GPT-3": "llmfao-gpt3-crowd-comparisons.csv",
}


def llmfao_convert(*, folder: Path, out: Path) -> tuple[Path, dict[str, Path]]:
    """Write the pairs file and the judges' verdict files under ``out``; their paths."""
    votes: dict[str, dict[str, str]] = defaultdict(dict)
    with open(folder / "llmfao-crowd-comparisons.csv", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            if row["winner"] not in _VOTE:
                raise ValueError(f"llmfao-crowd-comparisons.csv:{line}: winner {row['winner']!r}")
            votes[row["id"]][f"annotator{int(row['worker'])}"] = _VOTE[row["winner"]]
    out.mkdir(parents=True, exist_ok=True)
    pairs = out / "llmfao-pairs.jsonl"
    with open(folder / "llmfao-pairs-crowd.jsonl") as src, open(pairs, "w") as dst:
        for raw in src:
            record = json.loads(raw)
            key = str(record["id"])
            row = {
                "idx": key,
                "instruction": record["text"],
                "response1": record["result_x"],
                "response2": record["result_y"],
                "type": record.get("type"),
                "slug": record.get("slug"),
                "model_x": record.get("model_x"),
                "model_y": record.get("model_y"),
            } | votes.get(key, {})
            dst.write(json.dumps(row) + "\n")
    verdicts = {}
    for judge, name in JUDGES.items():
        path = out / f"llmfao-{judge.lower()}-verdicts.jsonl"
        with open(folder / name, newline="") as src, open(path, "w") as dst:
            for row in csv.DictReader(src):
                # the left response is model_x's, which is A
                record = {"id": row["id"], "verdict": row["winner"], "position": "ab"}
                dst.write(json.dumps(record) + "\n")
        verdicts[judge] = path
    return pairs, verdicts
