"""The dataset card (README.md) every snapshot carries: what is in it, what was left out, why.

Its YAML header names the split files, so ``datasets.load_dataset(<snapshot folder>)`` finds
them; the body is for people. Names that come from users (project, splits, people) are
HTML-escaped: the card is rendered as markdown by dataset hubs.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

REASONS = {
    "dropped": "dropped by a reviewer",
    "unlabelled": "no label: neither votes nor an imported label say which response is better",
    "tie": "a tie or 'both bad': no preferred response, so no (chosen, rejected) pair",
    "not_reviewed": "not reviewed (filter: reviewed only)",
    "flagged": "flagged by the ensemble or a check (filter: drop flagged)",
    "below_strength": "preference strength mu below the minimum, or not measured "
    "(filter: minimum strength)",
}

COLUMNS = {
    "prompt": "the prompt (text; a conversation as an HH-RLHF style transcript)",
    "chosen": "the preferred response",
    "rejected": "the other response",
    "margin": "max(mu, 0): how much chosen should beat rejected, for TRL's reward loss; "
    "0 where mu is unknown",
    "pair_id": "the pair's id in PrefLab",
    "split": "the pair's split in PrefLab",
    "label_source": "where the label comes from: `gold`, `dawid_skene` or `majority` (the "
    "aggregated human label), `votes` (majority of votes not yet aggregated) or `imported`",
    "human_agreement": "confidence of a human label (Dawid-Skene posterior, or share of the votes "
    "that agree); null for imported labels",
    "mu": "ensemble preference strength r(chosen) - r(rejected); null if not scored",
    "sigma": "spread of that strength across the ensemble's models; null if not scored",
    "flags": "names of the flags raised on the pair; null if none",
}
CONVERSATIONAL_COLUMNS = {
    "prompt": "the prompt, as a list of {role, content} messages",
    "chosen": "the preferred response, as one assistant message",
    "rejected": "the other response, as one assistant message",
}


@dataclass
class CardFile:
    name: str
    split: str  # the PrefLab split
    hf_split: str  # its name as a Hugging Face split (and file stem)
    rows: int
    sha256: str = ""


@dataclass
class ItemCard:
    """What the card says of a project that labels items: how its pairs were derived, and
    the files of ratings or rankings beside them."""

    scheme: str  # Project.LabelScheme
    kind: str  # what annotators were asked: ranking, best_worst, rating, pairwise_attributes
    derivation: str  # "all" | "best_vs_rest"
    attributes: list[tuple[str, float, float, str]]  # name, low, high, description
    overall: dict[str, float]  # weights of the overall score; empty: the mean
    files: list[tuple[str, CardFile, str]] = field(default_factory=list)  # config, file, about


@dataclass
class CardContext:
    project: str
    version: int
    created_at: str
    created_by: str
    preflab_version: str
    file_format: str
    style: str
    with_margin: bool
    margin_written: bool
    filters: dict[str, Any]
    counts: dict[str, dict[str, int]]
    files: list[CardFile] = field(default_factory=list)
    scoring_run_id: int | None = None
    changed_during_export: bool = False
    items: ItemCard | None = None


def _e(value: object) -> str:
    return html.escape(str(value), quote=False)


def _yaml_header(ctx: CardContext) -> list[str]:
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for f in ctx.files:
        # hf_split and the file names are word characters only: safe in YAML unquoted
        lines += [f"  - split: {f.hf_split}", f"    path: {f.name}"]
    for config, f, _ in ctx.items.files if ctx.items else []:
        lines += [f"- config_name: {config}", "  data_files:", f"  - split: {f.split or 'all'}"]
        lines += [f"    path: {f.name}"]
    lines += ["tags:", "- preference", "- reward-modeling", "- trl", "- preflab", "---", ""]
    return lines


def _filters_text(ctx: CardContext) -> list[str]:
    f = ctx.filters
    out = []
    if f.get("split"):
        out.append(f"- only the split “{_e(f['split'])}”")
    if f.get("reviewed_only"):
        out.append("- only pairs a reviewer decided on")
    if f.get("drop_flagged"):
        out.append(
            "- pairs with any flag left out: a flag marks a pair the ensemble or a check "
            "found likely mislabelled, ambiguous, unstable or otherwise suspect"
        )
    if f.get("min_strength") is not None:
        out.append(
            f"- only pairs whose preference strength mu is at least {f['min_strength']}: "
            "weak or unmeasured preferences are left out"
        )
    return out or ["- none: every pair with a preferred response is exported"]


_ASKED = {
    "ranking": "to order the responses of a prompt best to worst, ties allowed",
    "best_worst": "to pick the best and the worst of a shown subset of a prompt's responses",
    "rating": "to rate each response of a prompt on each attribute below",
    "pairwise_attributes": "which of two responses is better on each attribute below, and overall",
}


def _items_text(items: ItemCard) -> list[str]:
    """How the pairs were derived from answers on items: the card's promise of what a pair
    and its margin mean."""
    lines = ["## How the pairs were derived", ""]
    lines.append(
        f"This {_e(items.scheme)} project asked annotators (and imported raters, each an "
        f"annotator of its own) {_ASKED.get(items.kind, _e(items.kind))}. Every answer gave a "
        "vote on pairs of the prompt's responses, and each exported pair is labelled by those "
        "votes as any pair is (the aggregated human label, else the majority of its votes)."
    )
    lines.append("")
    if items.derivation == "best_vs_rest":
        lines.append(
            "- Pairs: only the best response(s) of each answer against each of the others."
        )
    else:
        lines.append("- Pairs: every pair of responses an answer orders; a tie is a tie vote.")
    lines += [
        "- `attribute`: the attribute a pair is about; empty for the overall preference. "
        "**Train one overall reward model on the rows whose `attribute` is empty**; the "
        "others are per-attribute preferences.",
        "- `margin`: the mean over the answers of how much better `chosen` is than "
        "`rejected` (rank gap for rankings, rating gap for ratings, 1 for a pairwise choice), "
        "at least 0, for TRL's reward loss.",
    ]
    if items.kind == "best_worst":
        lines.append(
            "- Best-worst: the best scores 1, the worst -1, the others 0; two responses that "
            "were neither were not compared."
        )
    if items.attributes:
        weights = items.overall or {name: 1.0 for name, *_ in items.attributes}
        overall = " + ".join(f"{w:g} x {_e(n)}" for n, w in weights.items())
        if items.kind == "rating":
            lines.append(
                f"- Overall score of a rated response: ({overall}) / {sum(weights.values()):g}."
            )
        lines += ["", "| attribute | scale | description |", "|---|---|---|"]
        for name, low, high, description in items.attributes:
            lines.append(f"| {_e(name)} | {low:g} to {high:g} | {_e(description)} |")
    for config, f, about in items.files:
        lines += ["", f"`{f.name}` ({f.rows} rows, config `{config}`): {_e(about)}."]
        lines.append(f'`load_dataset("json", data_files="{f.name}")`')
    return [*lines, ""]


def dataset_card(ctx: CardContext) -> str:
    """The README.md of a snapshot."""
    lines = _yaml_header(ctx)
    total = sum(f.rows for f in ctx.files)
    lines += [
        f"# {_e(ctx.project)}: preference pairs, export v{ctx.version}",
        "",
        f"{total} preference pairs exported by PrefLab {_e(ctx.preflab_version)} on "
        f"{_e(ctx.created_at)} by {_e(ctx.created_by or 'the command line')}, "
        f"as {_e(ctx.file_format)} in TRL's {_e(ctx.style)} layout with an explicit prompt.",
        "",
        "## Files",
        "",
        "| file | split | rows | SHA-256 |",
        "|---|---|---:|---|",
    ]
    for f in ctx.files:
        lines.append(f"| {f.name} | {_e(f.split)} | {f.rows} | `{f.sha256}` |")
    lines += ["", "```python", "from datasets import load_dataset", ""]
    loader = "parquet" if ctx.file_format == "parquet" else "json"
    files = ", ".join(f'"{f.hf_split}": "{f.name}"' for f in ctx.files)
    lines += [f'dataset = load_dataset("{loader}", data_files={{{files}}})', "```", ""]

    lines += ["## What was filtered, and why", "", *_filters_text(ctx), ""]
    lines += [
        "Ties, “both bad” answers and unlabelled pairs are never in a preference export: "
        "they have no chosen and rejected response.",
        "",
        "## Counts",
        "",
        "| split | pairs | exported | " + " | ".join(REASONS) + " |",
        "|---|---:|---:|" + "---:|" * len(REASONS),
    ]
    for split, c in ctx.counts.items():
        cells = " | ".join(str(c.get(reason, 0)) for reason in REASONS)
        lines.append(f"| {_e(split)} | {c.get('pairs', 0)} | {c.get('exported', 0)} | {cells} |")
    lines += ["", "Reasons for leaving a pair out, each counted once, by the first that applies:"]
    lines += [f"- **{name}**: {text}" for name, text in REASONS.items()]
    if ctx.changed_during_export:
        lines += [
            "",
            "The project changed while this export was written: the counts above "
            "were taken just before it, the files' row counts are exact.",
        ]

    if ctx.items is not None:
        lines += ["", *_items_text(ctx.items)]
    lines += ["", "## Labels and scores", ""]
    lines += [
        "Each pair's label is its aggregated human label (a gold answer, Dawid-Skene or the "
        "majority, as last aggregated) where it has one, else the majority of its decisive "
        "votes (A or B) where it has any, else the label it was imported with. A pair labelled "
        "B is exported with response B as `chosen`.",
        "",
    ]
    if ctx.scoring_run_id is not None:
        lines.append(f"mu, sigma and flags come from PrefLab scoring run {ctx.scoring_run_id}.")
    else:
        lines.append(
            "The project had no scoring run: mu and sigma are null, and no flags "
            "from scoring exist."
        )
    if ctx.with_margin and not ctx.margin_written:
        lines.append("A margin column was asked for but not written: it needs a scoring run.")
    lines += ["", "## Columns", "", "| column | meaning |", "|---|---|"]
    meanings = dict(COLUMNS)
    if ctx.style == "conversational":
        meanings.update(CONVERSATIONAL_COLUMNS)
    for name, meaning in meanings.items():
        if name == "margin" and ctx.items is not None:
            lines.append("| `attribute` | the attribute of a derived pair; empty: overall |")
            meaning = "the derived margin: see “How the pairs were derived”"
        elif name == "margin" and not ctx.margin_written:
            continue
        lines.append(f"| `{name}` | {meaning} |")
    lines.append("")
    return "\n".join(lines)
