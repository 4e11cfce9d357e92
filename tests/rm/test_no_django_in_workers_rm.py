"""workers/rm is pure torch/transformers: it must run where Django is not configured."""

from __future__ import annotations

import ast
from pathlib import Path

import workers.rm

PACKAGE = Path(workers.rm.__file__).resolve().parent


def test_no_module_imports_django_or_webapp() -> None:
    offenders = []
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            offenders += [
                f"{path.name}: {name}"
                for name in names
                if name.split(".")[0] in ("django", "webapp")
            ]
    assert len(list(PACKAGE.glob("*.py"))) > 5
    assert offenders == []
