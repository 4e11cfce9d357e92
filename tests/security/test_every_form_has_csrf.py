"""Every POST form in the templates carries Django's CSRF token, and the server checks it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import ROOT
from tests.factories import PASSWORD, UserFactory

FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)


def test_every_post_form_in_the_templates_has_a_csrf_token() -> None:
    forms = 0
    for template in (ROOT / "templates").rglob("*.html"):
        for form in FORM.findall(template.read_text()):
            if re.search(r'method\s*=\s*"?post', form, re.I):
                forms += 1
                assert "{% csrf_token %}" in form, f"{template.relative_to(ROOT)}: {form[:120]}"
    assert forms > 5  # the pages do have forms; a broken pattern would find none


@pytest.mark.django_db
def test_a_post_without_the_token_is_refused() -> None:
    UserFactory(username="someone")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "someone", "password": PASSWORD})
    assert response.status_code == 403
