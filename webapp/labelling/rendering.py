"""Dataset text as HTML, safely: markdown with raw HTML off, then an allow-list sanitiser.

markdown-it-py with ``html`` disabled turns any HTML in the text (``<script>``, ``<img
onerror=...>``) into escaped text; nh3 then keeps only the tags and attributes below, drops
``javascript:`` and other URL schemes, and marks links nofollow. Images are not kept: a
response must not make the annotator's browser fetch anything.
"""

from __future__ import annotations

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
