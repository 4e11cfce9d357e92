"""The order of PrefLab's parts: each package may import only the ones listed before it.

Data flows import -> pairs in PostgreSQL -> votes / scores / checks -> flags -> review ->
training -> exports. The code follows that order, so a reader can take the packages one at
a time from the top and never meet a name from further down.

- FOUNDATION is what every stage stands on: live progress, the database backend, projects and
  their members, the Job row of long tasks.
- STAGES are the pipeline. Two of them are sinks that later stages write into in their own
  final transaction: ``flags`` (every finding about a pair, whatever raised it) and
  ``registry`` (every saved reward model: training registers them, scoring and judges use
  them). A producer writing its results there is not calling its consumer; a consumer's work
  after a job (rebuild the review queue, ask for more votes) is in ``webapp/pipeline.py``.
- SURFACES sit on top and may import any stage: pages that show several stages at once, the
  API, operations, the follow-up steps, the URL and WebSocket routes, the Celery tasks.

The pipeline loops through data, never through imports: review decisions change the labels
that the next scoring run reads (``webapp/pairs/labels.py`` reads the review stage's table by
its registered model name), and registered models vote in the next scoring run.
``tests/test_stages_only_import_earlier_ones.py`` holds the tree to this order.
"""

from __future__ import annotations

FOUNDATION = (
    "webapp.realtime",
    "webapp.dbbackend",
    "webapp.projects",
    "webapp.jobs",
)

STAGES = (
    "webapp.pairs",
    "webapp.labelling",
    "webapp.imports",
    "webapp.flags",
    "webapp.registry",
    "webapp.scoring",
    "webapp.checks",
    "webapp.judges",
    "webapp.benchmarks",
    "webapp.review",
    "webapp.training",
    "webapp.exports",
)

SURFACES = (
    "webapp.home",
    "webapp.api",
    "webapp.ops",
    "webapp.pipeline",
    "webapp.urls",
    "webapp.routing",
    "webapp.asgi",
    "workers.tasks",
)

# Modules every package may import: settings and the process's own wiring.
ANYWHERE = ("webapp.settings", "webapp.celery", "webapp.embedded", "webapp.stages", "workers.rm")

ORDER = FOUNDATION + STAGES


def rank(module: str) -> int | None:
    """The place of the package holding ``module`` in ORDER; None for surfaces and the
    modules every package may import."""
    for i, package in enumerate(ORDER):
        if module == package or module.startswith(package + "."):
            return i
    return None
