"""workers/rm is pure torch/transformers: it must run where Django is not configured."""

from __future__ import annotations

import ast
from pathlib import Path

import workers.rm

PACKAGE = Path(workers.rm.__file__).resolve().parent


def _imported(path: Path, tree: ast.AST) -> list[str]:
    """The absolute names of the modules a file of the package imports, relative ones resolved."""
    package = ["workers", "rm", *path.relative_to(PACKAGE).parent.parts]  # the file's package
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            names.append(".".join([*base, *filter(None, [node.module])]))
    return names


def test_no_module_imports_django_or_webapp_or_leaves_the_package() -> None:
    paths = sorted(PACKAGE.rglob("*.py"))
    assert len(paths) > 5
    assert any(p.parent != PACKAGE for p in paths)  # the subpackages (checks/) are read too
    offenders = []
    for path in paths:
        for name in _imported(path, ast.parse(path.read_text(encoding="utf-8"))):
            top = name.split(".")[0]
            outside = top == "workers" and not (name + ".").startswith("workers.rm.")
            if top in ("django", "webapp") or outside:
                offenders.append(f"{path.relative_to(PACKAGE)}: {name}")
    assert offenders == []
