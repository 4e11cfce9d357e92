"""The OpenAPI schema is served at /api/schema/ and every endpoint is listed at /api/docs/."""

from __future__ import annotations

from typing import Any


def test_the_schema_and_the_docs_page_list_every_endpoint(client: Any, db: Any) -> None:
    schema = client.get("/api/schema/?format=json").json()
    paths = set(schema["paths"])
    for path in (
        "/api/projects/",
        "/api/projects/{project_id}/pairs/",
        "/api/projects/{project_id}/imports/",
        "/api/projects/{project_id}/votes/",
        "/api/projects/{project_id}/exports/",
        "/api/exports/{snapshot_id}/files/{name}",
        "/api/jobs/{job_id}/cancel/",
        "/api/auth/token/",
    ):
        assert path in paths, path
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert b'id="schema-link"' in page.content
    assert b"/api/projects/{project_id}/exports/" in page.content
