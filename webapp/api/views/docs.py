"""The page at /api/docs/ that lists every endpoint."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.generators import SchemaGenerator


def docs(request: HttpRequest) -> HttpResponse:
    """A page that lists every endpoint, from the same schema as /api/schema/."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": (op.get("description") or "").split("\n\n")[0],
            "tag": (op.get("tags") or [""])[0],
        }
        for path, item in schema.get("paths", {}).items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    return render(request, "api/docs.html", {"operations": operations, "info": schema["info"]})
