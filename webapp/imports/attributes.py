"""A rating project's attributes taken from its first file.

A new rating project starts with HelpSteer2's five attributes on 0-4. When its first file is
rated on other attributes (HelpSteer2-style attribute columns, a subset of the five; or
UltraFeedback's per-aspect ratings), every record would be refused for missing or unknown
attributes. So the import of a rating project that has no items yet and still has the default
attributes first reads the file's ratings and makes their names the project's attributes,
each on the file format's known scale widened to the data's lowest and highest rating (just
the data's, rounded out to whole numbers, for other formats). Where that is not sensible (a
name the settings refuse, a whole-number scale of more steps than the labelling page has keys
for) the project keeps its settings and the import goes on as before. The batch records what
it set (``ImportBatch.attributes_set``), and the import pages show it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from webapp.imports.formats import FormatError, open_records
from webapp.imports.listwise import ParsedItem
from webapp.imports.models import ImportBatch
from webapp.pairs.models import Item
from webapp.projects.models import Project
from webapp.projects.schemes import (
    HELPSTEER2,
    MAX_SCALE_STEPS,
    SchemeSettingsError,
    scheme_settings_of,
    scheme_settings_parse,
)
from webapp.projects.services import project_scheme_settings_update

# The scales the formats' own data sets use: a sample of a file may miss the ends.
KNOWN_SCALES = {"helpsteer2": (0.0, 4.0), "ultrafeedback": (1.0, 5.0)}
# Items read to find the attributes and their ranges (row formats read every row anyway).
SAMPLE_ITEMS = 5000
DESCRIPTIONS = {a.name: a.description for a in HELPSTEER2}


def attributes_seen(
    records: Iterable[Any], *, fmt: str, limit: int = SAMPLE_ITEMS
) -> list[dict[str, Any]]:
    """The attributes the first ``limit`` items' ratings name, in the order first met, each
    ``{"name", "low", "high"}`` with its scale (module doc); [] when no item rates any or a
    scale would not be sensible. Records other than items (errors) are passed over."""
    ranges: dict[str, list[float]] = {}
    seen = 0
    for record in records:
        if not isinstance(record, ParsedItem):
            continue
        for by_position in record.scores.values():
            for values in by_position.values():
                for name, value in values.items():
                    low_high = ranges.setdefault(name, [value, value])
                    low_high[0], low_high[1] = min(low_high[0], value), max(low_high[1], value)
        seen += 1
        if seen >= limit:
            break
    out = []
    for name, (low, high) in ranges.items():
        known = KNOWN_SCALES.get(fmt)
        if known is not None:
            low, high = min(low, known[0]), max(high, known[1])
        whole = float(low).is_integer() and float(high).is_integer()
        if whole:
            low, high = math.floor(low), math.ceil(high)
            if high <= low:
                high = low + 1
            if high - low + 1 > MAX_SCALE_STEPS:
                return []
        elif high <= low:
            return []
        out.append({"name": name, "low": low, "high": high})
    return out


def rating_attributes_adopt(*, batch: ImportBatch) -> list[dict[str, Any]]:
    """Give the batch's project the attributes of the batch's file, when it is a rating
    project with no items yet and the default attributes (module doc). Returns the
    attributes set, also stored on the batch; [] when the project keeps its own."""
    project = batch.project
    if project.label_scheme != Project.LabelScheme.RATING:
        return []
    if scheme_settings_of(project).attributes != HELPSTEER2:
        return []
    if Item.objects.filter(project=project).exists():
        return []
    try:
        stream = open_records(
            batch.stored_path, fmt=batch.fmt, mapping=batch.mapping, display_name=batch.file_name
        )
        try:
            usable = stream.of_items and not stream.is_steps
            found = attributes_seen(stream, fmt=stream.format) if usable else []
        finally:
            stream.close()
    except FormatError:
        return []  # the import itself reports it
    if not found:
        return []
    for attribute in found:
        if attribute["name"] in DESCRIPTIONS:
            attribute["description"] = DESCRIPTIONS[attribute["name"]]
    raw = scheme_settings_of(project).as_json()
    raw.pop("overall")  # the default weights for the new names: helpfulness, or the mean
    raw["attributes"] = found
    try:
        scheme_settings_parse(raw)
    except SchemeSettingsError:
        return []
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if Item.objects.filter(project=locked).exists():
            return []  # another file came first
        project_scheme_settings_update(project=locked, scheme_settings=raw)
        batch.attributes_set = found
        batch.save(update_fields=["attributes_set"])
    project.scheme_settings = locked.scheme_settings
    return found
