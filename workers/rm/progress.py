"""Progress and cancellation hooks shared by the long-running jobs.

Celery tasks pass callables in; this package never knows how progress is shown or stored.
"""

from __future__ import annotations

from collections.abc import Callable

# (done, total): embedding progress in texts.
CountProgress = Callable[[int, int], None]
# (done, total, message): training progress in steps, with a phase message for the UI.
StepProgress = Callable[[int, int, str], None]
# Returns True once the user asked to stop.
CancelCheck = Callable[[], bool]


class Cancelled(Exception):
    """Raised between steps when the cancel check returns True; no partial result is returned."""


def raise_if_cancelled(cancel: CancelCheck | None) -> None:
    if cancel is not None and cancel():
        raise Cancelled("cancelled by request")
