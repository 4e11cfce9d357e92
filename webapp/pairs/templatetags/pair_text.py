"""``{{ text|fold }}``: a whole text for a pair's own page, its start and the rest to fold."""

from __future__ import annotations

from typing import Any

from django import template

from webapp.pairs.previews import Folded, fold

register = template.Library()


@register.filter(name="fold")
def fold_filter(text: Any) -> Folded:
    return fold(text)
