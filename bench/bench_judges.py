"""LLM judges against people on two real sets, through the judges stage's own import and report:

  llmfao   LLMFAO's 8,931 crowd judgments (124 workers, 2,139 pairs; CC BY 4.0, Dmitry
           Ustalov), its GPT-4 and GPT-3 verdicts as judges
  pandalm  PandaLM's human-annotated test set (three annotators a pair), its GPT-3.5 and
           PandaLM-7B verdicts as judges

Figures ``<set>.<judge>.kappa`` (Cohen's kappa with the people's majority; "tie" is a third
answer, and LLMFAO's crowd says tie on four votes in ten), ``.kappa_lo`` / ``.kappa_hi`` (95%
bootstrap interval), ``.agreement`` and ``.longer_share`` (how often it prefers the longer
response; ``<set>.people.longer_share`` beside it), and ``<set>.people.kappa``: the mean
kappa of two annotators with each other, the bar a judge must clear to be "one more person".
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.db import bench_database
from bench.real_pairs import DATA

Figures = Callable[[str, float, str], None]
NEEDS_SHARED_DATA = True


def _report(figures: Figures, key: str, data: dict[str, Any]) -> None:
    figures(f"{key}.people.kappa", data["humans"]["mean_kappa"], "kappa")
    for judge in data["judges"]:
        name = judge["name"].lower().replace(" ", "_")
        overall = judge["overall"]
        figures(f"{key}.{name}.kappa", overall["kappa"], "kappa")
        figures(f"{key}.{name}.kappa_lo", overall["kappa_interval"][0], "kappa")
        figures(f"{key}.{name}.kappa_hi", overall["kappa_interval"][1], "kappa")
        figures(f"{key}.{name}.agreement", overall["agreement"], "share")
        figures(f"{key}.{name}.longer_share", judge["length"]["judge"]["share"], "share")
        figures(f"{key}.{name}.n", overall["n"], "pairs")
    people = data["judges"][0]["length"]["people"]["share"]
    figures(f"{key}.people.longer_share", people, "share")


def run(figures: Figures) -> None:
    from django.core.management import call_command

    from webapp.judges.llmfao import llmfao_convert
    from webapp.judges.models import Judge
    from webapp.judges.report import judges_measure
    from webapp.judges.services import judge_create, verdicts_import
    from webapp.projects.models import Project

    with bench_database(), tempfile.TemporaryDirectory() as work:
        pairs, verdicts = llmfao_convert(folder=DATA / "crowd", out=Path(work))
        call_command("import_pairs", str(pairs), project="llmfao", format="pandalm", verbosity=0)
        llmfao = Project.objects.get(name="llmfao")
        for name, path in verdicts.items():
            judge = judge_create(project=llmfao, name=name, source=Judge.Source.VERDICTS)
            verdicts_import(judge=judge, path=path, file_name=path.name)
        _report(figures, "llmfao", judges_measure(project=llmfao).data)

        test_set = DATA / "pandalm" / "testset-v1.json"
        call_command(
            "import_pairs", str(test_set), project="pandalm", format="pandalm", verbosity=0
        )
        pandalm = Project.objects.get(name="pandalm")
        for name, file in (("GPT-3.5", "gpt-3.5-turbo"), ("PandaLM-7B", "pandalm-7b")):
            path = DATA / "pandalm" / f"{file}-testset-v1.json"
            judge = judge_create(project=pandalm, name=name, source=Judge.Source.VERDICTS)
            summary = verdicts_import(judge=judge, path=path, file_name=path.name)
            figures(f"pandalm.{name.lower()}.unreadable", summary["rejected"], "verdicts")
        _report(figures, "pandalm", judges_measure(project=pandalm).data)
