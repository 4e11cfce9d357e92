"""``python -m bench [NAME...]``: run benchmarks and record their figures.

A benchmark is a module ``bench/bench_<name>.py`` with ``run(figures)``, where
``figures(name, value, unit)`` records one figure. With no NAME every benchmark runs, in name
order. Each figure is printed as ``<benchmark>.<figure>: <value> <unit>`` as soon as it is
measured, and kept in bench/results.json as ``{benchmark: {figure: {value, unit, measured_at}}}``
(figures not measured this time keep their older values). A module that sets
``NEEDS_SHARED_DATA = True`` is skipped when ../shared/data is missing. A benchmark that
raises prints ``<benchmark>.error: <message>``, the others still run, and the exit status is 1.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
import os
import pkgutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
RESULTS = BENCH_DIR / "results.json"
PREFIX = "bench_"

Figures = Callable[[str, float, str], None]


def available() -> list[str]:
    return sorted(
        m.name.removeprefix(PREFIX)
        for m in pkgutil.iter_modules([str(BENCH_DIR)])
        if m.name.startswith(PREFIX)
    )


def show(value: float) -> str:
    """4 significant digits, without exponents for the large numbers benchmarks report."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) or abs(value) >= 1000:
        return f"{value:.0f}"
    return f"{value:.4g}"


def load_results() -> dict[str, dict[str, Any]]:
    try:
        results = json.loads(RESULTS.read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return results if isinstance(results, dict) else {}


def save_results(name: str, measured: dict[str, dict[str, Any]]) -> None:
    if not measured:
        return
    results = load_results()
    results.setdefault(name, {}).update(measured)
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, RESULTS)


def run_one(name: str) -> bool:
    """Run one benchmark; False if it failed."""
    measured: dict[str, dict[str, Any]] = {}

    def figures(figure: str, value: float, unit: str) -> None:
        value = float(value)
        print(f"{name}.{figure}: {show(value)} {unit}".rstrip(), flush=True)
        measured[figure] = {
            "value": value,
            "unit": unit,
            "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }

    try:
        module = importlib.import_module(f"bench.{PREFIX}{name}")
        if getattr(module, "NEEDS_SHARED_DATA", False) and not SHARED_DATA.is_dir():
            print(f"{name}.skipped: shared data not found", flush=True)
            return True
        module.run(figures)
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"{name}.error: {type(exc).__name__}: {message}".rstrip(": "), flush=True)
        return False
    finally:
        save_results(name, measured)
    return True


def main(argv: list[str]) -> int:
    names = available()
    chosen = argv or names
    unknown = [n for n in chosen if n not in names]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(names)}",
            file=sys.stderr,
        )
        return 2
    from bench.db import django_setup

    # Before any benchmark imports Django code: settings must load aimed at the bench database.
    django_setup()
    failed = [name for name in chosen if not run_one(name)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
