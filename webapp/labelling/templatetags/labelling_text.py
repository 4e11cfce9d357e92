"""``{% load labelling_text %}`` then ``{{ text|markdown }}``: untrusted markdown, rendered safely.

The one place dataset text becomes HTML; see webapp/labelling/rendering.py for why it is safe.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from webapp.labelling.rendering import markdown_to_html

register = template.Library()


@register.filter(name="markdown", is_safe=False)
def markdown(text: object) -> SafeString:
    # The output of markdown_to_html is sanitised by nh3 and so may be marked safe.
    return mark_safe(markdown_to_html("" if text is None else str(text)))
