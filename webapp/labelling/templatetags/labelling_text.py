"""``{% load labelling_text %}`` then ``{{ text|markdown }}``: untrusted markdown, rendered safely.

The one place dataset text becomes HTML; see webapp/labelling/rendering.py for why it is safe.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from webapp.labelling.rendering import markdown_math_to_html, markdown_to_html

register = template.Library()


@register.filter(name="markdown", is_safe=False)
def markdown(text: object) -> SafeString:
    # The output of markdown_to_html is sanitised by nh3 and so may be marked safe.
    return mark_safe(markdown_to_html("" if text is None else str(text)))


@register.filter(name="markdown_math", is_safe=False)
def markdown_math(text: object) -> SafeString:
    # markdown_math_to_html sanitises with nh3 and escapes the math it puts back.
    return mark_safe(markdown_math_to_html("" if text is None else str(text)))
