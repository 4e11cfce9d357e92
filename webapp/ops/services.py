"""First-run setup: an admin account and the demo project."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from webapp.imports.models import ImportBatch
from webapp.imports.services import import_batch_create, import_run
from webapp.projects.models import Membership, Project
from webapp.projects.services import membership_set, project_create

DEMO_FILE = Path(__file__).parent / "demo" / "hh-rlhf-test-sample.jsonl.gz"
DEMO_PROJECT = "HH-RLHF demo"
DEMO_GUIDELINES = """Pick the response a careful, helpful and harmless assistant would give.

- **1** / **2**: the left / right response is better; **3**: tie; **4**: both are bad.
- Judge helpfulness first, but a harmful answer is never the better one.
"""


def admin_ensure(*, username: str | None = None, password: str | None = None) -> tuple[str, str]:
    """Create the admin account once. Returns (username, password) when it was just created
    with a generated password (so the caller prints it once), else (username, "")."""
    username = username or os.environ.get("PREFLAB_ADMIN_USER", "admin")
    password = password or os.environ.get("PREFLAB_ADMIN_PASSWORD", "")
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        return username, ""
    generated = not password
    if generated:
        password = secrets.token_urlsafe(12)
    user_model.objects.create_superuser(username=username, email="", password=password)
    return username, password if generated else ""


def demo_load(*, admin_username: str) -> Project:
    """Create the demo project from the bundled HH-RLHF sample; a second call adds nothing."""
    admin = get_user_model().objects.get(username=admin_username)
    with transaction.atomic():
        project = Project.objects.filter(name=DEMO_PROJECT).first()
        if project is None:
            project = project_create(
                name=DEMO_PROJECT,
                created_by=admin,
                description="A sample of Anthropic's HH-RLHF test splits (MIT license).",
                guidelines=DEMO_GUIDELINES,
                votes_per_pair=3,
            )
        membership_set(project=project, user=admin, role=Membership.Role.ADMIN)
    if not project.imports.filter(status=ImportBatch.Status.DONE).exists():
        batch = import_batch_create(
            project=project, path=DEMO_FILE, file_name=DEMO_FILE.name, created_by=admin
        )
        import_run(batch=batch)
    return project
