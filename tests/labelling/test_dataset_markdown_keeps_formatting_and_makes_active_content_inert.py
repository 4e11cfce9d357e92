"""Dataset text through the one markdown filter: formatting kept, anything active made inert."""

from __future__ import annotations

from django.template import Context, Template

from webapp.labelling.rendering import markdown_to_html


def render(text: str) -> str:
    return Template("{% load labelling_text %}{{ text|markdown }}").render(Context({"text": text}))


def test_markdown_formatting_is_kept() -> None:
    html = render("**bold** and `code`\n\n- one\n- two\n\n```\nx = 1\n```")
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert "<li>one</li>" in html and "<pre><code>x = 1" in html


def test_html_in_dataset_text_is_shown_as_text() -> None:
    html = render('<script>alert(1)</script> <img src=x onerror="alert(2)"> <b>hi</b>')
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html


def test_links_are_inert_unless_plain_web_links() -> None:
    html = markdown_to_html("[a](javascript:alert(1)) [b](https://example.org) <data:text/html,x>")
    assert "javascript:" not in html.replace("[a](javascript:alert(1))", "")
    assert '<a href="https://example.org" rel="noopener noreferrer nofollow">b</a>' in html
    assert 'href="data:' not in html


def test_images_are_never_fetched() -> None:
    assert "<img" not in markdown_to_html("![pixel](https://tracker.example/p.gif)")


def test_line_breaks_in_plain_text_survive() -> None:
    assert "<br>" in markdown_to_html("roses are red\nviolets are blue")


def test_code_blocks_keep_html_as_text() -> None:
    html = markdown_to_html("```html\n<iframe src=x></iframe>\n```")
    assert "<iframe" not in html and "&lt;iframe src=x&gt;&lt;/iframe&gt;" in html
