"""TRL's PRM trainer takes two optimisation steps on a stepwise export, in a venv of its own.

TRL removed its PRM trainer after the 0.24 line, and PrefLab's own environment has a newer
TRL, so this check makes a virtual environment under var/trl-0.24 (once) that installs
trl==0.24.0 alone (``pip install --no-deps``) and sees PrefLab's environment behind it for
everything else (a .pth file). It then exports ProcessBench GSM8K's expert labels in the
stepwise layout (Parquet, standard style, with webapp.exports.steps, the functions a step
export snapshot is written with), and runs bench/trl_prm_check.py there: a 1-layer, 32-wide
token-classification model, two steps on CPU.

Figures: ``rows`` exported, ``trl_steps`` taken (2 when it works), ``trl_final_loss``,
``weights_moved`` (1 or 0) and ``seconds`` for the trainer run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

from bench.real_pairs import DATA, ROOT
from webapp.exports.steps import (
    StepSolution,
    step_schema,
    stepwise_record,
    write_step_split,
)
from webapp.imports.formats import ParsedSteps, open_records
from webapp.pairs.steps import labels_from_first_error

Figures = Callable[[str, float, str], None]

NEEDS_SHARED_DATA = True
VENV = ROOT / "var" / "trl-0.24"
TRL = "trl==0.24.0"


def _venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        # The base interpreter's venv does not see PrefLab's: point it there, behind its own.
        purelib = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        (Path(purelib) / "preflab.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    check = subprocess.run([str(python), "-c", "import trl; print(trl.__version__)"],
                           capture_output=True, text=True)  # fmt: skip
    if check.stdout.strip() != TRL.split("==")[1]:
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--no-deps", TRL], check=True
        )
    return python


def run(figures: Figures) -> None:
    python = _venv()
    with open_records(DATA / "steps" / "processbench-gsm8k.json") as records:
        solutions = [
            StepSolution(
                item_id=i,
                problem=r.problem,
                steps=r.steps,
                labels=labels_from_first_error(len(r.steps), r.first_error),
                label_source="imported",
            )
            for i, r in enumerate(records)
            if isinstance(r, ParsedSteps)
        ]
    folder = ROOT / "var" / "bench-steps-trl"
    folder.mkdir(parents=True, exist_ok=True)
    rows = [r for s in solutions if (r := stepwise_record(s, style="standard")) is not None]
    written = write_step_split(
        rows,
        path=folder / "train.parquet",
        file_format="parquet",
        schema=step_schema(layout="stepwise", style="standard"),
    )
    figures("rows", written.rows, "solutions")
    started = time.perf_counter()
    done = subprocess.run(
        [str(python), str(ROOT / "bench" / "trl_prm_check.py"), str(folder / "train.parquet"),
         str(folder / "out")],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the PRM trainer failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    figures("seconds", time.perf_counter() - started, "s")
    figures("trl_steps", result["steps"], "steps")
    figures("trl_final_loss", result["losses"][-1], "")
    figures("weights_moved", float(result["moved"]), "")
    if result["trl"] != "0.24.0" or result["steps"] != 2 or not result["moved"]:
        raise RuntimeError(f"the PRM trainer did not take two steps: {result}")
