from __future__ import annotations

from dataclasses import asdict

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from webapp.ops.health import health_checks


@login_required
def health(request: HttpRequest) -> HttpResponse:
    checks = health_checks()
    ok = all(c.ok for c in checks)
    if request.GET.get("format") == "json":
        return JsonResponse(
            {"ok": ok, "checks": [asdict(c) for c in checks]}, status=200 if ok else 503
        )
    return render(request, "ops/health.html", {"checks": checks, "ok": ok})
