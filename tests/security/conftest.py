from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.security.hostile import Stored
from tests.security.route_access import World, world_make


@pytest.fixture
def stored(project: Any, tmp_path: Path) -> Stored:
    return Stored(project, tmp_path)


@pytest.fixture
def world(db: Any, tmp_path: Path) -> World:
    """Two projects (ours, with a member of each role, and a stranger's), a steps project with
    the same members, and one of every object the routes take."""
    return world_make(tmp_path)
