"""The checks settings form: good values are stored and used; a bad one is refused with the
field's name, and the stored settings stay as they were."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from webapp.checks.models import ChecksSettings
from webapp.checks.services import check_options_for


def test_settings_are_stored_and_bad_ones_refused(admin_client: Any, project: Any) -> None:
    url = reverse("checks:settings", args=[project.pk])
    good = {"repeat_share": "0.1", "repeat_gap": "5", "band_low": "0.7", "band_high": "0.95",
            "neighbours": "8"}  # fmt: skip
    assert admin_client.post(url, good).status_code == 302
    project.refresh_from_db()
    assert (project.repeat_share, project.repeat_gap) == (0.1, 5)
    options = check_options_for(project=project)
    assert (options.band_low, options.band_high, options.neighbours) == (0.7, 0.95, 8)
    bad = {**good, "band_low": "0.99"}  # above band_high
    page = admin_client.post(url, bad, follow=True).content.decode()
    assert "band_low, band_high" in page
    page = admin_client.post(url, {**good, "repeat_gap": "many"}, follow=True).content.decode()
    assert "repeat_gap: not a number" in page
    row = ChecksSettings.objects.get(project=project)
    project.refresh_from_db()
    assert (row.band_low, project.repeat_share) == (0.7, 0.1)
