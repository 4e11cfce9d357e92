"""Dataset text as HTML, safely: markdown with raw HTML off, then an allow-list sanitiser.

markdown-it-py with ``html`` disabled turns any HTML in the text (``<script>``, ``<img
onerror=...>``) into escaped text; nh3 then keeps only the tags and attributes below, drops
``javascript:`` and other URL schemes, and marks links nofollow. Images are not kept: a
response must not make the annotator's browser fetch anything.
"""

from __future__ import annotations

import html
import re
import secrets
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

TAGS = {
    "p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "breaks": a single newline is a line break, as dataset text (poems, lists, code) means it.
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(
        ["table", "strikethrough"]
    )


def markdown_to_html(text: str) -> str:
    """Sanitised HTML for untrusted markdown; safe to insert into a page as it is."""
    if not text:
        return ""
    html = _parser().render(text)
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


# TeX math as solutions write it: $$...$$, \[...\], \(...\), $...$ (on one line).
_MATH = re.compile(r"\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|\$[^$\n]+?\$", re.S)


def markdown_math_to_html(text: str) -> str:
    """``markdown_to_html``, with TeX math kept exactly as written: markdown would read its
    backslashes as escapes (``\\(`` as ``(``) and its underscores as emphasis. Each math span
    is set aside before markdown and put back, HTML-escaped, in a ``<span class="math">``
    after sanitising, so it is shown as its TeX source and can carry nothing active."""
    if not text:
        return ""
    spans: list[str] = []
    mark = f"PREFLABMATH{secrets.token_hex(4)}N"

    def keep(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return f"{mark}{len(spans) - 1}E"

    rendered = markdown_to_html(_MATH.sub(keep, text))
    return re.sub(
        rf"{mark}(\d+)E",
        lambda m: f'<span class="math">{html.escape(spans[int(m.group(1))])}</span>',
        rendered,
    )
