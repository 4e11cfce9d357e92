from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.security.hostile import Stored


@pytest.fixture
def stored(project: Any, tmp_path: Path) -> Stored:
    return Stored(project, tmp_path)
