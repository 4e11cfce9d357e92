"""``{{ flag.details|flag_details }}``: a flag's details as named, rounded figures."""

from __future__ import annotations

from typing import Any

from django import template

from webapp.flags.details import Detail, details_shown

register = template.Library()


@register.filter
def flag_details(details: Any) -> list[Detail]:
    return details_shown(details)
