"""Every package of webapp/ imports only the packages before it in ``webapp.stages``.

Imports are read from the source (every ``import`` and ``from ... import``, at the top of a
file or inside a function), so a lazy import cannot hide a step up. Migrations are left out:
they name the models of other apps by design.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from webapp import stages

ROOT = Path(__file__).resolve().parent.parent
KNOWN = (*stages.ORDER, *stages.SURFACES, *stages.ANYWHERE)


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if node.module in ("webapp", "workers"):  # from webapp import stages
                found.extend((node.lineno, f"{node.module}.{a.name}") for a in node.names)
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return [(line, name) for line, name in found if name.split(".")[0] in ("webapp", "workers")]


def _sources() -> list[Path]:
    files = [*ROOT.joinpath("webapp").rglob("*.py"), ROOT / "workers" / "tasks.py"]
    return sorted(p for p in files if "migrations" not in p.parts)


def steps_up() -> list[str]:
    """Each import of a later stage (or of a surface) from a foundation or stage module."""
    found = []
    for path in _sources():
        module = _module_of(path)
        here = stages.rank(module)
        if here is None:
            continue  # a surface, or settings and wiring: they may import any stage
        for line, name in _imports(path):
            if name.startswith(("webapp.stages", *stages.ANYWHERE)):
                continue
            there = stages.rank(name)
            if there is None and name.startswith(stages.SURFACES):
                found.append(f"{path.relative_to(ROOT)}:{line} imports the surface {name}")
            elif there is not None and there > here:
                found.append(f"{path.relative_to(ROOT)}:{line} imports the later stage {name}")
    return found


def test_no_stage_imports_a_later_stage_or_a_surface() -> None:
    assert steps_up() == []


def test_every_package_of_webapp_has_a_place_in_the_order() -> None:
    packages = {f"webapp.{p.name}" for p in ROOT.joinpath("webapp").iterdir() if p.is_dir()}
    packages |= {f"webapp.{p.stem}" for p in ROOT.joinpath("webapp").glob("*.py")}
    packages -= {"webapp.__init__", "webapp.__pycache__"}
    assert sorted(p for p in packages if not p.startswith(KNOWN)) == []


@pytest.mark.parametrize(
    ("module", "imported", "allowed"),
    [
        ("webapp.scoring.services", "webapp.flags.models", True),
        ("webapp.scoring.services", "webapp.review.queue", False),
        ("webapp.pairs.labels", "webapp.labelling.models", False),
        ("webapp.review.queue", "webapp.scoring.selectors", True),
    ],
)
def test_the_rule_itself(module: str, imported: str, allowed: bool) -> None:
    here, there = stages.rank(module), stages.rank(imported)
    assert here is not None and there is not None
    assert (there <= here) is allowed
